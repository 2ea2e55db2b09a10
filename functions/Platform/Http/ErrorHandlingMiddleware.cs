using System.Text.Json;
using Azure;
using BusinessApi.Platform.Secrets;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Platform.Http;

/// <summary>
/// Turns every failure into a problem-details answer: unreadable requests (malformed JSON, too large,
/// wrong media type), storage outages (503, retryable) and bugs (500 with the request id, no internals).
/// </summary>
public sealed partial class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nobody is left to answer.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            var problem = Classify(ex);
            // The route template, never the raw path: paths carry IBANs and ids that must not reach logs.
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
            if (problem.Type == PlatformProblems.StorageUnavailable)
            {
                // An outage answers every request so: one line each, without a stack trace that says nothing new.
                LogStorageUnavailable(logger, context.Request.Method, route, ReasonOf(ex));
            }
            else if (problem.Type.Status >= 500)
            {
                LogFailure(logger, problem.Type.Code, context.Request.Method, route, ex);
            }

            context.Response.Clear();
            if (problem.Type == PlatformProblems.StorageUnavailable)
            {
                context.Response.Headers.RetryAfter = "5";
            }
            else if (ex is ServiceBusyException busy)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(busy.RetryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await ProblemWriter.WriteAsync(context, problem);
        }
    }

    private static ApiProblem Classify(Exception ex) => ex switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            new ApiProblem(PlatformProblems.PayloadTooLarge),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
            new ApiProblem(PlatformProblems.UnsupportedMediaType),
        BadHttpRequestException { InnerException: JsonException json } =>
            ApiProblem.Of(PlatformProblems.MalformedJson, string.IsNullOrEmpty(json.Path) ? "$" : json.Path),
        BadHttpRequestException { StatusCode: var status } when status is >= 400 and < 500 =>
            new ApiProblem(PlatformProblems.ForStatus(status)),
        _ when StorageFaults.IsTransient(ex) => new ApiProblem(PlatformProblems.StorageUnavailable),
        SecretNotFoundException => new ApiProblem(PlatformProblems.InternalError),
        ServiceBusyException => new ApiProblem(PlatformProblems.ServiceBusy),
        _ => new ApiProblem(PlatformProblems.InternalError),
    };

    /// <summary>What failed, without a message that may carry a storage answer's content.</summary>
    private static string ReasonOf(Exception ex) => ex switch
    {
        RequestFailedException failed => $"storage answered {failed.Status} {failed.ErrorCode}",
        AggregateException all => string.Join("; ", all.Flatten().InnerExceptions.Select(ReasonOf).Distinct()),
        OperationCanceledException => "a storage call timed out",
        _ => ex.GetType().Name,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage unavailable: {Method} {Route} answered 503 ({Reason})")]
    private static partial void LogStorageUnavailable(ILogger logger, string method, string route, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Request failed with {ProblemCode}: {Method} {Route}")]
    private static partial void LogFailure(ILogger logger, string problemCode, string method, string route, Exception exception);
}

/// <summary>A bounded queue of costly work is full: the request did nothing and may be retried after <see cref="RetryAfter"/> (503).</summary>
public sealed class ServiceBusyException(TimeSpan retryAfter) : Exception("The service is busy; retry later.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

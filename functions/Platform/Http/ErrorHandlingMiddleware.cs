using System.Text.Json;
using Azure;
using BusinessApi.Platform.Secrets;

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
            if (problem.Type.Status >= 500)
            {
                // The route template, never the raw path: paths carry IBANs and ids that must not reach logs.
                var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";
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
        // A storage call that failed, or timed out (the SDK cancels a call past its network timeout; the caller is still
        // there), or all of the SDK's tries of one (it throws them together once its retries are spent).
        _ when IsStorageFault(ex) => new ApiProblem(PlatformProblems.StorageUnavailable),
        AggregateException all when all.Flatten().InnerExceptions is { Count: > 0 } inner && inner.All(IsStorageFault) =>
            new ApiProblem(PlatformProblems.StorageUnavailable),
        SecretNotFoundException => new ApiProblem(PlatformProblems.InternalError),
        ServiceBusyException => new ApiProblem(PlatformProblems.ServiceBusy),
        _ => new ApiProblem(PlatformProblems.InternalError),
    };

    private static bool IsStorageFault(Exception ex) => ex is RequestFailedException or TimeoutException or HttpRequestException or OperationCanceledException;

    [LoggerMessage(Level = LogLevel.Error, Message = "Request failed with {ProblemCode}: {Method} {Route}")]
    private static partial void LogFailure(ILogger logger, string problemCode, string method, string route, Exception exception);
}

/// <summary>A bounded queue of costly work is full: the request did nothing and may be retried after <see cref="RetryAfter"/> (503).</summary>
public sealed class ServiceBusyException(TimeSpan retryAfter) : Exception("The service is busy; retry later.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

using System.Text.RegularExpressions;

namespace BusinessApi.Platform.Http;

/// <summary>
/// Gives every request an id: the caller's <c>X-Request-Id</c> when it is well formed, else a new one.
/// It is echoed in the answer, put in every problem, every log line of the request and the audit journal.
/// </summary>
public sealed partial class RequestIdMiddleware(RequestDelegate next, ILogger<RequestIdMiddleware> logger, TimeProvider time)
{
    public const string HeaderName = "X-Request-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var supplied = context.Request.Headers[HeaderName].ToString();
        var requestId = WellFormed().IsMatch(supplied) ? supplied : Guid.CreateVersion7(time.GetUtcNow()).ToString("N");
        context.TraceIdentifier = requestId;
        // The id an integrator quotes finds the request's trace in Application Insights.
        System.Diagnostics.Activity.Current?.SetTag("request.id", requestId);
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[HeaderName] = requestId;
            context.Response.Headers.XContentTypeOptions = "nosniff";
            if (!context.Response.Headers.ContainsKey("Cache-Control"))
            {
                context.Response.Headers.CacheControl = "no-store";
            }

            return Task.CompletedTask;
        });
        using (logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = requestId }))
        {
            await next(context);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex WellFormed();
}

using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Http;

/// <summary>The API's own limits on a request's target, headers and declared body (<c>Http:*</c>).</summary>
public sealed class RequestLimitsOptions
{
    /// <summary>Path and query together, in bytes as sent.</summary>
    public int MaxRequestTargetBytes { get; set; } = 8 * 1024;

    /// <summary>All header names and values together.</summary>
    public int MaxRequestHeaderBytes { get; set; } = 32 * 1024;
}

/// <summary>
/// Refuses, with a problem, a request past the API's limits before anything reads it: a target longer than
/// <see cref="RequestLimitsOptions.MaxRequestTargetBytes"/> (414), headers past <see cref="RequestLimitsOptions.MaxRequestHeaderBytes"/>
/// (431), a body whose declared length is past <c>Http:MaxRequestBodyBytes</c> (413, before a byte of it is asked for, so a
/// client waiting on <c>Expect: 100-continue</c> reads the refusal instead of sending the body into a closed connection).
/// Kestrel's own limits are set above these (twice), so only what is far past them meets its bare answers.
/// </summary>
public sealed class RequestLimitsMiddleware(RequestDelegate next, IOptions<RequestLimitsOptions> options, IConfiguration configuration)
{
    private readonly long _maxBody = configuration.GetValue<long?>(PlatformExtensions.HttpSection + ":MaxRequestBodyBytes") ?? PlatformExtensions.DefaultMaxRequestBodyBytes;

    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var limits = options.Value;
        var request = context.Request;
        ProblemType? refused = null;
        if (System.Text.Encoding.UTF8.GetByteCount(request.Path.ToUriComponent()) + System.Text.Encoding.UTF8.GetByteCount(request.QueryString.ToUriComponent()) > limits.MaxRequestTargetBytes)
        {
            refused = PlatformProblems.UriTooLong;
        }
        else if (HeaderBytes(request.Headers) > limits.MaxRequestHeaderBytes)
        {
            refused = PlatformProblems.HeadersTooLarge;
        }
        else if (request.ContentLength > _maxBody)
        {
            refused = PlatformProblems.PayloadTooLarge;
        }

        if (refused is null)
        {
            return next(context);
        }

        // The body is left unread: the connection is not kept for another request.
        context.Response.Headers.Connection = "close";
        return ProblemWriter.WriteAsync(context, new ApiProblem(refused));
    }

    private static long HeaderBytes(IHeaderDictionary headers)
    {
        long total = 0;
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                total += name.Length + (value?.Length ?? 0) + 4;
            }
        }

        return total;
    }
}

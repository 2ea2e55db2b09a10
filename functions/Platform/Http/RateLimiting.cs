using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;

namespace BusinessApi.Platform.Http;

public sealed class RateLimitOptions
{
    public const string Section = "Http:RateLimiting";

    /// <summary>Sustained requests per second per caller.</summary>
    public int PermitsPerSecond { get; set; } = 100;

    /// <summary>Requests a caller may make at once above the sustained rate.</summary>
    public int Burst { get; set; } = 200;
}

/// <summary>
/// A token bucket per caller: the authenticated identity when there is one, else the client address.
/// Rejections are 429 problems with <c>Retry-After</c>. The buckets are per process; with N replicas a
/// caller's ceiling is at most N times the setting.
/// </summary>
public static class RateLimiting
{
    public static IServiceCollection AddPlatformRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                RateLimitPartition.GetTokenBucketLimiter(CallerKey(context), _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = Math.Max(1, settings.Burst),
                    TokensPerPeriod = Math.Max(1, settings.PermitsPerSecond),
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));
            limiter.OnRejected = async (rejected, _) =>
            {
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
                    ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
                    : 1;
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await ProblemWriter.WriteAsync(rejected.HttpContext, ApiProblem.Of(PlatformProblems.RateLimited, seconds));
            };
        });
        return services;
    }

    private static string CallerKey(HttpContext context) =>
        context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { } caller
            ? "id:" + caller
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
}

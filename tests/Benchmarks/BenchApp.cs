using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Benchmarks;

/// <summary>The real app in this process for a benchmark: Kestrel on a free loopback port, its own table prefix, no rate limits.</summary>
internal static class BenchApp
{
    /// <summary>Settings every benchmarked app gets on top of its own (e.g. <c>--telemetry</c> turns tracing on).</summary>
    public static List<string> CommonSettings { get; } = [];

    public static WebApplication Create(string connectionString, string prefix, string operatorKey, IEnumerable<string>? extra = null, Action<WebApplicationBuilder>? configure = null) =>
        BusinessApi.Testing.InstrumentedApp.Create(
            [
                "--urls=http://127.0.0.1:0",
                $"--AzureWebJobsStorage={connectionString}",
                $"--Storage:TablePrefix={prefix}",
                $"--Secrets:LocalPath={Path.Combine(Path.GetTempPath(), "business-api-bench", prefix, "secrets.json")}",
                "--Logging:LogLevel:Default=Warning",
                $"--Operations:ApiKeys={operatorKey}",
                "--Operations:AllowStaticKeys=true", // the benchmarks act as the break-glass operator
                "--Operations:FourEyes=false",
                "--Http:RateLimiting:PermitsPerSecond=1000000",
                "--Http:RateLimiting:Burst=1000000",
                .. extra ?? [],
                .. CommonSettings,
            ],
            configure,
            includeLocalSettings: false);

    /// <summary>
    /// Settings that turn off the app's scheduled jobs (an empty schedule), so a run that counts storage calls counts
    /// only its own, not a job's that happens to fire on a minute mark meanwhile.
    /// </summary>
    public static IEnumerable<string> TimersOff() =>
        new[] { "credential-inactivity", "user-inactivity", "notice-deadlines", "document-deadlines", "idempotency-purge", "audit-anchor", "crl-refresh" }
            .Select(job => $"--Timers:{job}:Schedule=");

    public static Uri AddressOf(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
}

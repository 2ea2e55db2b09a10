using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Azure;

namespace BusinessApi.Testing;

/// <summary>
/// Test machinery, never in the app: sits in every Azure client's pipeline of a test or benchmark host,
/// counts storage calls (per-instance call budgets are measured with it) and, for crash tests, injects
/// faults before a chosen call — an exception, or the process killing itself (SIGKILL) as a real crash
/// would, between any two storage calls. Only the test hosts register it (<see cref="StorageCallMonitorExtensions"/>).
/// </summary>
public sealed class StorageCallMonitor : HttpPipelinePolicy
{
    private long _calls;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _kinds = new(StringComparer.Ordinal);

    /// <summary>Counts calls by kind as well (<see cref="Kinds"/>): benchmarks print where the calls of an operation go.</summary>
    public bool CountKinds { get; set; }

    /// <summary>Calls so far by kind ("POST table Documents $batch", "PUT blob archive"), when <see cref="CountKinds"/> is on.</summary>
    public IReadOnlyDictionary<string, long> Kinds => new Dictionary<string, long>(_kinds, StringComparer.Ordinal);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _kindTicks = new(StringComparer.Ordinal);

    /// <summary>Time spent waiting for calls so far by kind (Stopwatch ticks, retries included), when <see cref="CountKinds"/> is on.</summary>
    public IReadOnlyDictionary<string, long> KindTicks => new Dictionary<string, long>(_kindTicks, StringComparer.Ordinal);

    /// <summary>A plan consulted before each call (tests set it; null means none).</summary>
    public Func<StorageCall, StorageFault>? Plan { get; set; }

    /// <summary>Told of each call's answer (its HTTP status) when it comes (tests set it; null means none).</summary>
    public Action<StorageCall, int>? Answered { get; set; }

    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Reads <c>Faults:*</c>; faults are injected only with <c>Faults:Enabled=true</c> (crash tests).</summary>
    public static StorageCallMonitor FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var monitor = new StorageCallMonitor { CountKinds = true, KindPrefix = configuration["Storage:TablePrefix"] ?? "" };
        var section = configuration.GetSection("Faults");
        if (!section.GetValue<bool>("Enabled"))
        {
            return monitor;
        }

        var killAfter = section.GetValue<long?>("KillAfterCalls") ?? 0;
        var killProbability = section.GetValue<double?>("KillProbability") ?? 0;
        var throwProbability = section.GetValue<double?>("ThrowProbability") ?? 0;
        var only = section["UriContains"];
        monitor.Plan = call =>
        {
            if (only is { Length: > 0 } && !call.Uri.Contains(only, StringComparison.Ordinal))
            {
                return StorageFault.None;
            }

            if ((killAfter > 0 && call.Number >= killAfter) || (killProbability > 0 && Random.Shared.NextDouble() < killProbability))
            {
                return StorageFault.Kill;
            }

            return throwProbability > 0 && Random.Shared.NextDouble() < throwProbability ? StorageFault.Throw : StorageFault.None;
        };
        return monitor;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var (fault, call) = Before(message);
        var started = Stopwatch.GetTimestamp();
        ProcessNext(message, pipeline);
        After(fault, call, message, started);
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var (fault, call) = Before(message);
        var started = Stopwatch.GetTimestamp();
        await ProcessNextAsync(message, pipeline);
        After(fault, call, message, started);
    }

    /// <summary>Tells who asked of the answer; then, for a lost answer, the call reached storage and took effect, but its answer is lost, as on a dropped connection.</summary>
    private void After(StorageFault fault, StorageCall call, HttpMessage message, long started)
    {
        if (CountKinds)
        {
            var elapsed = Stopwatch.GetTimestamp() - started;
            _kindTicks.AddOrUpdate(call.Kind, elapsed, (_, t) => t + elapsed);
        }

        if (message.HasResponse)
        {
            Answered?.Invoke(call, message.Response.Status);
        }

        if (fault == StorageFault.LoseResponse)
        {
            throw new RequestFailedException(0, string.Create(CultureInfo.InvariantCulture, $"Injected loss of the response to storage call {call.Number}."));
        }
    }

    /// <summary>The host's storage prefix (<c>Storage:TablePrefix</c>), left out of the kinds.</summary>
    public string KindPrefix { get; set; } = "";

    /// <summary>"GET table Documents point" and the like: the method, the service, the resource without the prefix or keys, the kind of call.</summary>
    private string KindOf(Request request)
    {
        var path = request.Uri.ToUri().AbsolutePath;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        // Azurite's paths start with the account name; Azure's do not.
        var resource = segments.Length > 1 && segments[0] == "devstoreaccount1" ? segments[1] : segments.FirstOrDefault() ?? "";
        var keyed = resource.IndexOf('(', StringComparison.Ordinal);
        var kind = resource == "$batch" ? "batch" : keyed < 0 ? "" : resource.EndsWith("()", StringComparison.Ordinal) ? "query" : "point";
        if (kind == "batch" && request.Content is { } content)
        {
            // A transaction's table is named in its first change set's first request line.
            using var body = new MemoryStream();
            content.WriteTo(body, CancellationToken.None);
            var text = System.Text.Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)Math.Min(body.Length, 4096));
            var match = System.Text.RegularExpressions.Regex.Match(text, @"(?:POST|PUT|PATCH|DELETE|MERGE) https?://[^ ]*?/([A-Za-z0-9]+)[( ]");
            resource = match.Success ? match.Groups[1].Value : resource;
        }

        resource = keyed >= 0 ? resource[..keyed] : resource;
        if (KindPrefix.Length > 0 && resource.StartsWith(KindPrefix, StringComparison.OrdinalIgnoreCase))
        {
            resource = resource[KindPrefix.Length..];
        }

        var service = request.Headers.Contains("DataServiceVersion") ? "table" : path.EndsWith("/messages", StringComparison.Ordinal) || path.Contains("/messages/", StringComparison.Ordinal) ? "queue" : "blob";
        return $"{request.Method} {service} {resource}{(kind.Length > 0 ? " " + kind : "")}";
    }

    private (StorageFault Fault, StorageCall Call) Before(HttpMessage message)
    {
        var number = Interlocked.Increment(ref _calls);
        var kind = CountKinds || Plan is not null || Answered is not null ? KindOf(message.Request) : "";
        if (CountKinds)
        {
            _kinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }

        var call = new StorageCall(number, message.Request.Method.ToString(), message.Request.Uri.ToString()) { Retry = message.ProcessingContext.RetryNumber, Kind = kind };
        var fault = Plan?.Invoke(call) ?? StorageFault.None;
        switch (fault)
        {
            case StorageFault.Kill:
                using (var self = System.Diagnostics.Process.GetCurrentProcess())
                {
                    self.Kill();
                }

                throw new UnreachableException();
            case StorageFault.Throw:
                throw new InjectedFaultException(string.Create(CultureInfo.InvariantCulture, $"Injected fault before storage call {number}."));
        }

        return (fault, call);
    }
}

public sealed record StorageCall(long Number, string Method, string Uri)
{
    /// <summary>0 for a request's first try, then 1, 2, … for the client's retries of the same request.</summary>
    public int Retry { get; init; }

    /// <summary>"POST table AuditJournal batch" and the like: the method, the service, the table (a transaction's too) or container, the kind of call.</summary>
    public string Kind { get; init; } = "";
}

public enum StorageFault
{
    None,
    Throw,
    Kill,

    /// <summary>Let the call happen, then throw as if the connection dropped before the answer came.</summary>
    LoseResponse,
}

/// <summary>A fault injected by a crash test: the work in progress stops here as if the process died.</summary>
public sealed class InjectedFaultException(string message) : Exception(message);

public static class StorageCallMonitorExtensions
{
    /// <summary>
    /// Puts a <see cref="StorageCallMonitor"/> (from <c>Faults:*</c>) into every Azure client's pipeline and
    /// registers it, so a test can count calls or set a plan. The app's own composition never does this.
    /// </summary>
    public static IServiceCollection AddStorageCallMonitor(this IServiceCollection services, IConfiguration configuration)
    {
        var monitor = StorageCallMonitor.FromConfiguration(configuration);
        services.AddSingleton(monitor);
        services.AddAzureClients(clients => clients.ConfigureDefaults(options => options.AddPolicy(monitor, HttpPipelinePosition.PerRetry)));
        return services;
    }
}

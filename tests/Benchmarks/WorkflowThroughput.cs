using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using BusinessApi.WorkflowHost;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Benchmarks;

/// <summary>
/// 3-step workflow instances through the real engine on Azurite: started by N concurrent callers,
/// completed in-process. Reports instances per second, start-to-completion latency and storage calls
/// per instance (counted by the storage pipeline policy).
/// </summary>
public sealed class WorkflowThroughput(string connectionString, int concurrency, int instances)
{
    public async Task<WorkflowFigures> MeasureAsync(CancellationToken cancellationToken = default)
    {
        var prefix = "b" + Guid.NewGuid().ToString("N")[..10];
        var observer = new CompletionObserver();
        var app = BusinessApi.Testing.InstrumentedApp.Create(
            [
                "--urls=http://127.0.0.1:0",
                $"--AzureWebJobsStorage={connectionString}",
                $"--Storage:TablePrefix={prefix}",
                "--Logging:LogLevel:Default=Warning",
                $"--Operations:ApiKeys={new string('b', 40)}",
                "--Operations:AllowStaticKeys=true", // the benchmarks act as the break-glass operator
                "--Operations:FourEyes=false",
            ],
            builder =>
            {
                builder.Services.AddSampleWorkflows();
                builder.Services.AddSingleton<IWorkflowObserver>(observer);
            },
            includeLocalSettings: false);
        await app.StartAsync(cancellationToken);
        try
        {
            var engine = app.Services.GetRequiredService<WorkflowEngine>();
            var workflow = app.Services.GetRequiredService<ThreeStepWorkflow>();
            var monitor = app.Services.GetRequiredService<StorageCallMonitor>();

            // Warm up the clients and the JIT outside the measurement.
            await RunAsync(engine, workflow, observer, "warm", Math.Min(200, instances), cancellationToken);
            observer.Clear();

            var callsBefore = monitor.Calls;
            var clock = Stopwatch.StartNew();
            var latencies = await RunAsync(engine, workflow, observer, "run", instances, cancellationToken);
            var elapsed = clock.Elapsed;
            var calls = monitor.Calls - callsBefore;
            latencies.Sort();
            return new WorkflowFigures(
                instances,
                elapsed,
                (double)calls / instances,
                latencies[(int)Math.Ceiling(0.50 * latencies.Count) - 1],
                latencies[(int)Math.Ceiling(0.99 * latencies.Count) - 1]);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    private async Task<List<double>> RunAsync(WorkflowEngine engine, ThreeStepWorkflow workflow, CompletionObserver observer, string tag, int count, CancellationToken cancellationToken)
    {
        var started = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var id = $"{tag}-{i.ToString(CultureInfo.InvariantCulture)}";
            started[id] = Stopwatch.GetTimestamp();
            await engine.StartAsync(workflow, Samples.Location(id), id, new CounterData(0, RecordEffects: false), cancellationToken: ct);
        });
        try
        {
            await observer.WaitForAsync(count, TimeSpan.FromMinutes(5), cancellationToken);
        }
        catch (TimeoutException timeout)
        {
            // Say where the stragglers stand, so a stall can be told from a parked (faulted) instance or a missed notification.
            var missing = started.Keys.Where(id => !observer.HasCompleted(id)).Take(5).ToList();
            var states = await Task.WhenAll(missing.Select(async id =>
                (await engine.GetAsync(Samples.Location(id), cancellationToken)) is { } snapshot
                    ? $"{id}: {snapshot.Status} in {snapshot.State}, attempts {snapshot.Attempts}, last error: {snapshot.LastError}"
                    : $"{id}: not found"));
            throw new TimeoutException($"{timeout.Message} Stragglers: {string.Join("; ", states)}", timeout);
        }

        return [.. started.Select(s => Stopwatch.GetElapsedTime(s.Value, observer.CompletedAt(s.Key)).TotalMilliseconds)];
    }

    private sealed class CompletionObserver : IWorkflowObserver
    {
        private readonly ConcurrentDictionary<string, long> _completed = new(StringComparer.Ordinal);

        public void OnTransition(WorkflowTransition transition)
        {
            if (transition.Status == WorkflowStatus.Completed)
            {
                _completed.TryAdd(transition.InstanceId, Stopwatch.GetTimestamp());
            }
        }

        public long CompletedAt(string instanceId) => _completed[instanceId];

        public bool HasCompleted(string instanceId) => _completed.ContainsKey(instanceId);

        public void Clear() => _completed.Clear();

        public async Task WaitForAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var limit = Stopwatch.StartNew();
            while (_completed.Count < count)
            {
                if (limit.Elapsed > timeout)
                {
                    throw new TimeoutException($"{_completed.Count} of {count} instances completed.");
                }

                await Task.Delay(5, cancellationToken);
            }
        }
    }
}

public sealed record WorkflowFigures(int Instances, TimeSpan Elapsed, double StorageCallsPerInstance, double P50Ms, double P99Ms)
{
    public double PerSecond => Instances / Elapsed.TotalSeconds;
}

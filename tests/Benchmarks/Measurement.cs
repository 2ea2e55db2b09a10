using System.Diagnostics;
using System.Globalization;

namespace BusinessApi.Benchmarks;

/// <summary>One measured rate: operations (or entities) per second and per-call latency percentiles.</summary>
public sealed record Measurement(string Name, string Unit, long Operations, long Calls, TimeSpan Elapsed, double P50Ms, double P99Ms)
{
    public double PerSecond => Operations / Elapsed.TotalSeconds;

    public string Row(Measurement? baseline = null) => string.Create(CultureInfo.InvariantCulture,
        $"| {Name,-40} | {PerSecond,10:N0} {Unit,-10} | {P50Ms,8:F2} | {P99Ms,8:F2} | {Calls,8:N0} |{(baseline is null ? "" : $" {PerSecond / baseline.PerSecond,6:F2}x |")}");

    public const string Header = "| what                                     |        rate           | p50 (ms) | p99 (ms) |    calls |";
    public const string Rule = "|------------------------------------------|-----------------------|----------|----------|----------|";
}

/// <summary>Runs an operation from N concurrent callers for a fixed time and records each call's latency.</summary>
public static class Load
{
    public static async Task<Measurement> RunAsync(
        string name, string unit, int concurrency, TimeSpan duration, Func<int, long, Task<int>> operation, CancellationToken cancellationToken = default)
    {
        var latencies = new List<double>[concurrency];
        long operations = 0;
        var clock = Stopwatch.StartNew();
        var deadline = duration;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>(4096);
            for (long i = 0; clock.Elapsed < deadline && !cancellationToken.IsCancellationRequested; i++)
            {
                var start = Stopwatch.GetTimestamp();
                var done = await operation(worker, i);
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Interlocked.Add(ref operations, done);
            }
        }));
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new Measurement(name, unit, operations, all.Length, elapsed, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

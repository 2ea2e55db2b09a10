using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using BusinessApi.Tests.Infrastructure;
using BusinessApi.WorkflowHost;
using Xunit.Abstractions;

namespace BusinessApi.Tests.Platform.Workflows;

/// <summary>W1–W4 and W7 under real crashes: processes killed with SIGKILL, and thousands of injected faults.</summary>
[Collection(HeavyTests.Name)]
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThreeProcesses_TwoKilledMidRun_EveryInstanceEndsOnceWithEffectsOnce()
    {
        const int Instances = 1000;
        var prefix = "t" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var hosts = new[]
        {
            HostProcess.Start(prefix),
            HostProcess.Start(prefix, ("Faults:Enabled", "true"), ("Faults:KillAfterCalls", "1500")), // dies by itself between two storage calls
            HostProcess.Start(prefix),
        };
        try
        {
            await Task.WhenAll(hosts.Select(h => h.WaitUntilHealthyAsync()));
            var perHost = Instances / hosts.Length + 1;
            var ranges = hosts.Select((_, i) => (From: i * perHost, Count: Math.Min(perHost, Instances - (i * perHost)))).ToList();
            var starts = hosts.Select((h, i) => h.StartInstancesAsync(ranges[i].From, ranges[i].Count)).ToList();
            await starts[0];
            hosts[0].Kill(); // SIGKILL while its instances are mid-run
            var completedAtKill = await CountCompletedAsync(prefix);
            for (var i = 1; i < hosts.Length; i++)
            {
                if (!await starts[i])
                {
                    // The client's request failed with its host; it retries on a live one (starting is idempotent).
                    Assert.True(await hosts[^1].StartInstancesAsync(ranges[i].From, ranges[i].Count));
                }
            }

            var rows = await Eventually.GetAsync(() => InstanceRowsAsync(prefix), r => r.Count == Instances && r.All(Completed),
                TimeSpan.FromSeconds(180), "every instance completed", interval: TimeSpan.FromSeconds(1), describe: Describe);
            var effects = await RowsAsync(prefix, Samples.EffectsTable);
            await Eventually.GetAsync(() => RowsAsync(prefix, "WorkflowDue"), r => r.Count == 0, TimeSpan.FromSeconds(30), "due index emptied");

            output.WriteLine($"completed when the first host was killed: {completedAtKill}/{Instances}; host 2 alive at the end: {!hosts[1].HasExited}");
            output.WriteLine($"step executions: {effects.Count(e => e.RowKey.StartsWith("run|", StringComparison.Ordinal))} for {Instances * 3} steps");
            Assert.True(completedAtKill < Instances, "the kill must land in the middle of the run");
            Assert.True(hosts[1].HasExited, "the harness should have killed the second host");
            Assert.All(rows, AssertRanEachTransitionOnce);
            var effectsPerInstance = effects.Where(e => e.RowKey.StartsWith("effect|", StringComparison.Ordinal)).GroupBy(e => e.PartitionKey).ToList();
            Assert.Equal(Instances, effectsPerInstance.Count);
            Assert.All(effectsPerInstance, g => Assert.Equal(3, g.Count()));
            Assert.Empty(await RowsAsync(prefix, "WorkflowFaults"));
        }
        finally
        {
            foreach (var host in hosts)
            {
                host.Dispose();
            }
        }
    }

    [Fact]
    public async Task TenThousandInstances_WithRandomCrashes_EveryOneEndsExactlyOnce()
    {
        const int Instances = 10_000;
        await using var host = await WorkflowTestHost.StartAsync(new()
        {
            ["Workflows:LeaseSeconds"] = "1",
            ["Workflows:SweepIntervalMilliseconds"] = "100",
            ["Workflows:SweepBatchSize"] = "500",
        }, realTime: true);
        var engineTables = new[] { host.App.TablePrefix + Samples.Table, host.App.TablePrefix + "WorkflowDue" };
        long injected = 0;
        host.Monitor.Plan = call =>
        {
            if (call.Method != "GET" && engineTables.Any(t => call.Uri.Contains("/" + t, StringComparison.Ordinal)) && Random.Shared.NextDouble() < 0.01)
            {
                Interlocked.Increment(ref injected);
                return StorageFault.Throw;
            }

            return StorageFault.None;
        };
        var workflow = host.Definition<ThreeStepWorkflow>();

        await Parallel.ForEachAsync(Enumerable.Range(0, Instances), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            var id = "r-" + i.ToString(CultureInfo.InvariantCulture);
            while (true)
            {
                try
                {
                    await host.Engine.StartAsync(workflow, Samples.Location(id), id, new CounterData(0, false), cancellationToken: ct);
                    return;
                }
                catch (Exception ex) when (ex is InjectedFaultException || ex.InnerException is InjectedFaultException
                    || ex is AggregateException { InnerExceptions: var inner } && inner.Any(e => e is InjectedFaultException or Azure.RequestFailedException))
                {
                    // The client got an error (an injected one, or a connection Azurite reset under this load) and retries its request.
                }
            }
        });
        var clock = Stopwatch.StartNew();
        var rows = await Eventually.GetAsync(() => InstanceRowsAsync(host.App.TablePrefix), r =>
        {
            output.WriteLine($"{clock.Elapsed.TotalSeconds:F0} s: {r.Count(Completed)} completed");
            return r.Count == Instances && r.All(Completed);
        }, TimeSpan.FromSeconds(300), "every instance completed", interval: TimeSpan.FromSeconds(3), describe: Describe);
        host.Monitor.Plan = null;
        await Eventually.GetAsync(() => RowsAsync(host.App.TablePrefix, "WorkflowDue"), r => r.Count == 0, TimeSpan.FromSeconds(30), "due index emptied");

        output.WriteLine($"injected faults: {injected}; all completed after {clock.Elapsed.TotalSeconds:F0} s");
        Assert.True(injected > 100, $"only {injected} faults were injected");
        Assert.All(rows, AssertRanEachTransitionOnce);
    }

    private static string Describe(List<TableEntity> rows) =>
        $"{rows.Count} instances: " + string.Join(", ", rows.GroupBy(r => $"{r.GetString("Status")}/{r.GetString("State")}").Select(g => $"{g.Key} {g.Count()}"));

    private static bool Completed(TableEntity row) => row.GetString("Status") == nameof(WorkflowStatus.Completed);

    private static void AssertRanEachTransitionOnce(TableEntity row)
    {
        Assert.Equal("done", row.GetString("State"));
        Assert.Contains("\"counter\":3", row.GetString("Data"), StringComparison.Ordinal);
        var history = JsonSerializer.Deserialize<List<WorkflowHistoryEntry>>(row.GetString("History")!, BusinessApi.Platform.PlatformExtensions.JsonOptions)!;
        Assert.Equal(["one", "two", "three", "done"], history.Select(h => h.To));
        Assert.Single(history, h => h.Status == WorkflowStatus.Completed);
    }

    private static async Task<int> CountCompletedAsync(string prefix) => (await InstanceRowsAsync(prefix)).Count(Completed);

    private static async Task<List<TableEntity>> InstanceRowsAsync(string prefix)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Azurite.Table(prefix, Samples.Table).QueryAsync<TableEntity>(
            filter: TableClient.CreateQueryFilter($"RowKey eq {"workflow"}"), select: ["Status", "State", "Data", "History"]))
        {
            rows.Add(row);
        }

        return rows;
    }

    private static async Task<List<TableEntity>> RowsAsync(string prefix, string table)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Azurite.Table(prefix, table).QueryAsync<TableEntity>())
        {
            rows.Add(row);
        }

        return rows;
    }
}

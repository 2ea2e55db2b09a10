using Azure.Data.Tables;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Infrastructure;
using BusinessApi.Tests.Platform.Workflows;
using BusinessApi.WorkflowHost;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform.Timers;

/// <summary>Scheduled jobs on a fake clock: on time, once per occurrence, caught up once after downtime.</summary>
public sealed class TimerSchedulerTests
{
    private const string EveryTenSeconds = "*/10 * * * * *";

    [Fact]
    public async Task Job_RunsAtEachOccurrence_AndKeepsItsState()
    {
        await using var host = await StartAsync(EveryTenSeconds);
        var job = host.Definition<HeartbeatJob>();

        await AdvanceUntilAsync([host], () => job.Runs.Count >= 2);
        var runs = job.Runs.Take(2).ToList();
        var state = await Eventually.GetAsync(() => StateAsync(host), s => s?.LastRunFor >= runs[1].ScheduledFor, what: "state saved");

        Assert.All(runs, r => Assert.Equal(0, r.ScheduledFor.Second % 10));
        Assert.Equal(TimeSpan.FromSeconds(10), runs[1].ScheduledFor - runs[0].ScheduledFor);
        Assert.All(runs, r => Assert.False(r.PastDue));
        Assert.Equal(runs[0].ScheduledFor, runs[1].PreviousRunFor);
        Assert.True(state!.NextDue > state.LastRunFor);
    }

    [Fact]
    public async Task RunMissedWhileTheAppWasDown_RunsOnceOnStart_FlaggedPastDue()
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        await Azurite.Table(prefix, TimerScheduler.StateTable).CreateIfNotExistsAsync();
        var missed = TestApp.DefaultNow.AddHours(-3);
        await Azurite.Table(prefix, TimerScheduler.StateTable).AddEntityAsync(new TableEntity("timers", "sample-heartbeat")
        {
            ["LastRunFor"] = missed.AddSeconds(-10),
            ["NextDue"] = missed,
        });

        await using var host = await StartAsync(EveryTenSeconds, new() { ["Storage:TablePrefix"] = prefix });
        var job = host.Definition<HeartbeatJob>();
        var state = await Eventually.GetAsync(() => StateAsync(host), s => s?.LastRunFor == missed, what: "caught up");

        var run = Assert.Single(job.Runs);
        Assert.Equal(missed, run.ScheduledFor);
        Assert.True(run.PastDue);
        Assert.Equal(TestApp.DefaultNow.AddSeconds(10), state!.NextDue);
    }

    [Fact]
    public async Task FailingJob_IsRecorded_AndRunsAgainAtItsNextOccurrence()
    {
        await using var host = await StartAsync(EveryTenSeconds);
        var job = host.Definition<HeartbeatJob>();
        var failures = 1;
        job.OnRun = _ => Interlocked.Decrement(ref failures) >= 0 ? throw new InvalidOperationException("planned") : Task.CompletedTask;

        await AdvanceUntilAsync([host], () => !job.Runs.IsEmpty);
        var failed = await Eventually.GetAsync(() => StateAsync(host), s => s?.LastError is not null, what: "failure recorded");
        await AdvanceUntilAsync([host], () => job.Runs.Count >= 2);
        var recovered = await Eventually.GetAsync(() => StateAsync(host), s => s?.LastRunFor == job.Runs.Last().ScheduledFor && s.LastError is null, what: "next run");

        Assert.Contains("planned", failed!.LastError, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(10), job.Runs.Last().ScheduledFor - job.Runs.First().ScheduledFor);
        Assert.NotNull(recovered);
    }

    [Fact]
    public async Task TwoInstances_RunEachOccurrenceOnce()
    {
        var first = await StartAsync(EveryTenSeconds);
        var second = await StartAsync(EveryTenSeconds, new() { ["Storage:TablePrefix"] = first.App.TablePrefix });
        var jobs = new[] { first.Definition<HeartbeatJob>(), second.Definition<HeartbeatJob>() };
        try
        {
            await AdvanceUntilAsync([first, second], () => jobs.Sum(j => j.Runs.Count) >= 3);
        }
        finally
        {
            // Stopping both waits for every run in flight: a second run of an occurrence, if there were one, is counted.
            await first.DisposeAsync();
            await second.DisposeAsync();
        }

        var all = jobs.SelectMany(j => j.Runs).Select(r => r.ScheduledFor).ToList();
        Assert.True(all.Count >= 3);
        Assert.Equal(all.Count, all.Distinct().Count());
    }

    /// <summary>Moves the fake clocks on in small steps, as real ones move, until <paramref name="done"/>.</summary>
    private static async Task AdvanceUntilAsync(WorkflowTestHost[] hosts, Func<bool> done)
    {
        for (var i = 0; i < 400 && !done(); i++)
        {
            foreach (var host in hosts)
            {
                host.App.Time.Advance(TimeSpan.FromMilliseconds(500));
            }

            await Task.Delay(15);
        }

        Assert.True(done(), "the condition was not reached while the clock moved");
    }

    [Fact]
    public async Task ScheduleFromHostSettings_BadExpression_StopsTheStart()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync("every ten seconds"));

        Assert.Contains("sample-heartbeat", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 */5 * * * *", "2026-11-25T05:05:00Z")]
    [InlineData("0 0 18 * * 1-5", "2026-11-25T18:00:00Z")]
    [InlineData("30 0 0 1 1 *", "2027-01-01T00:00:30Z")]
    public void Schedule_HasSecondsFirst(string expression, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            JobSchedule.Parse(expression, TimeZoneInfo.Utc).Next(DateTimeOffset.Parse("2026-11-25T05:00:00Z", System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Schedule_InALocalOffset()
    {
        var almaty = new TimerOptions { UtcOffset = "05:00" }.TimeZone();

        var next = JobSchedule.Parse("0 0 18 * * *", almaty).Next(DateTimeOffset.Parse("2026-11-25T05:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateTimeOffset.Parse("2026-11-25T13:00:00Z", System.Globalization.CultureInfo.InvariantCulture), next);
    }

    private static Task<WorkflowTestHost> StartAsync(string schedule, Dictionary<string, string>? settings = null)
    {
        var all = new Dictionary<string, string> { ["Timers:sample-heartbeat:Schedule"] = schedule };
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return WorkflowTestHost.StartAsync(all);
    }

    private static Task<TimerState?> StateAsync(WorkflowTestHost host) =>
        host.App.Services.GetRequiredService<TimerScheduler>().ReadStateAsync("sample-heartbeat", CancellationToken.None);
}

/// <summary>The lease-held singleton across real processes, on the real clock.</summary>
[Collection(HeavyTests.Name)]
public sealed class TimerSingletonProcessTests
{
    [Fact]
    public async Task TwoProcesses_EverySecond_EachOccurrenceRunsOnce()
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        using var first = HostProcess.Start(prefix, ("Timers:sample-heartbeat:Schedule", "* * * * * *"));
        using var second = HostProcess.Start(prefix, ("Timers:sample-heartbeat:Schedule", "* * * * * *"));
        await Task.WhenAll(first.WaitUntilHealthyAsync(), second.WaitUntilHealthyAsync());

        var rows = await Eventually.GetAsync(() => HeartbeatsAsync(prefix), r => r.Count >= 6, TimeSpan.FromSeconds(60), "six heartbeats", TimeSpan.FromMilliseconds(500));

        // Each occurrence ran once, and the runs are of distinct seconds (the schedule's, not one burst). Judged on the
        // occurrences' own times, not on when the test started watching: a loaded machine may report the processes
        // healthy only after several runs.
        var perOccurrence = rows.GroupBy(r => long.Parse(r.RowKey.Split('|')[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(perOccurrence, g => Assert.Single(g));
        var seconds = perOccurrence.Select(g => new DateTimeOffset(g.Key, TimeSpan.Zero)).Order().ToList();
        Assert.All(seconds, s => Assert.Equal(0, s.Millisecond));
        Assert.True(seconds[^1] - seconds[0] >= TimeSpan.FromSeconds(seconds.Count - 1), "one run per second of the schedule");
    }

    private static async Task<List<TableEntity>> HeartbeatsAsync(string prefix)
    {
        var rows = new List<TableEntity>();
        try
        {
            await foreach (var row in Azurite.Table(prefix, Samples.EffectsTable).QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"heartbeat"}")))
            {
                rows.Add(row);
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return rows;
    }
}

using Azure.Data.Tables;
using Azure.Storage.Queues;
using BusinessApi.FunctionsHost;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;
using BusinessApi.Tests.Infrastructure;
using BusinessApi.WorkflowHost;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace BusinessApi.Tests.FunctionsHead;

/// <summary>The head's timer and queue triggers, called as the worker calls them, against Azurite on a fake clock.</summary>
public sealed class FunctionsHeadTriggerTests
{
    private const string Job = IdempotencyPurgeJob.JobName; // every 15 minutes; TestApp.DefaultNow (05:00 UTC) is an occurrence

    [Fact]
    public async Task ATimerTrigger_RunsItsOccurrenceOnce_CatchesUpAMissedOneOnce_AndLeavesAlone_WhatTheInProcessLoopRan()
    {
        var logs = new CapturingLoggerProvider();
        var settings = TestApp.NewSettings();
        var time = new FakeTimeProvider(TestApp.DefaultNow);
        await using var head = await FunctionsHeadHost.StartAsync(settings, time, new Dictionary<string, string>
        {
            ["Logging:LogLevel:BusinessApi.Platform.Timers.TimerScheduler"] = "Debug",
            ["Logging:LogLevel:BusinessApi.FunctionsHost.TimerFunctions"] = "Debug",
        }, services => services.AddSingleton<ILoggerProvider>(logs));
        var timers = head.Functions<TimerFunctions>();
        var scheduler = head.Services.GetRequiredService<TimerScheduler>();
        var now = time.GetUtcNow();

        // The trigger fires at 05:00: the job runs for that occurrence; fired again (a duplicate), nothing runs.
        await timers.IdempotencyPurge(new TimerInfo(), CancellationToken.None);
        await timers.IdempotencyPurge(new TimerInfo(), CancellationToken.None);
        var first = await scheduler.ReadStateAsync(Job, CancellationToken.None);
        Assert.Equal(now, first!.LastRunFor);
        Assert.Equal(now.AddMinutes(15), first.NextDue);
        Assert.Equal([true, false], Triggered(logs));

        // Scaled to zero since 03:00 (the state says so): the next trigger runs the missed occurrence once, past due.
        var state = new TableClient(Azurite.ConnectionString, settings["Storage:TablePrefix"] + TimerScheduler.StateTable);
        await state.UpsertEntityAsync(new TableEntity("timers", Job) { ["LastRunFor"] = now.AddHours(-2).AddMinutes(-15), ["NextDue"] = now.AddHours(-2) });
        await timers.IdempotencyPurge(new TimerInfo { IsPastDue = true }, CancellationToken.None);
        var caughtUp = await scheduler.ReadStateAsync(Job, CancellationToken.None);
        Assert.Equal(now.AddHours(-2), caughtUp!.LastRunFor);
        Assert.True(caughtUp.PastDue);
        Assert.Equal(now.AddMinutes(15), caughtUp.NextDue); // the slots in between collapse into that one run
        Assert.Equal([true, false, true], Triggered(logs));

        // 05:15: the worker is alive, so its in-process loop runs the occurrence; the trigger that fires then finds it done.
        time.Advance(TimeSpan.FromMinutes(15));
        await Eventually.GetAsync(() => scheduler.ReadStateAsync(Job, CancellationToken.None), s => s?.LastRunFor == now.AddMinutes(15), what: "the loop ran 05:15");
        await timers.IdempotencyPurge(new TimerInfo(), CancellationToken.None);
        Assert.Equal([true, false, true, false], Triggered(logs));
        var runs = logs.Messages.Where(m => m.StartsWith($"Timer {Job} ran for", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, runs.Count); // 05:00, 03:00 (late), 05:15: each once, whichever driver ran it
        Assert.Equal(runs.Count, runs.Distinct().Count());
    }

    [Fact]
    public async Task TheWakeupTrigger_SweepsWhatCameDue_AndPutsBackAWakeupThatSurfacedEarly()
    {
        var settings = TestApp.NewSettings();
        var time = new FakeTimeProvider(TestApp.DefaultNow);
        // No background sweeper and no in-memory timers: only the trigger moves due work here.
        await using var head = await FunctionsHeadHost.StartAsync(settings, time, new Dictionary<string, string> { ["Workflows:Worker"] = "false" },
            services => services.AddSampleWorkflows());
        var engine = head.Services.GetRequiredService<WorkflowEngine>();
        var wakeups = head.Functions<WakeupFunction>();
        var queue = new QueueClient(Azurite.ConnectionString, (settings["Storage:TablePrefix"] + WakeupAlarm.QueueName).ToLowerInvariant());
        var wakeAt = TestApp.DefaultNow.AddDays(10);
        var location = Samples.Location("w1");
        await engine.StartAsync(head.Services.GetRequiredService<TimerWorkflow>(), location, "w1", new TimerData(wakeAt));

        // Woken a little later (the start's own entry is due): the first step runs and the instance waits 10 days.
        time.Advance(TimeSpan.FromMinutes(1));
        await wakeups.Run(time.GetUtcNow().ToString("O"), CancellationToken.None);
        var waiting = await Eventually.GetAsync(() => engine.GetAsync(location), s => s?.Status == WorkflowStatus.Waiting, what: "waiting");
        Assert.Equal(wakeAt, waiting!.DueAt);

        // The 10-day wake-up surfaces after the queue's 7-day cap: put back for the rest, nothing swept.
        var armed = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount; // the engine's own for the wait
        await wakeups.Run(wakeAt.ToString("O"), CancellationToken.None);
        Assert.Equal(armed + 1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        Assert.Empty((await queue.PeekMessagesAsync()).Value); // invisible until its time

        // Its time: nothing else runs the instance here until the trigger does.
        time.SetUtcNow(wakeAt.AddSeconds(1));
        await Task.Delay(200);
        Assert.Equal(WorkflowStatus.Waiting, (await engine.GetAsync(location))!.Status);
        await wakeups.Run(wakeAt.ToString("O"), CancellationToken.None);
        var done = await Eventually.GetAsync(() => engine.GetAsync(location), s => s?.Status == WorkflowStatus.Completed, what: "completed");
        Assert.Single(done!.History, h => h.To == "woke");
    }

    private static List<bool> Triggered(CapturingLoggerProvider logs) =>
        [.. logs.Messages.Where(m => m.StartsWith($"Timer trigger {Job}", StringComparison.Ordinal)).Select(m => m.EndsWith("True", StringComparison.Ordinal))];
}

using System.Globalization;
using Azure.Data.Tables;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using BusinessApi.Tests.Infrastructure;
using BusinessApi.WorkflowHost;

namespace BusinessApi.Tests.Platform.Workflows;

/// <summary>The engine's properties W1–W8 on Azurite, with a fake clock.</summary>
public sealed class WorkflowEngineTests
{
    [Fact]
    public async Task ThreeSteps_RunInProcessToCompletion_WithTheirHistory()
    {
        await using var host = await WorkflowTestHost.StartAsync();

        var started = await host.Engine.StartAsync(host.Definition<ThreeStepWorkflow>(), Samples.Location("a1"), "a1", new CounterData(0, true));
        var done = await host.WaitForAsync("a1", s => s.Status == WorkflowStatus.Completed);

        Assert.True(started);
        Assert.Equal("done", done.State);
        Assert.Contains("\"counter\":3", done.Data, StringComparison.Ordinal);
        Assert.Equal(
            [(null, "one"), ("one", "two"), ("two", "three"), ("three", "done")],
            done.History.Select(h => (h.From, h.To)));
        Assert.Equal(WorkflowStatus.Completed, done.History[^1].Status);
        Assert.Empty(await host.RowsAsync(WorkflowIndexTable));
    }

    [Fact]
    public async Task ChainedSteps_AreOneWrite_AndAChainedStepThatFails_LeavesTheChainWrittenUpToIt()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var workflow = host.Definition<ThreeStepWorkflow>();
        var instanceWrites = 0;
        var failed = 0;
        host.Monitor.Plan = call =>
        {
            if (call.Method != "GET" && call.Uri.Contains("/" + host.App.TablePrefix + Samples.Table, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref instanceWrites);
            }

            // Step "two" fails once, at its first effect (each step writes two rows of effects): after "one" ran and moved on in memory.
            return call.Method == "POST" && call.Uri.Contains(host.App.TablePrefix + Samples.EffectsTable, StringComparison.Ordinal)
                && Interlocked.Increment(ref failed) == 3
                ? StorageFault.Throw : StorageFault.None;
        };

        await host.Engine.StartAsync(workflow, Samples.Location("chain"), "chain", new CounterData(0, true));
        var done = await host.WaitForAsync("chain", s => s.Status == WorkflowStatus.Completed);
        host.Monitor.Plan = null;

        // The start, then "one → two" written when "two" failed, then "two → three → done" in one write.
        Assert.Equal(3, instanceWrites);
        Assert.Equal([(null, "one"), ("one", "two"), ("two", "three"), ("three", "done")], done.History.Select(h => (h.From, h.To)));
        Assert.Contains("\"counter\":3", done.Data, StringComparison.Ordinal);
        var effects = await host.RowsAsync(Samples.EffectsTable, "chain");
        Assert.Equal(3, effects.Count(e => e.RowKey.StartsWith("effect|", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task StartingTheSameIdTwice_IsANoOp()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var workflow = host.Definition<ThreeStepWorkflow>();

        var first = await host.Engine.StartAsync(workflow, Samples.Location("a2"), "a2", new CounterData(0, false));
        var second = await host.Engine.StartAsync(workflow, Samples.Location("a2"), "a2", new CounterData(100, false));
        var done = await host.WaitForAsync("a2", s => s.Status == WorkflowStatus.Completed);

        Assert.True(first);
        Assert.False(second);
        Assert.Contains("\"counter\":3", done.Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartWithTheBusinessRow_IsOneAtomicFact()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var workflow = host.Definition<ThreeStepWorkflow>();
        var order = new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("a3", "order") { ["Amount"] = "150000.00" });
        await host.Table(Samples.Table).AddEntityAsync(new TableEntity("a4", "order"));

        var started = await host.Engine.StartAsync(workflow, Samples.Location("a3"), "a3", new CounterData(0, false), [order]);
        var collided = await host.Engine.StartAsync(workflow, Samples.Location("a4"), "a4", new CounterData(0, false),
            [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("a4", "order"))]);

        Assert.True(started);
        Assert.Equal(["order", "workflow"], (await host.RowsAsync(Samples.Table, "a3")).Select(r => r.RowKey).Order());
        Assert.False(collided);
        Assert.Equal(["order"], (await host.RowsAsync(Samples.Table, "a4")).Select(r => r.RowKey));
    }

    [Fact]
    public async Task WritesInAnotherPartition_AreRefusedAtStart_AsAzureWould()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var elsewhere = new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("other", "order"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            host.Engine.StartAsync(host.Definition<ThreeStepWorkflow>(), Samples.Location("a5"), "a5", new CounterData(0, false), [elsewhere]));

        Assert.Contains("partition", error.Message, StringComparison.Ordinal);
        Assert.Empty(await host.RowsAsync(Samples.Table));
        Assert.Empty(await host.RowsAsync(WorkflowIndexTable));
    }

    [Fact]
    public async Task StepWriteInAnotherPartition_IsRefused_AndTheInstanceFaults()
    {
        await using var host = await WorkflowTestHost.StartAsync(new() { ["Workflows:MaxAttempts"] = "1" });

        await host.Engine.StartAsync(host.Definition<FlakyWorkflow>(), Samples.Location("a6"), "a6", new FlakyData("cross-partition"));
        var faulted = await host.WaitForAsync("a6", s => s.Status == WorkflowStatus.Faulted);

        Assert.Contains("cannot share a transaction", faulted.LastError, StringComparison.Ordinal);
        Assert.Empty(await host.RowsAsync(Samples.Table, "another-partition"));
    }

    [Fact]
    public async Task TwoWorkersRacingOnOneInstance_ExactlyOneAdvancesEachTransition()
    {
        await using var first = await WorkflowTestHost.StartAsync(new() { ["Workflows:Worker"] = "false" });
        await using var second = await WorkflowTestHost.StartAsync(new() { ["Workflows:Worker"] = "false" }, sharePrefixWith: first.App.TablePrefix);
        await first.Engine.StartAsync(first.Definition<ThreeStepWorkflow>(), Samples.Location("w3"), "w3", new CounterData(0, true));
        first.App.Time.Advance(TimeSpan.FromSeconds(31));
        second.App.Time.Advance(TimeSpan.FromSeconds(31));
        var entry = Assert.Single(await first.RowsAsync(WorkflowIndexTable));

        await Task.WhenAll(first.Runner.RecoverAsync(entry, CancellationToken.None), second.Runner.RecoverAsync(entry, CancellationToken.None));

        var done = (await first.Engine.GetAsync(Samples.Location("w3")))!;
        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Contains("\"counter\":3", done.Data, StringComparison.Ordinal);
        Assert.Equal(4, done.History.Count);
        var effects = await first.RowsAsync(Samples.EffectsTable, "w3");
        Assert.Equal(3, effects.Count(e => e.RowKey.StartsWith("effect|", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task WaitUntilAYearAhead_SurvivesARestart_AndFiresOnceWhenDue()
    {
        var wakeAt = TestApp.DefaultNow.AddDays(365);
        string prefix;
        await using (var before = await WorkflowTestHost.StartAsync())
        {
            prefix = before.App.TablePrefix;
            await before.Engine.StartAsync(before.Definition<TimerWorkflow>(), Samples.Location("t1"), "t1", new TimerData(wakeAt));
            var waiting = await before.WaitForAsync("t1", s => s.Status == WorkflowStatus.Waiting);
            Assert.Equal(wakeAt, waiting.DueAt);
        }

        // The background sweeper also runs whenever the clock moves; which sweep takes the entry does not matter.
        await using var after = await WorkflowTestHost.StartAsync(sharePrefixWith: prefix);
        after.App.Time.SetUtcNow(wakeAt.AddDays(-1));
        await after.SweepAsync();
        var dayBefore = (await after.Engine.GetAsync(Samples.Location("t1")))!;
        after.App.Time.SetUtcNow(wakeAt.AddSeconds(1));
        await after.SweepAsync();
        var done = await after.WaitForAsync("t1", s => s.Status == WorkflowStatus.Completed);
        after.App.Time.Advance(TimeSpan.FromMinutes(5));
        await after.SweepAsync();
        var later = (await after.Engine.GetAsync(Samples.Location("t1")))!;

        Assert.Equal(WorkflowStatus.Waiting, dayBefore.Status);
        Assert.Single(done.History, h => h.To == "woke");
        Assert.Equal(done.History.Count, later.History.Count);
        Assert.Empty(await after.RowsAsync(WorkflowIndexTable));
    }

    [Fact]
    public async Task ShortWait_FiresFromTheInMemoryTimer_WithoutASweep()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        await host.Engine.StartAsync(host.Definition<TimerWorkflow>(), Samples.Location("t2"), "t2", new TimerData(TestApp.DefaultNow.AddSeconds(10)));
        await host.WaitForAsync("t2", s => s.Status == WorkflowStatus.Waiting);

        // The clock moves on as a real one would; no sweep runs (the background one waits 1 s of fake time each turn, and it
        // would find nothing due in the index anyway before the wait ends).
        for (var i = 0; i < 40 && (await host.Engine.GetAsync(Samples.Location("t2")))!.Status != WorkflowStatus.Completed; i++)
        {
            host.App.Time.Advance(TimeSpan.FromMilliseconds(500));
            await Task.Delay(10);
        }

        var done = await host.WaitForAsync("t2", s => s.Status == WorkflowStatus.Completed);
        Assert.Single(done.History, h => h.To == "woke");
    }

    [Fact]
    public async Task EventWhileWaiting_ContinuesWithItsPayload()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        await host.Engine.StartAsync(host.Definition<ApprovalWorkflow>(), Samples.Location("e1"), "e1", new ApprovalData(TimeSpan.FromDays(3), null));
        await host.WaitForAsync("e1", s => s.Status == WorkflowStatus.Waiting);

        var delivered = await host.Engine.RaiseEventAsync(Samples.Location("e1"), "approved", "operator-7");
        var done = await host.WaitForAsync("e1", s => s.Status == WorkflowStatus.Completed);

        Assert.True(delivered);
        Assert.Equal("approved", done.State);
        Assert.Contains("operator-7", done.Data, StringComparison.Ordinal);
        Assert.Contains(done.History, h => h.Event == "approved");
    }

    [Fact]
    public async Task EventThatNeverComes_TimesOutOnTheTimeoutPath()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        await host.Engine.StartAsync(host.Definition<ApprovalWorkflow>(), Samples.Location("e2"), "e2", new ApprovalData(TimeSpan.FromDays(3), null));
        await host.WaitForAsync("e2", s => s.Status == WorkflowStatus.Waiting);

        host.App.Time.Advance(TimeSpan.FromDays(3).Add(TimeSpan.FromSeconds(1)));
        await host.SweepAsync();
        var done = await host.WaitForAsync("e2", s => s.Status == WorkflowStatus.Completed);

        Assert.Equal("expired", done.State);
        Assert.Contains(done.History, h => h.Event == "timeout");
        Assert.False(await host.Engine.RaiseEventAsync(Samples.Location("e2"), "approved", "late"));
    }

    [Fact]
    public async Task EventBeforeTheWait_IsKeptUntilTheInstanceWaitsForIt()
    {
        await using var host = await WorkflowTestHost.StartAsync(new() { ["Workflows:Worker"] = "false" });
        await host.Engine.StartAsync(host.Definition<ApprovalWorkflow>(), Samples.Location("e3"), "e3", new ApprovalData(TimeSpan.FromDays(3), null));

        Assert.True(await host.Engine.RaiseEventAsync(Samples.Location("e3"), "approved", "early"));
        host.App.Time.Advance(TimeSpan.FromSeconds(31));
        var entry = Assert.Single(await host.RowsAsync(WorkflowIndexTable));
        await host.Runner.RecoverAsync(entry, CancellationToken.None);

        var done = (await host.Engine.GetAsync(Samples.Location("e3")))!;
        Assert.Equal("approved", done.State);
        Assert.Contains("early", done.Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutboxMessage_IsDeliveredOnce_WithTheBusinessRowCommittedAtomically()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var dispatcher = host.Definition<RecordingDispatcher>();

        await host.Engine.StartAsync(host.Definition<LedgerWorkflow>(), Samples.Location("o1"), "o1", new LedgerData(150000.00m));
        await host.WaitForAsync("o1", s => s.Status == WorkflowStatus.Completed);

        var rows = await Eventually.GetAsync(() => host.RowsAsync(Samples.Table, "o1"), r => r.Count == 2, what: "outbox row removed after delivery");
        Assert.Equal(["posting", "workflow"], rows.Select(r => r.RowKey).Order());
        Assert.Equal("150000.00", rows.Single(r => r.RowKey == "posting").GetString("Amount"));
        var delivered = Assert.Single(dispatcher.Delivered);
        Assert.Equal(1, delivered.Value);
        Assert.StartsWith("o1:", delivered.Key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutboxMessage_WhoseDeliveryFailed_IsDeliveredByTheSweep()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var dispatcher = host.Definition<RecordingDispatcher>();
        var failures = 1;
        dispatcher.FailWhen = _ => Interlocked.Decrement(ref failures) >= 0;

        await host.Engine.StartAsync(host.Definition<LedgerWorkflow>(), Samples.Location("o2"), "o2", new LedgerData(10m));
        await host.WaitForAsync("o2", s => s.Status == WorkflowStatus.Completed);
        Assert.Empty(dispatcher.Delivered);

        host.App.Time.Advance(TimeSpan.FromSeconds(31));
        await host.SweepAsync();
        await Eventually.GetAsync(() => Task.FromResult(dispatcher.Delivered.Count), n => n == 1);
        await Eventually.GetAsync(() => host.RowsAsync(Samples.Table, "o2"), rows => rows.Count == 2, what: "outbox row removed");
    }

    [Fact]
    public async Task FailingStep_RetriesWithBackoff_IsParkedAsFaulted_ThenRetriedByAnOperator()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var flaky = host.Definition<FlakyWorkflow>();
        flaky.Failing["f1"] = true;

        await host.Engine.StartAsync(flaky, Samples.Location("f1"), "f1", new FlakyData("normal"));
        var retrying = await host.WaitForAsync("f1", s => s.Status == WorkflowStatus.Waiting);
        for (var i = 0; i < 10 && (await host.Engine.GetAsync(Samples.Location("f1")))!.Status != WorkflowStatus.Faulted; i++)
        {
            host.App.Time.Advance(TimeSpan.FromSeconds(5));
            await Task.Delay(50);
        }

        var faulted = await host.WaitForAsync("f1", s => s.Status == WorkflowStatus.Faulted);
        using var ops = host.App.OperatorClient();
        var listed = await ops.GetStringAsync("/api/v1/ops/workflows?status=faulted");
        flaky.Failing.Clear();
        var retry = await ops.PostAsync("/api/v1/ops/workflows/f1/retry", null);
        var done = await host.WaitForAsync("f1", s => s.Status == WorkflowStatus.Completed);
        var afterwards = await ops.GetStringAsync("/api/v1/ops/workflows?status=faulted");
        var notFaulted = await ops.PostAsync("/api/v1/ops/workflows/f1/retry", null);

        Assert.Equal(1, retrying.Attempts);
        Assert.True(retrying.DueAt > TestApp.DefaultNow);
        Assert.Equal(3, faulted.Attempts);
        Assert.Contains("Planned failure", faulted.LastError, StringComparison.Ordinal);
        Assert.Equal(3, faulted.History.Count(h => h.Error?.Contains("Planned failure", StringComparison.Ordinal) == true));
        Assert.Contains("\"instanceId\":\"f1\"", listed, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal("done", done.State);
        Assert.DoesNotContain("f1", afterwards, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, notFaulted.StatusCode);
    }

    [Fact]
    public async Task StepWhoseWritesStorageRefuses_IsAStepFailure_ParkedAsFaulted()
    {
        await using var host = await WorkflowTestHost.StartAsync(new() { ["Workflows:MaxAttempts"] = "2" });
        await host.Table(Samples.Table).AddEntityAsync(new TableEntity("x1", "order"));

        await host.Engine.StartAsync(host.Definition<FlakyWorkflow>(), Samples.Location("x1"), "x1", new FlakyData("add-existing"));
        await host.WaitForAsync("x1", s => s.Status == WorkflowStatus.Waiting && s.Attempts == 1);
        host.App.Time.Advance(TimeSpan.FromSeconds(5));
        var faulted = await host.WaitForAsync("x1", s => s.Status == WorkflowStatus.Faulted);

        Assert.Equal(2, faulted.Attempts);
        Assert.Contains("Storage refused the step's writes", faulted.LastError, StringComparison.Ordinal);
        Assert.Equal("work", faulted.State);
    }

    [Fact]
    public async Task DataTooLargeForARow_IsRefusedAtStart()
    {
        await using var host = await WorkflowTestHost.StartAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            host.Engine.StartAsync(host.Definition<ApprovalWorkflow>(), Samples.Location("big"), "big", new ApprovalData(TimeSpan.FromDays(1), new string('x', 40_000))));
    }

    [Fact]
    public async Task StaleFaultEntry_IsClearedByARetry_AndNotListedAgain()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        await host.Engine.StartAsync(host.Definition<ThreeStepWorkflow>(), Samples.Location("s1"), "s1", new CounterData(0, false));
        await host.WaitForAsync("s1", s => s.Status == WorkflowStatus.Completed);
        await host.Table("WorkflowFaults").AddEntityAsync(new TableEntity("faulted", "s1")
        {
            ["Table"] = Samples.Table, ["Pk"] = "s1", ["Rk"] = "workflow", ["Workflow"] = "three-step", ["State"] = "two",
        });
        using var ops = host.App.OperatorClient();

        var retry = await ops.PostAsync("/api/v1/ops/workflows/s1/retry", null);
        var listed = await ops.GetStringAsync("/api/v1/ops/workflows?status=faulted");

        Assert.Equal(System.Net.HttpStatusCode.NotFound, retry.StatusCode);
        Assert.DoesNotContain("s1", listed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListingWorkflows_ByAnUnsupportedStatus_Is400()
    {
        await using var host = await WorkflowTestHost.StartAsync();

        var problem = await Problem.ReadAsync(await host.App.OperatorClient().GetAsync("/api/v1/ops/workflows?status=running"));

        Assert.Equal("validation_failed", problem.Code);
    }

    /// <summary>
    /// W4 at every point: the engine "crashes" (the storage call throws and the work stops, as if the
    /// process died) before its k-th storage call, for every k of a whole run. After the lease, a sweep
    /// finishes the instance: each transition once, each effect once. With the three transitions group-committed (the
    /// default) and with each written alone.
    /// </summary>
    [Theory]
    [InlineData(16, 4)] // index intent, start, one write for the three transitions, index removal
    [InlineData(1, 6)] // index intent, start, three transitions, index removal
    public async Task CrashBeforeAnyStorageCall_IsRecoveredAfterTheLease_WithEffectsOnce(int chainedSteps, int engineCallsOfARun)
    {
        await using var host = await WorkflowTestHost.StartAsync(new() { ["Workflows:ChainedSteps"] = chainedSteps.ToString(CultureInfo.InvariantCulture) });
        var workflow = host.Definition<ThreeStepWorkflow>();
        var engineTables = new[] { host.App.TablePrefix + Samples.Table, host.App.TablePrefix + "WorkflowDue" };
        // The hot path only writes; reads of these tables are the test's own polling.
        bool IsEngineCall(StorageCall call) => call.Method != "GET" && engineTables.Any(t => call.Uri.Contains("/" + t, StringComparison.Ordinal));
        var cleanRunCalls = 0;
        host.Monitor.Plan = call =>
        {
            if (IsEngineCall(call))
            {
                Interlocked.Increment(ref cleanRunCalls);
            }

            return StorageFault.None;
        };
        await host.Engine.StartAsync(workflow, Samples.Location("clean"), "clean", new CounterData(0, true));
        await host.WaitForAsync("clean", s => s.Status == WorkflowStatus.Completed);
        await Eventually.GetAsync(() => host.RowsAsync(WorkflowIndexTable), rows => rows.Count == 0, what: "clean run's index entry removed");
        Assert.Equal(engineCallsOfARun, cleanRunCalls);

        for (var k = 1; k <= cleanRunCalls; k++)
        {
            var id = "c" + k.ToString(CultureInfo.InvariantCulture);
            var engineCalls = 0;
            host.Monitor.Plan = call => IsEngineCall(call) && Interlocked.Increment(ref engineCalls) == k ? StorageFault.Throw : StorageFault.None;
            try
            {
                await host.Engine.StartAsync(workflow, Samples.Location(id), id, new CounterData(0, true));
            }
            catch (InjectedFaultException)
            {
                // The client saw a failure (a 5xx) and retries its request, as clients do.
                host.Monitor.Plan = null;
                await host.Engine.StartAsync(workflow, Samples.Location(id), id, new CounterData(0, true));
            }

            await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref engineCalls) >= k), x => x, what: $"crash {k} injected");
            await Task.Delay(100); // let the abandoned run settle before the clock moves
            host.Monitor.Plan = null;
            host.App.Time.Advance(TimeSpan.FromSeconds(31));
            await host.SweepAsync();
            var done = await host.WaitForAsync(id, s => s.Status == WorkflowStatus.Completed, what: $"crash before call {k}");

            Assert.Contains("\"counter\":3", done.Data, StringComparison.Ordinal);
            Assert.Equal(["one", "two", "three", "done"], done.History.Select(h => h.To));
            var effects = await host.RowsAsync(Samples.EffectsTable, id);
            Assert.Equal(3, effects.Count(e => e.RowKey.StartsWith("effect|", StringComparison.Ordinal)));
        }

        await host.SweepAsync();
        await Eventually.GetAsync(() => host.RowsAsync(WorkflowIndexTable), rows => rows.Count == 0, what: "index emptied");
    }

    /// <summary>
    /// A transition's write lands but its answer is lost (a dropped connection): the engine must see that
    /// the write was its own and go on at once, not stand down as if another worker had won and leave
    /// the instance to wait for its lease to run out.
    /// </summary>
    [Fact]
    public async Task LostAnswerOfATransition_IsRecognisedAsOurs_AndTheRunGoesOnWithoutWaitingForTheLease()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var workflow = host.Definition<ThreeStepWorkflow>();
        var instanceRow = "/" + host.App.TablePrefix + Samples.Table + "(";
        var lost = 0;
        host.Monitor.Plan = call => call.Method == "PUT" && call.Uri.Contains(instanceRow, StringComparison.Ordinal) && call.Uri.Contains("lost", StringComparison.Ordinal)
            && Interlocked.Increment(ref lost) == 1
            ? StorageFault.LoseResponse
            : StorageFault.None;

        await host.Engine.StartAsync(workflow, Samples.Location("lost"), "lost", new CounterData(0, true));
        var done = await host.WaitForAsync("lost", s => s.Status == WorkflowStatus.Completed, timeout: TimeSpan.FromSeconds(10), what: "completion with the clock standing still");
        host.Monitor.Plan = null;

        Assert.True(lost >= 1, "no answer was lost");
        Assert.Equal(["one", "two", "three", "done"], done.History.Select(h => h.To));
        Assert.Equal(3, (await host.RowsAsync(Samples.EffectsTable, "lost")).Count(e => e.RowKey.StartsWith("effect|", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task DueStartIntent_WhoseInstanceIsNotThereYet_IsKept_UntilLongAfter()
    {
        await using var host = await WorkflowTestHost.StartAsync(new() { ["Workflows:Worker"] = "false" });
        var due = TestApp.DefaultNow.AddSeconds(30);
        var intent = new TableEntity("00", InstanceRecordKey(due, "slow"))
        {
            ["Table"] = Samples.Table, ["Pk"] = "slow", ["Rk"] = "workflow", ["ForVersion"] = 1L,
        };
        await host.Table(WorkflowIndexTable).AddEntityAsync(intent);

        host.App.Time.SetUtcNow(due.AddSeconds(5)); // a start whose add is slower than its lease
        await host.Runner.RecoverAsync(intent, CancellationToken.None);
        var kept = await host.RowsAsync(WorkflowIndexTable);
        host.App.Time.SetUtcNow(due.AddMinutes(11));
        await host.Runner.RecoverAsync(intent, CancellationToken.None);
        var afterGrace = await host.RowsAsync(WorkflowIndexTable);

        Assert.Single(kept);
        Assert.Empty(afterGrace);
    }

    [Fact]
    public async Task NonCanonicalEntry_IsKeptWhileItsMoveIsInFlight_AndDeletedOnceSuperseded()
    {
        await using var host = await WorkflowTestHost.StartAsync(new() { ["Workflows:Worker"] = "false" });
        await host.Engine.StartAsync(host.Definition<ThreeStepWorkflow>(), Samples.Location("m1"), "m1", new CounterData(0, false));
        var shard = Assert.Single(await host.RowsAsync(WorkflowIndexTable)).PartitionKey;
        TableEntity Entry(string key, long forVersion) => new(shard, key)
        {
            ["Table"] = Samples.Table, ["Pk"] = "m1", ["Rk"] = "workflow", ["ForVersion"] = forVersion,
        };
        var inFlight = Entry(InstanceRecordKey(TestApp.DefaultNow.AddSeconds(1), "m1"), forVersion: 2); // written just before the commit to version 2
        var superseded = Entry(InstanceRecordKey(TestApp.DefaultNow.AddSeconds(2), "m1"), forVersion: 1);
        await host.Table(WorkflowIndexTable).AddEntityAsync(inFlight);
        await host.Table(WorkflowIndexTable).AddEntityAsync(superseded);
        host.App.Time.Advance(TimeSpan.FromSeconds(5));

        await host.Runner.RecoverAsync(inFlight, CancellationToken.None);
        await host.Runner.RecoverAsync(superseded, CancellationToken.None);

        var keys = (await host.RowsAsync(WorkflowIndexTable)).Select(r => r.RowKey).ToList();
        Assert.Contains(inFlight.RowKey, keys);
        Assert.DoesNotContain(superseded.RowKey, keys);
    }

    [Fact]
    public async Task EffectHelpers_InsertOnce_AndUpdateOnlyTheVersionRead()
    {
        await using var host = await WorkflowTestHost.StartAsync();
        var table = host.Table(Samples.EffectsTable);

        var first = await table.InsertIfAbsentAsync(new TableEntity("fx", "effect-1") { ["N"] = 1 }, CancellationToken.None);
        var again = await table.InsertIfAbsentAsync(new TableEntity("fx", "effect-1") { ["N"] = 2 }, CancellationToken.None);
        var read = (await table.GetEntityAsync<TableEntity>("fx", "effect-1")).Value;
        var updated = await table.UpdateIfMatchAsync(new TableEntity("fx", "effect-1") { ["N"] = 3 }, read.ETag, CancellationToken.None);
        var stale = await table.UpdateIfMatchAsync(new TableEntity("fx", "effect-1") { ["N"] = 4 }, read.ETag, CancellationToken.None);

        Assert.True(first);
        Assert.False(again);
        Assert.True(updated);
        Assert.False(stale);
        Assert.Equal(3, (await table.GetEntityAsync<TableEntity>("fx", "effect-1")).Value.GetInt32("N"));
    }

    private static string InstanceRecordKey(DateTimeOffset due, string id) =>
        $"{due.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}|{id}";

    private const string WorkflowIndexTable = "WorkflowDue";
}

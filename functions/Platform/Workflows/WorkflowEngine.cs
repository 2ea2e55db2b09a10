using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Telemetry;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// Runs workflow instances on Azure Storage alone. Every transition is one ETag-checked write of the
/// instance row (W3) that also renews its lease; after a commit the next step runs at once in this
/// process (no queue receive on the hot path); the due index and sweeps in every process recover
/// what a crash left (W4, W7) and fire timers (W5).
/// </summary>
public sealed partial class WorkflowEngine
{
    private readonly StorageResources _storage;
    private readonly WorkflowIndex _index;
    private readonly TransactionBatcher _batcher;
    private readonly WorkflowWorkQueue _queue;
    private readonly TimeProvider _time;
    private readonly WorkflowOptions _options;
    private readonly ILogger<WorkflowEngine> _logger;
    private readonly Dictionary<string, IWorkflowDefinition> _definitions;
    private readonly Dictionary<string, IOutboxDispatcher> _dispatchers;
    private readonly IWorkflowObserver[] _observers;
    private readonly Timers.WakeupAlarm? _wakeups;
    private readonly ConcurrentDictionary<string, ITimer> _timers = new(StringComparer.Ordinal);

    // Instances whose in-memory timer fired here and whose run is queued or running, with when it fired.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firing = new(StringComparer.Ordinal);

    internal WorkflowEngine(
        StorageResources storage,
        TransactionBatcher batcher,
        WorkflowIndex index,
        WorkflowWorkQueue queue,
        TimeProvider time,
        IOptions<WorkflowOptions> options,
        IEnumerable<IWorkflowDefinition> definitions,
        IEnumerable<IOutboxDispatcher> dispatchers,
        IEnumerable<IWorkflowObserver> observers,
        ILogger<WorkflowEngine> logger,
        Timers.WakeupAlarm? wakeups = null)
    {
        _observers = [.. observers];
        _wakeups = wakeups;
        _storage = storage;
        _index = index;
        _batcher = batcher;
        _queue = queue;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _definitions = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);
        _dispatchers = dispatchers.ToDictionary(d => d.Topic, StringComparer.Ordinal);
    }

    /// <summary>Instance data is one table property: at most 32K UTF-16 characters, with room for the rest.</summary>
    internal const int MaxDataLength = 30_000;

    private TimeSpan Lease => TimeSpan.FromSeconds(_options.LeaseSeconds);

    /// <summary>
    /// Starts an instance in the business entity's partition. <paramref name="with"/> are the caller's
    /// own writes in that same table and partition (e.g. "document accepted"): they and the instance
    /// commit as one transaction, so both exist or neither (W1). Starting an id again is a no-op
    /// (returns false), as is a start whose writes collide with existing rows.
    /// </summary>
    public async Task<bool> StartAsync<TData>(
        WorkflowDefinition<TData> definition,
        WorkflowLocation location,
        string instanceId,
        TData data,
        IEnumerable<TableTransactionAction>? with = null,
        CancellationToken cancellationToken = default)
        where TData : class
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(location);
        InstanceRecord.ValidateId(instanceId, "Instance id");
        if (!_definitions.ContainsKey(definition.Name))
        {
            throw new InvalidOperationException($"Workflow '{definition.Name}' is not registered (AddWorkflow).");
        }

        var extra = with?.ToList() ?? [];
        EnsureSamePartition(location, extra);
        var now = _time.GetUtcNow();
        var instance = new InstanceRecord
        {
            Location = location,
            InstanceId = instanceId,
            Workflow = definition.Name,
            State = definition.InitialState,
            Status = WorkflowStatus.Running,
            Data = CheckSize(definition.Serialize(data)),
            LeaseUntil = now + Lease,
            CreatedAt = now,
            UpdatedAt = now,
            Version = 1,
            TraceParent = PlatformTelemetry.CurrentTraceParent(),
            IndexKey = InstanceRecord.IndexRowKey(now + Lease, instanceId),
        };
        instance.Record(null, _options.HistoryLimit);

        // The index entry is the intent: written first, so a crash after the commit below is found by a
        // sweep; one that outlives a failed commit points at nothing and is deleted by the sweep.
        await _index.PutAsync(instance, instance.IndexKey, cancellationToken);
        var table = _storage.Table(location.Table);
        try
        {
            if (extra.Count == 0)
            {
                var added = await table.AddEntityAsync(instance.ToEntity(), cancellationToken);
                instance.ETag = added.Headers.ETag ?? ETag.All;
            }
            else
            {
                var response = await _batcher.SubmitAsync(table, [new TableTransactionAction(TableTransactionActionType.Add, instance.ToEntity()), .. extra], cancellationToken);
                instance.ETag = response[0].Headers.ETag ?? ETag.All;
            }
        }
        catch (Exception ex) when (ex is RequestFailedException { Status: 409 } or TableTransactionFailedException { Status: 409 })
        {
            // Nothing was started: take the intent back at once rather than leave it to the sweep's grace period.
            await _index.DeleteAsync(instanceId, instance.IndexKey, cancellationToken);
            return false;
        }

        Notify(instance, null);
        Schedule(instance);
        return true;
    }

    /// <summary>The instance at <paramref name="location"/>, or null.</summary>
    public async Task<WorkflowSnapshot?> GetAsync(WorkflowLocation location, CancellationToken cancellationToken = default) =>
        (await LoadAsync(location, cancellationToken))?.ToSnapshot();

    /// <summary>
    /// Delivers an event. An instance waiting for it moves on at once; one not yet waiting keeps it
    /// until it waits for it. Returns false when the instance is missing or finished.
    /// </summary>
    public async Task<bool> RaiseEventAsync(WorkflowLocation location, string eventName, string? payload = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var instance = await LoadAsync(location, cancellationToken);
            if (instance is null || instance.IsFinished)
            {
                return false;
            }

            var next = instance.Copy();
            next.PendingEvents[eventName] = payload;
            next.UpdatedAt = _time.GetUtcNow();
            next.Version = instance.Version + 1;
            try
            {
                var updated = await _storage.Table(location.Table).UpdateEntityAsync(next.ToEntity(), instance.ETag, TableUpdateMode.Replace, cancellationToken);
                next.ETag = updated.Headers.ETag ?? ETag.All;
                if (next.Status == WorkflowStatus.Waiting && next.Wait == WaitKind.Event && next.EventName == eventName)
                {
                    _queue.Enqueue(ct => RunSafelyAsync(next, ct));
                }

                return true;
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                // The instance moved meanwhile: read it again and deliver to its new state.
            }
        }

        throw new InvalidOperationException($"Could not deliver '{eventName}' to '{location.RowKey}': too much contention.");
    }

    /// <summary>Faulted instances (W6), oldest first by id, with a continuation token.</summary>
    public async Task<(IReadOnlyList<FaultedWorkflow> Items, string? Continuation)> ListFaultedAsync(string? continuation, int pageSize, CancellationToken cancellationToken = default)
    {
        var (faults, next) = await _index.FaultsAsync(continuation, pageSize, cancellationToken);
        return ([.. faults.Select(f => new FaultedWorkflow(
            f.RowKey, f.GetString("Workflow") ?? "", f.GetString("State") ?? "", f.GetString("Error"),
            f.GetDateTimeOffset("FaultedAt") ?? DateTimeOffset.MinValue, WorkflowIndex.LocationOf(f)))], next);
    }

    /// <summary>Gives a faulted instance another set of tries from the state it faulted in; null when it is not faulted.</summary>
    public async Task<WorkflowSnapshot?> RetryAsync(string instanceId, string by, CancellationToken cancellationToken = default)
    {
        var location = await _index.FaultLocationAsync(instanceId, cancellationToken);
        var instance = location is null ? null : await LoadAsync(location, cancellationToken);
        if (instance is null || instance.Status != WorkflowStatus.Faulted)
        {
            if (location is not null)
            {
                // A registry entry whose fault never committed (its commit lost a race): not faulted, so not listed.
                await _index.ClearFaultAsync(instanceId, cancellationToken);
            }

            return null;
        }

        var now = _time.GetUtcNow();
        var next = instance.Copy();
        next.Status = WorkflowStatus.Running;
        next.Attempts = 0;
        next.LastError = null;
        next.LeaseUntil = now + Lease;
        next.UpdatedAt = now;
        next.IndexKey = InstanceRecord.IndexRowKey(now + Lease, instanceId);
        next.Version = instance.Version + 1;
        next.Record(instance.State, _options.HistoryLimit, error: $"retried by {by}");
        await _index.PutAsync(next, next.IndexKey, cancellationToken);
        try
        {
            var updated = await _storage.Table(location!.Table).UpdateEntityAsync(next.ToEntity(), instance.ETag, TableUpdateMode.Replace, cancellationToken);
            next.ETag = updated.Headers.ETag ?? ETag.All;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return null;
        }

        await _index.ClearFaultAsync(instanceId, cancellationToken);
        Schedule(next);
        return next.ToSnapshot();
    }

    /// <summary>Runs an instance now in this process (after a commit, a timer or a recovery).</summary>
    private void Schedule(InstanceRecord instance)
    {
        if (_options.Worker)
        {
            _queue.Enqueue(ct => RunSafelyAsync(instance, ct));
        }
    }

    internal async Task RunSafelyAsync(InstanceRecord instance, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(instance, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A storage fault (or a crash injected in tests) mid-way: the instance is left exactly as
            // committed; its lease runs out and a sweep in any process picks it up (W4).
            LogAbandoned(_logger, instance.InstanceId, ex);
        }
    }

    /// <summary>Recovers what a sweep found due: a timer that fired, a crash, or a leftover entry.</summary>
    internal async Task RecoverAsync(TableEntity entry, CancellationToken cancellationToken)
    {
        var instance = await LoadAsync(WorkflowIndex.LocationOf(entry), cancellationToken);
        var now = _time.GetUtcNow();
        if (instance is null)
        {
            // A start intent with no instance: its commit may still be on its way (a slow start must not lose
            // its only index entry), so it is garbage only long after it came due.
            if (now - InstanceRecord.DueOf(entry.RowKey) > TimeSpan.FromSeconds(_options.OrphanGraceSeconds))
            {
                await _index.DeleteAsync(entry, cancellationToken);
            }

            return;
        }

        if (instance.IsFinished)
        {
            await DispatchLeftoversAsync(instance, cancellationToken);
            if (instance.Status == WorkflowStatus.Faulted)
            {
                await _index.RecordFaultAsync(instance, cancellationToken);
            }

            await _index.DeleteAsync(entry, cancellationToken);
            return;
        }

        if (instance.IndexKey != entry.RowKey)
        {
            // Not the canonical entry. Made for a version the instance has reached: superseded by a move that
            // crashed before removing it. Made for a later version: a move whose commit is on its way; keep it.
            if (WorkflowIndex.ForVersionOf(entry) <= instance.Version)
            {
                await _index.DeleteAsync(entry, cancellationToken);
            }

            return;
        }

        await DispatchLeftoversAsync(instance, cancellationToken);

        if (instance.Status == WorkflowStatus.Running && instance.LeaseUntil > now)
        {
            return; // someone is making progress; the claim keeps others off until its lease ends
        }

        await RunAsync(instance, cancellationToken);
    }

    private async Task RunAsync(InstanceRecord start, CancellationToken cancellationToken)
    {
        var definition = _definitions.GetValueOrDefault(start.Workflow)
            ?? throw new InvalidOperationException($"Workflow '{start.Workflow}' is not registered in this process.");
        InstanceRecord? instance = start;
        while (instance is not null && !cancellationToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            switch (instance.Status)
            {
                case WorkflowStatus.Completed or WorkflowStatus.Faulted:
                    await _index.DeleteAsync(instance.InstanceId, instance.IndexKey, cancellationToken);
                    return;

                case WorkflowStatus.Waiting:
                    if (instance.Wait == WaitKind.Event && instance.PendingEvents.Remove(instance.EventName!, out var payload))
                    {
                        var eventName = instance.EventName!;
                        instance = await MoveAsync(instance, instance.ResumeState!, new WorkflowEvent(eventName, payload), eventName, cancellationToken);
                    }
                    else if (instance.DueAt > now)
                    {
                        ArmTimer(instance, now);
                        return;
                    }
                    else
                    {
                        var next = instance.Wait switch
                        {
                            WaitKind.Event => instance.TimeoutState!,
                            WaitKind.Until => instance.ResumeState!,
                            _ => instance.State,
                        };
                        instance = await MoveAsync(instance, next, null, instance.Wait == WaitKind.Event ? "timeout" : null, cancellationToken);
                    }

                    continue;

                default:
                    instance = await StepAsync(definition, instance, now, cancellationToken);
                    continue;
            }
        }
    }

    /// <summary>Leaves a wait: back to running in <paramref name="state"/>.</summary>
    private async Task<InstanceRecord?> MoveAsync(InstanceRecord instance, string state, WorkflowEvent? delivered, string? eventLabel, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var next = instance.Copy();
        var from = instance.State;
        next.State = state;
        next.Status = WorkflowStatus.Running;
        next.Wait = WaitKind.None;
        next.DueAt = null;
        next.EventName = null;
        next.TimeoutState = null;
        next.ResumeState = null;
        next.DeliveredEvent = delivered;
        next.LeaseUntil = now + Lease;
        next.UpdatedAt = now;
        if (instance.Wait != WaitKind.Retry)
        {
            next.Attempts = 0;
            next.Sequence++;
            next.Record(from, _options.HistoryLimit, eventName: eventLabel);
        }

        return await CommitAsync(instance, next, [], [], cancellationToken);
    }

    private async Task<InstanceRecord?> StepAsync(IWorkflowDefinition definition, InstanceRecord instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = PlatformTelemetry.StartStep(definition.Name, instance.State, instance.InstanceId, instance.Attempts + 1, instance.TraceParent);
        InstanceRecord? next;
        try
        {
            next = await StepCoreAsync(definition, instance, now, cancellationToken);
        }
        catch (Exception ex)
        {
            // Storage trouble or a crash-test fault: the instance is left for recovery by a sweep.
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            PlatformTelemetry.WorkflowSteps.Add(1, new TagList { { "workflow", definition.Name }, { "state", instance.State }, { "outcome", "interrupted" } });
            throw;
        }

        // lost: another worker advanced the instance first (W3); failed: the step threw and will be retried or parked
        var outcome = next is null ? "lost" : next.LastError is not null ? "failed" : "committed";
        if (outcome != "committed")
        {
            activity?.SetStatus(ActivityStatusCode.Error, next?.LastError);
        }

        activity?.SetTag("workflow.outcome", outcome);
        activity?.SetTag("workflow.next_state", next?.State);
        var tags = new TagList { { "workflow", definition.Name }, { "state", instance.State }, { "outcome", outcome } };
        PlatformTelemetry.WorkflowSteps.Add(1, tags);
        PlatformTelemetry.WorkflowStepDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, tags);
        return next;
    }

    private async Task<InstanceRecord?> StepCoreAsync(IWorkflowDefinition definition, InstanceRecord instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var attempt = instance.Attempts + 1;
        StepOutcome outcome;
        try
        {
            if (!definition.HasStep(instance.State))
            {
                throw new InvalidOperationException($"State '{instance.State}' has no step in workflow '{definition.Name}'.");
            }

            outcome = await definition.RunStepAsync(
                new StepInput(instance.InstanceId, instance.State, instance.Data, attempt, instance.Sequence, now, instance.DeliveredEvent),
                cancellationToken);
            EnsureSamePartition(instance.Location, outcome.Writes);
            EnsureKnownTarget(definition, outcome.Transition);
            CheckSize(outcome.Data);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return await FailAsync(instance, attempt, ex, cancellationToken);
        }

        now = _time.GetUtcNow();
        var next = instance.Copy();
        next.Data = outcome.Data;
        next.DeliveredEvent = null;
        next.Attempts = 0;
        next.LastError = null;
        next.Sequence++;
        next.LeaseUntil = now + Lease;
        next.UpdatedAt = now;
        var from = instance.State;
        switch (outcome.Transition)
        {
            case Transition.MoveTo moveTo:
                next.State = moveTo.State;
                break;
            case Transition.Complete complete:
                next.State = complete.State;
                next.Status = WorkflowStatus.Completed;
                break;
            case Transition.WaitUntil until:
                next.Status = WorkflowStatus.Waiting;
                next.Wait = WaitKind.Until;
                next.ResumeState = until.State;
                next.DueAt = until.DueAt;
                break;
            case Transition.WaitForEvent forEvent:
                next.Status = WorkflowStatus.Waiting;
                next.Wait = WaitKind.Event;
                next.EventName = forEvent.EventName;
                next.ResumeState = forEvent.OnEvent;
                next.TimeoutState = forEvent.OnTimeout;
                next.DueAt = forEvent.TimeoutAt;
                break;
        }

        next.Record(from, _options.HistoryLimit);
        try
        {
            return await CommitAsync(instance, next, outcome.Writes, outcome.Messages, cancellationToken);
        }
        catch (StepWriteRejectedException ex)
        {
            // The step's own writes are what storage refused: a step failure, retried then parked, not a crash to recover forever.
            return await FailAsync(instance, attempt, ex, cancellationToken);
        }
    }

    private async Task<InstanceRecord?> FailAsync(InstanceRecord instance, int attempt, Exception error, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var next = instance.Copy();
        next.Attempts = attempt;
        next.LastError = $"{error.GetType().Name}: {error.Message}";
        next.UpdatedAt = now;
        if (attempt >= _options.MaxAttempts)
        {
            next.Status = WorkflowStatus.Faulted;
            next.Record(instance.State, _options.HistoryLimit, attempt, next.LastError);
            LogFaulted(_logger, instance.InstanceId, instance.Workflow, instance.State, attempt, error);
            await _index.RecordFaultAsync(next, cancellationToken);
            return await CommitAsync(instance, next, [], [], cancellationToken);
        }

        // Exponential backoff with jitter, then the same state again: no hot loop (W6).
        var backoff = TimeSpan.FromMilliseconds(Math.Min(
            _options.RetryMaxSeconds * 1000.0,
            _options.RetryBaseMilliseconds * Math.Pow(2, attempt - 1) * (0.8 + (Random.Shared.NextDouble() * 0.4))));
        next.Status = WorkflowStatus.Waiting;
        next.Wait = WaitKind.Retry;
        next.DueAt = now + backoff;
        next.Record(instance.State, _options.HistoryLimit, attempt, next.LastError);
        LogRetry(_logger, instance.InstanceId, instance.State, attempt, backoff.TotalMilliseconds, error);
        return await CommitAsync(instance, next, [], [], cancellationToken);
    }

    /// <summary>
    /// One ETag-checked write of the instance (with the step's own writes and outbox rows when it has
    /// them). The due-index entry is moved around it only when the due time changes: the new entry
    /// first, the old one after, so a crash never leaves an instance without one. Null means another
    /// worker advanced the instance first (W3) and this one stands down.
    /// </summary>
    private async Task<InstanceRecord?> CommitAsync(
        InstanceRecord current, InstanceRecord next, IReadOnlyList<TableTransactionAction> writes, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        var oldKey = current.IndexKey;
        next.Version = current.Version + 1;
        next.CommitId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        if (next.Status == WorkflowStatus.Waiting && next.DueAt is { } due)
        {
            next.IndexKey = InstanceRecord.IndexRowKey(due, next.InstanceId);
            if (next.IndexKey != oldKey)
            {
                await _index.PutAsync(next, next.IndexKey, cancellationToken);
                _wakeups?.Arm(due); // if no instance runs then, the wake-up starts one for the sweep
            }
        }

        var table = _storage.Table(next.Location.Table);
        var outbox = messages.Select(m => new TableTransactionAction(TableTransactionActionType.UpsertReplace, OutboxRow(next.Location, m))).ToList();
        try
        {
            if (writes.Count == 0 && outbox.Count == 0)
            {
                var updated = await table.UpdateEntityAsync(next.ToEntity(), current.ETag, TableUpdateMode.Replace, cancellationToken);
                next.ETag = updated.Headers.ETag ?? ETag.All;
            }
            else
            {
                var response = await _batcher.SubmitAsync(table,
                    [new TableTransactionAction(TableTransactionActionType.UpdateReplace, next.ToEntity(), current.ETag), .. writes, .. outbox],
                    cancellationToken);
                next.ETag = response[0].Headers.ETag ?? ETag.All;
            }
        }
        catch (Exception ex) when (ex is RequestFailedException { Status: 412 or 404 } || (ex is TableTransactionFailedException { FailedTransactionActionIndex: 0 } first && first.Status is 412 or 404))
        {
            // A retried request meets its own first attempt's change as a conflict: was the write ours after all?
            if (await LandedAsync(next, cancellationToken) is not { } stored)
            {
                if (next.IndexKey != oldKey)
                {
                    await _index.DeleteAsync(next.InstanceId, next.IndexKey, cancellationToken);
                }

                LogLostRace(_logger, next.InstanceId);
                return null;
            }

            next.ETag = stored.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status is 0 or 408 or >= 500)
        {
            // The outcome is unknown: if the write took effect and only its answer was lost, go on from it.
            var stored = await LandedAsync(next, cancellationToken);
            if (stored is null)
            {
                throw;
            }

            next.ETag = stored.ETag;
        }
        catch (Exception ex) when (IsRejection(ex))
        {
            if (next.IndexKey != oldKey)
            {
                await _index.DeleteAsync(next.InstanceId, next.IndexKey, cancellationToken);
            }

            throw new StepWriteRejectedException($"Storage refused the step's writes: {ex.Message}", ex);
        }

        // The transition is committed: say so before any clean-up that may fail (a failed index delete
        // once hid completions from observers; the sweep removes a stale entry anyway).
        Notify(next, current.State);
        if (next.IndexKey != oldKey)
        {
            await _index.DeleteAsync(next.InstanceId, oldKey, cancellationToken);
        }

        foreach (var message in messages)
        {
            await DispatchAsync(next.Location, message, cancellationToken);
        }

        return next;
    }

    /// <summary>The stored instance if it holds exactly the write <paramref name="next"/> (same commit id), else null.</summary>
    private async Task<InstanceRecord?> LandedAsync(InstanceRecord next, CancellationToken cancellationToken)
    {
        var stored = await LoadAsync(next.Location, cancellationToken);
        if (stored is null || stored.CommitId != next.CommitId)
        {
            return null;
        }

        LogLostAnswer(_logger, next.InstanceId);
        return stored;
    }

    private void Notify(InstanceRecord instance, string? from)
    {
        if (_observers.Length == 0)
        {
            return;
        }

        var transition = new WorkflowTransition(instance.InstanceId, instance.Workflow, from, instance.State, instance.Status, instance.UpdatedAt);
        foreach (var observer in _observers)
        {
            observer.OnTransition(transition);
        }
    }

    private async Task DispatchAsync(WorkflowLocation location, OutboxMessage message, CancellationToken cancellationToken)
    {
        var dispatcher = _dispatchers.GetValueOrDefault(message.Topic)
            ?? throw new InvalidOperationException($"No outbox dispatcher for topic '{message.Topic}'.");
        await dispatcher.DispatchAsync(message, cancellationToken);
        try
        {
            await _storage.Table(location.Table).DeleteEntityAsync(location.PartitionKey, OutboxRowKey(location, message.MessageId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    private async Task DispatchLeftoversAsync(InstanceRecord instance, CancellationToken cancellationToken)
    {
        var prefix = instance.Location.RowKey + "|outbox|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {instance.Location.PartitionKey} and RowKey ge {prefix} and RowKey lt {instance.Location.RowKey + "|outbox}"}");
        await foreach (var row in _storage.Table(instance.Location.Table).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            await DispatchAsync(instance.Location, new OutboxMessage(row.GetString("MessageId") ?? "", row.GetString("Topic") ?? "", row.GetString("Payload") ?? ""), cancellationToken);
        }
    }

    private void ArmTimer(InstanceRecord instance, DateTimeOffset now)
    {
        now = _time.GetUtcNow() > now ? _time.GetUtcNow() : now;
        var delay = instance.DueAt!.Value - now;
        if (delay <= TimeSpan.Zero)
        {
            delay = TimeSpan.Zero; // came due while we looked: fire at once
        }

        if (!_options.Worker || delay > TimeSpan.FromSeconds(_options.InMemoryTimerHorizonSeconds))
        {
            return; // the sweep fires it when due
        }

        var location = instance.Location;
        var instanceId = instance.InstanceId;
        if (delay == TimeSpan.Zero)
        {
            // Due already: run now rather than through a timer (a clock that only moves when told to would never fire it).
            Fire(instanceId, location);
            return;
        }

        var timer = _time.CreateTimer(_ =>
        {
            Fire(instanceId, location);
            _timers.TryRemove(instanceId, out var fired);
            fired?.Dispose();
        }, null, delay, Timeout.InfiniteTimeSpan);
        if (_timers.TryRemove(instance.InstanceId, out var previous))
        {
            previous.Dispose();
        }

        _timers[instance.InstanceId] = timer;
    }

    /// <summary>Runs an instance whose wait this process timed; until that run ends, this process' sweeps leave its entry alone.</summary>
    private void Fire(string instanceId, WorkflowLocation location)
    {
        _firing[instanceId] = _time.GetUtcNow();
        _queue.Enqueue(async ct =>
        {
            try
            {
                if (await LoadAsync(location, ct) is { } fresh)
                {
                    await RunSafelyAsync(fresh, ct);
                }
            }
            finally
            {
                _firing.TryRemove(instanceId, out _);
            }
        });
    }

    /// <summary>
    /// Whether this process times <paramref name="instanceId"/>'s wait itself (armed, or fired less than a lease
    /// ago): its sweeps then skip the due entry, so one process does not run the same step twice at the
    /// instant it comes due (a webhook would be sent twice). Other processes still recover it after the lease.
    /// </summary>
    internal bool TimesItself(string instanceId) =>
        _timers.ContainsKey(instanceId) || (_firing.TryGetValue(instanceId, out var at) && _time.GetUtcNow() - at < Lease);

    private async Task<InstanceRecord?> LoadAsync(WorkflowLocation location, CancellationToken cancellationToken)
    {
        var found = await _storage.Table(location.Table).GetEntityIfExistsAsync<TableEntity>(location.PartitionKey, location.RowKey, cancellationToken: cancellationToken);
        return found.HasValue ? InstanceRecord.FromEntity(location.Table, found.Value!) : null;
    }

    private static TableEntity OutboxRow(WorkflowLocation location, OutboxMessage message) =>
        new(location.PartitionKey, OutboxRowKey(location, message.MessageId))
        {
            ["MessageId"] = message.MessageId,
            ["Topic"] = message.Topic,
            ["Payload"] = message.Payload,
        };

    private static string OutboxRowKey(WorkflowLocation location, string messageId) => $"{location.RowKey}|outbox|{messageId}";

    /// <summary>A 4xx other than a lost race: the request itself was wrong, so repeating it cannot succeed.</summary>
    private static bool IsRejection(Exception ex) => ex switch
    {
        TableTransactionFailedException failed => failed.Status is >= 400 and < 500,
        RequestFailedException failed => failed.Status is >= 400 and < 500 and not 408 and not 429,
        _ => false,
    };

    private static string CheckSize(string data) =>
        data.Length <= MaxDataLength
            ? data
            : throw new InvalidOperationException($"Workflow data is {data.Length} characters; at most {MaxDataLength} fit in the instance row. Keep large content in its own rows or blobs.");

    /// <summary>
    /// Real Azure rejects a transaction that spans partitions, Azurite accepts it: refuse it here so
    /// what passes locally also works in the cloud.
    /// </summary>
    internal static void EnsureSamePartition(WorkflowLocation location, IEnumerable<TableTransactionAction> writes)
    {
        foreach (var write in writes)
        {
            if (write.Entity.PartitionKey != location.PartitionKey)
            {
                throw new InvalidOperationException(
                    $"A write to partition '{write.Entity.PartitionKey}' cannot share a transaction with an instance in partition '{location.PartitionKey}'.");
            }
        }
    }

    private static void EnsureKnownTarget(IWorkflowDefinition definition, Transition transition)
    {
        (string State, bool Terminal)[] targets = transition switch
        {
            Transition.MoveTo t => [(t.State, false)],
            Transition.Complete t => [(t.State, true)],
            Transition.WaitUntil t => [(t.State, false)],
            Transition.WaitForEvent t => [(t.OnEvent, false), (t.OnTimeout, false)],
            _ => throw new InvalidOperationException("Unknown transition."),
        };
        foreach (var (target, terminal) in targets)
        {
            if (terminal ? !definition.IsTerminal(target) : !definition.HasStep(target))
            {
                throw new InvalidOperationException($"Transition to '{target}', which workflow '{definition.Name}' does not declare as {(terminal ? "terminal" : "a step")}.");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workflow {InstanceId}: a transition's answer was lost but the write had landed; going on")]
    private static partial void LogLostAnswer(ILogger logger, string instanceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow instance {InstanceId} left for recovery after a fault")]
    private static partial void LogAbandoned(ILogger logger, string instanceId, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Workflow instance {InstanceId} ({Workflow}) faulted in state {State} after {Attempts} tries")]
    private static partial void LogFaulted(ILogger logger, string instanceId, string workflow, string state, int attempts, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow instance {InstanceId} step {State} failed (try {Attempt}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string instanceId, string state, int attempt, double delayMs, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow instance {InstanceId} was advanced by another worker first")]
    private static partial void LogLostRace(ILogger logger, string instanceId);
}

/// <summary>Storage refused a step's writes (a 4xx): the step failed, not the process.</summary>
public sealed class StepWriteRejectedException(string message, Exception inner) : Exception(message, inner);

/// <summary>An instance parked as faulted, as listed for operators.</summary>
public sealed record FaultedWorkflow(string InstanceId, string Workflow, string State, string? Error, DateTimeOffset FaultedAt, WorkflowLocation Location);

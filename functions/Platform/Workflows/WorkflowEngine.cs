using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Telemetry;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// Durable workflows on Azure Storage alone — the API the rest of the app uses: start an instance, send
/// it an event, read it, list and retry faulted ones. Running instances is the <see cref="WorkflowRunner"/>'s:
/// this side only hands it what it started, through the in-process <see cref="WorkflowWorkQueue"/>, so code
/// that starts workflows (a notice writer, an endpoint) never depends on the definitions the runner runs.
/// </summary>
public sealed class WorkflowEngine
{
    private readonly StorageResources _storage;
    private readonly WorkflowIndex _index;
    private readonly TransactionBatcher _batcher;
    private readonly WorkflowWorkQueue _queue;
    private readonly TimeProvider _time;
    private readonly WorkflowOptions _options;
    private readonly HashSet<Type> _registered;
    private readonly IWorkflowObserver[] _observers;

    internal WorkflowEngine(
        StorageResources storage,
        TransactionBatcher batcher,
        WorkflowIndex index,
        WorkflowWorkQueue queue,
        TimeProvider time,
        IOptions<WorkflowOptions> options,
        IEnumerable<WorkflowRegistration> registrations,
        IEnumerable<IWorkflowObserver> observers)
    {
        _storage = storage;
        _batcher = batcher;
        _index = index;
        _queue = queue;
        _time = time;
        _options = options.Value;
        _registered = [.. registrations.Select(r => r.DefinitionType)];
        _observers = [.. observers];
    }

    private TimeSpan Lease => TimeSpan.FromSeconds(_options.LeaseSeconds);

    /// <summary>
    /// Starts an instance in the business entity's partition. <paramref name="with"/> are the caller's
    /// own writes in that same table and partition (e.g. "document accepted"): they and the instance
    /// commit as one transaction, so both exist or neither (W1). Starting an id again is a no-op
    /// (returns false), as is a start whose writes collide with existing rows or with rows changed since read (ETag). <paramref name="startInput"/>
    /// is what the caller already holds for the first step (e.g. bytes it has just written): that step
    /// sees it as <see cref="StepContext{TData}.StartInput"/> when it runs in this process right after the
    /// start; anywhere else (a recovery, another process) it is null and the step reads storage.
    /// <paramref name="committed"/>, when given, is told storage's answers to <paramref name="with"/> (in order) once they
    /// committed: a caller that keeps a row's ETag (a counter it writes again) need not read the row again.
    /// </summary>
    public async Task<bool> StartAsync<TData>(
        WorkflowDefinition<TData> definition,
        WorkflowLocation location,
        string instanceId,
        TData data,
        IEnumerable<TableTransactionAction>? with = null,
        FirstStepInput? startInput = null,
        Action<IReadOnlyList<Response>>? committed = null,
        CancellationToken cancellationToken = default)
        where TData : class
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(location);
        InstanceRecord.ValidateId(instanceId, "Instance id");
        if (!_registered.Contains(definition.GetType()))
        {
            throw new InvalidOperationException($"Workflow '{definition.Name}' is not registered (AddWorkflow).");
        }

        var extra = with?.ToList() ?? [];
        WorkflowRunner.EnsureSamePartition(location, extra);
        var now = _time.GetUtcNow();
        var instance = new InstanceRecord
        {
            Location = location,
            InstanceId = instanceId,
            Workflow = definition.Name,
            State = definition.InitialState,
            Status = WorkflowStatus.Running,
            Data = WorkflowRunner.CheckSize(definition.Serialize(data)),
            LeaseUntil = now + Lease,
            CreatedAt = now,
            UpdatedAt = now,
            Version = 1,
            TraceParent = PlatformTelemetry.CurrentTraceParent(),
            IndexKey = InstanceRecord.IndexRowKey(now + Lease, instanceId),
        };
        instance.Record(null, _options.HistoryLimit);
        instance.StartInput = startInput?.Value;

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
                committed?.Invoke([.. response.Skip(1)]);
            }
        }
        catch (Exception ex) when (ex is RequestFailedException { Status: 409 } or TableTransactionFailedException { Status: 409 or 412 })
        {
            // Nothing was started: take the intent back at once rather than leave it to the sweep's grace period.
            await _index.DeleteAsync(instanceId, instance.IndexKey, cancellationToken);
            return false;
        }

        WorkflowObservation.Notify(_observers, instance, null);
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
    public async Task<bool> RaiseEventAsync(WorkflowLocation location, string eventName, string? payload = null, CancellationToken cancellationToken = default) =>
        await RaiseEventAsync(location, eventName, payload, [], cancellationToken) == EventDelivery.Delivered;

    /// <summary>
    /// Delivers an event together with the caller's own writes in the instance's partition, as one transaction:
    /// the writes land if and only if the event does (W1). A write that collides (its ETag is stale, or an Add finds
    /// its row), or an instance that moved meanwhile, delivers nothing and answers <see cref="EventDelivery.WritesConflicted"/>:
    /// the caller reads again and decides again. Without writes of the caller's, a moved instance is read again and the delivery retried.
    /// </summary>
    public async Task<EventDelivery> RaiseEventAsync(
        WorkflowLocation location, string eventName, string? payload, IReadOnlyList<TableTransactionAction> with, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        ArgumentNullException.ThrowIfNull(with);
        WorkflowRunner.EnsureSamePartition(location, with);
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var instance = await LoadAsync(location, cancellationToken);
            if (instance is null || instance.IsFinished)
            {
                return EventDelivery.InstanceFinished;
            }

            var next = instance.Copy();
            next.PendingEvents[eventName] = payload;
            next.UpdatedAt = _time.GetUtcNow();
            next.Version = instance.Version + 1;
            try
            {
                if (with.Count == 0)
                {
                    var updated = await _storage.Table(location.Table).UpdateEntityAsync(next.ToEntity(), instance.ETag, TableUpdateMode.Replace, cancellationToken);
                    next.ETag = updated.Headers.ETag ?? ETag.All;
                }
                else
                {
                    var response = await _batcher.SubmitAsync(_storage.Table(location.Table),
                        [new TableTransactionAction(TableTransactionActionType.UpdateReplace, next.ToEntity(), instance.ETag), .. with], cancellationToken);
                    next.ETag = response[0].Headers.ETag ?? ETag.All;
                }

                if (next.Status == WorkflowStatus.Waiting && next.Wait == WaitKind.Event && next.EventName == eventName)
                {
                    _queue.Enqueue((runner, ct) => runner.RunSafelyAsync(next, ct));
                }

                return EventDelivery.Delivered;
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && with.Count == 0)
            {
                // The instance moved meanwhile: read it again and deliver to its new state.
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
            {
                // The instance or one of the caller's rows changed since read (storage does not always say which action
                // failed): nothing was written this time, and the caller decides again on what is there now. The change
                // may be this very delivery, landed on an earlier try whose answer was lost: an instance waiting with
                // the event pending is woken, as the lost answer would have done.
                await WakeAsync(location, eventName, cancellationToken);
                return EventDelivery.WritesConflicted;
            }
        }

        throw new InvalidOperationException($"Could not deliver '{eventName}' to '{location.RowKey}': too much contention.");
    }

    /// <summary>Runs an instance here that waits for <paramref name="eventName"/> while it is already pending (a delivery whose answer was lost).</summary>
    private async Task WakeAsync(WorkflowLocation location, string eventName, CancellationToken cancellationToken)
    {
        if (await LoadAsync(location, cancellationToken) is { Status: WorkflowStatus.Waiting, Wait: WaitKind.Event } instance
            && instance.EventName == eventName && instance.PendingEvents.ContainsKey(eventName))
        {
            _queue.Enqueue((runner, ct) => runner.RunSafelyAsync(instance, ct));
        }
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
            _queue.Enqueue((runner, ct) => runner.RunSafelyAsync(instance, ct));
        }
    }

    private Task<InstanceRecord?> LoadAsync(WorkflowLocation location, CancellationToken cancellationToken) =>
        InstanceRecord.ReadAsync(_storage, location, cancellationToken);
}

/// <summary>What became of an event raised with the caller's writes.</summary>
public enum EventDelivery
{
    Delivered,

    /// <summary>No instance there, or it has finished: nothing was written.</summary>
    InstanceFinished,

    /// <summary>One of the caller's writes, or the instance, changed since read: nothing was written.</summary>
    WritesConflicted,
}

/// <summary>A workflow definition registered with <see cref="WorkflowServiceCollectionExtensions.AddWorkflow{TDefinition}"/>: only these may be started.</summary>
public sealed record WorkflowRegistration(Type DefinitionType);

/// <summary>What a starter hands to the first step it runs in this process (<see cref="StepContext{TData}.StartInput"/>).</summary>
public sealed record FirstStepInput(object Value);

/// <summary>Storage refused a step's writes (a 4xx): the step failed, not the process.</summary>
public sealed class StepWriteRejectedException(string message, Exception inner) : Exception(message, inner);

/// <summary>An instance parked as faulted, as listed for operators.</summary>
public sealed record FaultedWorkflow(string InstanceId, string Workflow, string State, string? Error, DateTimeOffset FaultedAt, WorkflowLocation Location);

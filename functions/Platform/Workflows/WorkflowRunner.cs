using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// Runs workflow instances. Every transition is one ETag-checked write of the instance row (W3) that also
/// renews its lease; after a commit the next step runs at once in this process (no queue receive on the hot
/// path); the due index and sweeps in every process recover what a crash left (W4, W7) and fire timers (W5).
/// <para>In parts: this file is the run loop (the work queue's consumer, recovery, waits);
/// <c>WorkflowRunner.Steps.cs</c> a step and its retries, <c>WorkflowRunner.Commit.cs</c> the transition's
/// write, <see cref="InstanceTimers"/> the in-memory timers and <see cref="WorkflowOutbox"/> the messages sent
/// after a commit. <see cref="WorkflowEngine"/> is the API that starts instances.</para>
/// </summary>
internal sealed partial class WorkflowRunner : BackgroundService
{
    /// <summary>Instance data is one table property: at most 32K UTF-16 characters, with room for the rest.</summary>
    internal const int MaxDataLength = 30_000;

    private readonly StorageResources _storage;
    private readonly WorkflowIndex _index;
    private readonly TransactionBatcher _batcher;
    private readonly WorkflowWorkQueue _queue;
    private readonly TimeProvider _time;
    private readonly WorkflowOptions _options;
    private readonly ILogger<WorkflowRunner> _logger;
    private readonly Dictionary<string, IWorkflowDefinition> _definitions;
    private readonly WorkflowOutbox _outbox;
    private readonly InstanceTimers _timers;
    private readonly IWorkflowObserver[] _observers;
    private readonly Timers.WakeupAlarm? _wakeups;
    private readonly Random _jitter;

    public WorkflowRunner(
        StorageResources storage,
        TransactionBatcher batcher,
        WorkflowIndex index,
        WorkflowWorkQueue queue,
        TimeProvider time,
        IOptions<WorkflowOptions> options,
        IEnumerable<IWorkflowDefinition> definitions,
        IEnumerable<IOutboxDispatcher> dispatchers,
        IEnumerable<IWorkflowObserver> observers,
        ILogger<WorkflowRunner> logger,
        Timers.WakeupAlarm? wakeups = null,
        Random? jitter = null)
    {
        _storage = storage;
        _batcher = batcher;
        _index = index;
        _queue = queue;
        _time = time;
        _options = options.Value;
        _logger = logger;
        _observers = [.. observers];
        _wakeups = wakeups;
        _jitter = jitter ?? Random.Shared;
        _definitions = definitions.ToDictionary(d => d.Name, StringComparer.Ordinal);
        foreach (var definition in _definitions.Values)
        {
            definition.Validate(); // a workflow whose states do not form a whole machine stops the start-up
        }

        _outbox = new WorkflowOutbox(storage, dispatchers);
        _timers = new InstanceTimers(time, Lease, _options, queue, RunStoredAsync);
    }

    private TimeSpan Lease => TimeSpan.FromSeconds(_options.LeaseSeconds);

    /// <summary>
    /// Whether this process times <paramref name="instanceId"/>'s wait itself: its sweeps then skip the due entry
    /// (see <see cref="InstanceTimers.TimesItself"/>).
    /// </summary>
    internal bool TimesItself(string instanceId) => _timers.TimesItself(instanceId);

    /// <summary>Runs what is queued, at most <see cref="WorkflowOptions.MaxConcurrency"/> items at a time.</summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, _options.MaxConcurrency)).Select(_ => _queue.ConsumeAsync(this, stoppingToken)));

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
        var instance = await InstanceRecord.ReadAsync(_storage, WorkflowIndex.LocationOf(entry), cancellationToken);
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
            await _outbox.DispatchLeftoversAsync(instance.Location, cancellationToken);
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

        await _outbox.DispatchLeftoversAsync(instance.Location, cancellationToken);

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
                        _timers.Arm(instance.InstanceId, instance.Location, instance.DueAt!.Value, now);
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

    /// <summary>Runs the instance as storage has it now (after its in-memory timer fired).</summary>
    private async Task RunStoredAsync(WorkflowLocation location, CancellationToken cancellationToken)
    {
        if (await InstanceRecord.ReadAsync(_storage, location, cancellationToken) is { } fresh)
        {
            await RunSafelyAsync(fresh, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow instance {InstanceId} left for recovery after a fault")]
    private static partial void LogAbandoned(ILogger logger, string instanceId, Exception exception);

}

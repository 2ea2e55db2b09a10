using System.Diagnostics;
using BusinessApi.Platform.Telemetry;

namespace BusinessApi.Platform.Workflows;

/// <summary>One step of an instance: run it, check where it goes, commit the transition, or retry and park it when it fails (W6).</summary>
internal sealed partial class WorkflowRunner
{
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

    /// <summary>
    /// Runs the step, and the steps after it while each only moves on (<see cref="WorkflowOptions.ChainedSteps"/>), then
    /// commits them as one transition write. A chained step that fails leaves the chain committed up to it, to run again
    /// as a step of its own (its tries counted as ever).
    /// </summary>
    private async Task<InstanceRecord?> StepCoreAsync(IWorkflowDefinition definition, InstanceRecord instance, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var current = instance; // where the chain has got to in memory; instance is as committed
        var chain = new List<(InstanceRecord Record, string From)>();
        var started = _time.GetTimestamp();
        while (true)
        {
            var attempt = current.Attempts + 1;
            StepOutcome outcome;
            try
            {
                if (!definition.HasStep(current.State))
                {
                    throw new InvalidOperationException($"State '{current.State}' has no step in workflow '{definition.Name}'.");
                }

                outcome = await definition.RunStepAsync(
                    new StepInput(current.InstanceId, current.State, current.Data, attempt, current.Sequence, now, current.DeliveredEvent) { StartInput = current.StartInput },
                    cancellationToken);
                EnsureSamePartition(current.Location, outcome.Writes);
                EnsureDeclared(definition, current.State, outcome.Transition);
                CheckSize(outcome.Data);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return chain.Count > 0
                    ? await CommitAsync(instance, current, [], [], cancellationToken, chain[..^1])
                    : await FailAsync(instance, attempt, ex, cancellationToken);
            }

            now = _time.GetUtcNow();
            var next = current.Copy();
            next.Data = outcome.Data;
            next.DeliveredEvent = null;
            next.Attempts = 0;
            next.LastError = null;
            next.Sequence++;
            next.LeaseUntil = now + Lease;
            next.UpdatedAt = now;
            var from = current.State;
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
            chain.Add((next, from));
            if (outcome.Transition is Transition.MoveTo && outcome.Writes.Count == 0 && outcome.Messages.Count == 0
                && chain.Count < _options.ChainedSteps && _time.GetElapsedTime(started) < Lease / 2)
            {
                current = next; // only moved on: the next step runs now, and one write will record both
                continue;
            }

            try
            {
                return await CommitAsync(instance, next, outcome.Writes, outcome.Messages, cancellationToken, chain[..^1]);
            }
            catch (StepWriteRejectedException ex)
            {
                // The step's own writes are what storage refused: a step failure, retried then parked, not a crash to recover forever.
                return chain.Count > 1
                    ? await CommitAsync(instance, current, [], [], cancellationToken, chain[..^2])
                    : await FailAsync(instance, attempt, ex, cancellationToken);
            }
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
        var backoff = RetryBackoff.Delay(attempt, TimeSpan.FromMilliseconds(_options.RetryBaseMilliseconds), TimeSpan.FromSeconds(_options.RetryMaxSeconds), _jitter);
        next.Status = WorkflowStatus.Waiting;
        next.Wait = WaitKind.Retry;
        next.DueAt = now + backoff;
        next.Record(instance.State, _options.HistoryLimit, attempt, next.LastError);
        LogRetry(_logger, instance.InstanceId, instance.State, attempt, backoff.TotalMilliseconds, error);
        return await CommitAsync(instance, next, [], [], cancellationToken);
    }

    internal static string CheckSize(string data) =>
        data.Length <= MaxDataLength
            ? data
            : throw new InvalidOperationException($"Workflow data is {data.Length} characters; at most {MaxDataLength} fit in the instance row. Keep large content in its own rows or blobs.");

    /// <summary>A step may only go where its state declares (<see cref="WorkflowDefinition{TData}.Validate"/> checked the rest at start-up).</summary>
    private static void EnsureDeclared(IWorkflowDefinition definition, string from, Transition transition)
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

            if (!definition.Allows(from, target))
            {
                throw new InvalidOperationException($"Transition from '{from}' to '{target}', which workflow '{definition.Name}' does not declare.");
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Workflow instance {InstanceId} ({Workflow}) faulted in state {State} after {Attempts} tries")]
    private static partial void LogFaulted(ILogger logger, string instanceId, string workflow, string state, int attempts, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow instance {InstanceId} step {State} failed (try {Attempt}); retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string instanceId, string state, int attempt, double delayMs, Exception exception);
}

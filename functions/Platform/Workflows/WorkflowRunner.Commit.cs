using System.Security.Cryptography;
using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Workflows;

/// <summary>A transition's one ETag-checked write, and what the engine does when its answer is lost or refused (W3).</summary>
internal sealed partial class WorkflowRunner
{
    /// <summary>
    /// One ETag-checked write of the instance (with the step's own writes and outbox rows when it has
    /// them). The due-index entry is moved around it only when the due time changes: the new entry
    /// first, the old one after, so a crash never leaves an instance without one. Null means another
    /// worker advanced the instance first (W3) and this one stands down.
    /// </summary>
    /// <param name="chained">Transitions made in memory before <paramref name="next"/>'s and written with it (each with the state
    /// it left): observers hear of them in order, as if each had been written alone.</param>
    private async Task<InstanceRecord?> CommitAsync(
        InstanceRecord current, InstanceRecord next, IReadOnlyList<TableTransactionAction> writes, IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken,
        IReadOnlyList<(InstanceRecord Record, string From)>? chained = null)
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
        var outbox = messages.Select(m => new TableTransactionAction(TableTransactionActionType.UpsertReplace, WorkflowOutbox.Row(next.Location, m))).ToList();
        var expected = current;
        for (var round = 0; ; round++)
        {
            try
            {
                if (writes.Count == 0 && outbox.Count == 0)
                {
                    var updated = await table.UpdateEntityAsync(next.ToEntity(), expected.ETag, TableUpdateMode.Replace, cancellationToken);
                    next.ETag = updated.Headers.ETag ?? ETag.All;
                }
                else
                {
                    var response = await _batcher.SubmitAsync(table,
                        [new TableTransactionAction(TableTransactionActionType.UpdateReplace, next.ToEntity(), expected.ETag), .. writes, .. outbox],
                        cancellationToken);
                    next.ETag = response[0].Headers.ETag ?? ETag.All;
                }
            }
            catch (Exception ex) when (ex is RequestFailedException { Status: 412 or 404 } || (ex is TableTransactionFailedException { FailedTransactionActionIndex: 0 } first && first.Status is 412 or 404))
            {
                // Only events arrived while the step ran: keep them beside this transition and write it again, rather than
                // stand down and leave the instance to wait out its lease (a caller raising an event must not stall it).
                if (round < 20 && await InstanceRecord.ReadAsync(_storage, next.Location, cancellationToken) is { } moved && OnlyEventsAdded(expected, moved))
                {
                    foreach (var (name, payload) in moved.PendingEvents)
                    {
                        if (!expected.PendingEvents.TryGetValue(name, out var seen) || seen != payload)
                        {
                            next.PendingEvents[name] = payload;
                        }
                    }

                    next.Version = moved.Version + 1;
                    expected = moved;
                    continue;
                }

                // A retried request meets its own first attempt's change as a conflict: was the write ours after all?
                if (await LandedAsync(next, cancellationToken) is not { } stored)
                {
                    await TakeBackEntryAsync(next, oldKey, cancellationToken);
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
                await TakeBackEntryAsync(next, oldKey, cancellationToken);
                throw new StepWriteRejectedException($"Storage refused the step's writes: {ex.Message}", ex);
            }

            break;
        }

        // The transition is committed: say so before any clean-up that may fail (a failed index delete
        // once hid completions from observers; the sweep removes a stale entry anyway).
        foreach (var (record, from) in chained ?? [])
        {
            WorkflowObservation.Notify(_observers, record, from);
        }

        WorkflowObservation.Notify(_observers, next, chained is [.., var last] ? last.Record.State : current.State);
        if (next.IndexKey != oldKey)
        {
            await _index.DeleteAsync(next.InstanceId, oldKey, cancellationToken);
        }

        foreach (var message in messages)
        {
            await _outbox.DispatchAsync(next.Location, message, cancellationToken);
        }

        return next;
    }

    /// <summary>
    /// A transition that did not commit takes back the due entry it wrote for itself, unless the instance as stored now
    /// has that very entry as its own: two workers running one step reach the same due time (a window's end, the next
    /// opening), and the loser must not delete the winner's only entry, or the instance would wait for ever.
    /// </summary>
    private async Task TakeBackEntryAsync(InstanceRecord next, string oldKey, CancellationToken cancellationToken)
    {
        if (next.IndexKey != oldKey
            && (await InstanceRecord.ReadAsync(_storage, next.Location, cancellationToken))?.IndexKey != next.IndexKey)
        {
            await _index.DeleteAsync(next.InstanceId, next.IndexKey, cancellationToken);
        }
    }

    /// <summary>
    /// Whether <paramref name="stored"/> is <paramref name="expected"/> plus events raised since (no transition, no
    /// retry, no other worker's commit): the only change a step may safely write over, keeping the events.
    /// </summary>
    private static bool OnlyEventsAdded(InstanceRecord expected, InstanceRecord stored) =>
        stored.CommitId == expected.CommitId && stored.Sequence == expected.Sequence && stored.State == expected.State
        && stored.Status == expected.Status && stored.LeaseUntil == expected.LeaseUntil && stored.Attempts == expected.Attempts
        && stored.Version > expected.Version && stored.PendingEvents.Count >= expected.PendingEvents.Count;

    /// <summary>The stored instance if it holds exactly the write <paramref name="next"/> (same commit id), else null.</summary>
    private async Task<InstanceRecord?> LandedAsync(InstanceRecord next, CancellationToken cancellationToken)
    {
        var stored = await InstanceRecord.ReadAsync(_storage, next.Location, cancellationToken);
        if (stored is null || stored.CommitId != next.CommitId)
        {
            return null;
        }

        LogLostAnswer(_logger, next.InstanceId);
        return stored;
    }

    /// <summary>A 4xx other than a lost race: the request itself was wrong, so repeating it cannot succeed.</summary>
    private static bool IsRejection(Exception ex) => ex switch
    {
        TableTransactionFailedException failed => failed.Status is >= 400 and < 500,
        RequestFailedException failed => failed.Status is >= 400 and < 500 and not 408 and not 429,
        _ => false,
    };

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Workflow {InstanceId}: a transition's answer was lost but the write had landed; going on")]
    private static partial void LogLostAnswer(ILogger logger, string instanceId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Workflow instance {InstanceId} was advanced by another worker first")]
    private static partial void LogLostRace(ILogger logger, string instanceId);
}

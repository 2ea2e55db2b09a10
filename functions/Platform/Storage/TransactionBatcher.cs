using System.Collections.Concurrent;
using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Storage;

/// <summary>
/// Group commit for entity-group transactions: groups of actions for the same table and partition that
/// arrive while one transaction of that partition is in flight are sent together as the next one (up to
/// 100 actions, no row twice). Each group keeps its own all-or-nothing meaning: when a combined
/// transaction fails, nothing of it was written, and every group in it is sent again on its own, so each
/// caller gets exactly the answer (or the exception, with its failed-action index) its group alone would
/// have got. Every group must therefore be safe to send twice after a failure, as conditional writes
/// (Add, ETag-checked replace) and idempotent ones (upserts, merges) are. The first group of a quiet
/// partition is sent at once: batching costs no latency, it only replaces waiting in line.
/// </summary>
public sealed class TransactionBatcher
{
    public const int MaxActions = 100;
    private const int MaxLanes = 50_000;

    // Writes queued per partition for group commit in this process; every write is still ETag-checked in storage.
    private readonly ConcurrentDictionary<(string Table, string Partition), Lane> _lanes = new();

    /// <summary>Commits <paramref name="actions"/> (one table, one partition) atomically; the answers are this group's, in order.</summary>
    public Task<IReadOnlyList<Response>> SubmitAsync(TableClient table, IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > MaxActions)
        {
            throw new ArgumentException($"A transaction has 1 to {MaxActions} actions.", nameof(actions));
        }

        if (_lanes.Count > MaxLanes)
        {
            _lanes.Clear(); // lanes in use keep draining through their callers' references
        }

        var lane = _lanes.GetOrAdd((table.Name, actions[0].Entity.PartitionKey), _ => new Lane(table));
        return lane.SubmitAsync(actions, cancellationToken);
    }

    /// <summary>One upsert, delete or other single action, group-committed like a transaction of one.</summary>
    public async Task<Response> SubmitOneAsync(TableClient table, TableTransactionAction action, CancellationToken cancellationToken) =>
        (await SubmitAsync(table, [action], cancellationToken))[0];

    private sealed class Pending(IReadOnlyList<TableTransactionAction> actions)
    {
        public IReadOnlyList<TableTransactionAction> Actions => actions;

        public TaskCompletionSource<IReadOnlyList<Response>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lane(TableClient table)
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<Pending> _queue = new();
        private bool _draining;

        public Task<IReadOnlyList<Response>> SubmitAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
        {
            var pending = new Pending(actions);
            bool start;
            lock (_gate)
            {
                _queue.AddLast(pending);
                start = !_draining;
                _draining = true;
            }

            if (start)
            {
                _ = DrainAsync();
            }

            return pending.Completion.Task.WaitAsync(cancellationToken);
        }

        private async Task DrainAsync()
        {
            while (true)
            {
                var batch = new List<Pending>();
                lock (_gate)
                {
                    var rows = new HashSet<string>(StringComparer.Ordinal);
                    var count = 0;
                    for (var node = _queue.First; node is not null;)
                    {
                        var next = node.Next;
                        var group = node.Value.Actions;
                        if (count + group.Count > MaxActions)
                        {
                            break;
                        }

                        if (group.All(a => !rows.Contains(a.Entity.RowKey)))
                        {
                            foreach (var action in group)
                            {
                                rows.Add(action.Entity.RowKey);
                            }

                            count += group.Count;
                            batch.Add(node.Value);
                            _queue.Remove(node);
                        }

                        node = next;
                    }

                    if (batch.Count == 0)
                    {
                        _draining = false;
                        return;
                    }
                }

                try
                {
                    await CommitAsync(batch);
                }
#pragma warning disable CA1031 // the callers get the fault; the lane lives on for the groups queued behind them
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    // Storage out of reach (a timeout, the SDK's spent retries): the combined transaction's outcome is
                    // unknown, as a lone group's would be, and each caller is told so. A lane that stopped here would
                    // leave every later write of its partition waiting for ever.
                    foreach (var pending in batch)
                    {
                        pending.Completion.TrySetException(ex);
                    }
                }
            }
        }

        private async Task CommitAsync(List<Pending> batch)
        {
            if (batch.Count == 1)
            {
                await CommitAloneAsync(batch[0]);
                return;
            }

            try
            {
                var response = await table.SubmitTransactionAsync([.. batch.SelectMany(p => p.Actions)], CancellationToken.None);
                var offset = 0;
                foreach (var pending in batch)
                {
                    pending.Completion.TrySetResult([.. response.Value.Skip(offset).Take(pending.Actions.Count)]);
                    offset += pending.Actions.Count;
                }
            }
            catch (Exception ex) when (ex is RequestFailedException or InvalidOperationException)
            {
                // Nothing of the combined transaction was written (or its outcome is unknown and every group is
                // conditional or idempotent): each group goes again alone and gets its own answer.
                await Task.WhenAll(batch.Select(CommitAloneAsync));
            }
        }

        private async Task CommitAloneAsync(Pending pending)
        {
            try
            {
                // A lone single action goes as the plain operation (cheaper than a transaction of one; same exception status).
                pending.Completion.TrySetResult(pending.Actions is [var action] ? [await SendAsync(action)] : (await table.SubmitTransactionAsync(pending.Actions, CancellationToken.None)).Value);
            }
            catch (Exception ex)
            {
                pending.Completion.TrySetException(ex);
            }
        }

        private Task<Response> SendAsync(TableTransactionAction action) => action.ActionType switch
        {
            TableTransactionActionType.Add => table.AddEntityAsync(action.Entity, CancellationToken.None),
            TableTransactionActionType.UpsertReplace => table.UpsertEntityAsync(action.Entity, TableUpdateMode.Replace, CancellationToken.None),
            TableTransactionActionType.UpsertMerge => table.UpsertEntityAsync(action.Entity, TableUpdateMode.Merge, CancellationToken.None),
            TableTransactionActionType.UpdateReplace => table.UpdateEntityAsync(action.Entity, action.ETag, TableUpdateMode.Replace, CancellationToken.None),
            TableTransactionActionType.UpdateMerge => table.UpdateEntityAsync(action.Entity, action.ETag, TableUpdateMode.Merge, CancellationToken.None),
            TableTransactionActionType.Delete => table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, action.ETag, CancellationToken.None),
            _ => throw new ArgumentOutOfRangeException(nameof(action), action.ActionType, null),
        };
    }
}

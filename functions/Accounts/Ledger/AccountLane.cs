using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Accounts.Ledger;

/// <summary>
/// The one writer of an account inside this process. Commands queue here; while one conditional
/// write is in flight the next ones gather, and they go together in the next entity-group
/// transaction with a single ETag-checked head update (group commit). Other processes are kept
/// honest by the ETag: on a conflict the head is read again and the batch decided afresh.
/// </summary>
internal sealed partial class AccountLane(LedgerAccountId id, LedgerStorage storage, ILogger logger, Action<AccountState>? committed = null)
{
    /// <summary>An entity-group transaction holds at most 100 rows; one is the head.</summary>
    public const int MaxRows = 100;

    private const int MaxAttempts = 60;

    private readonly Lock _gate = new();
    private readonly LinkedList<AccountCommand> _queue = new();
    private readonly List<string> _outboxDeletes = [];
    private bool _running;
    private bool _deleting;
    private (AccountState State, ETag ETag)? _head;
    private DateTimeOffset _markerValidUntil;

    public LedgerAccountId Id => id;

    public bool IsIdle
    {
        get
        {
            lock (_gate)
            {
                return !_running && !_deleting && _queue.Count == 0;
            }
        }
    }

    /// <summary>The head as this process last wrote or read it; may be behind another process's writes.</summary>
    public AccountState? CachedState => _head?.State;

    public Task<CommandResult> SubmitAsync(AccountCommand command)
    {
        lock (_gate)
        {
            _queue.AddLast(command);
            if (!_running)
            {
                _running = true;
                _ = Task.Run(RunAsync);
            }
        }

        return command.Completion.Task;
    }

    /// <summary>Queues the removal of a propagated outbox row; these go in batches of their own, beside the head's writes.</summary>
    public void DeleteOutboxLater(string transactionId)
    {
        lock (_gate)
        {
            _outboxDeletes.Add(transactionId);
            if (!_deleting)
            {
                _deleting = true;
                _ = Task.Run(DeleteOutboxAsync);
            }
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            var batch = TakeBatch();
            if (batch is null)
            {
                return;
            }

            try
            {
                await CommitAsync(batch);
            }
#pragma warning disable CA1031 // the callers get the fault; the lane lives on for the next commands
            catch (Exception ex)
#pragma warning restore CA1031
            {
                _head = null;
                LogCommitFailed(logger, ex, batch.Count);
                foreach (var command in batch)
                {
                    command.Completion.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>
    /// Takes queued commands in order up to the row budget. A command touching a row already in the
    /// batch (the same transaction twice, two releases of one hold) waits for the next batch: a
    /// group transaction may not name a row twice.
    /// </summary>
    private List<AccountCommand>? TakeBatch()
    {
        lock (_gate)
        {
            var batch = new List<AccountCommand>();
            var rows = new HashSet<string>(StringComparer.Ordinal);
            var budget = MaxRows - 1;
            for (var node = _queue.First; node is not null;)
            {
                var command = node.Value;
                var next = node.Next;
                if (command.ActionCount > budget)
                {
                    break;
                }

                if ((command.IdempotencyRowKey is not { } key || !rows.Contains(key))
                    && (command.PreReadRowKey is not { } read || !rows.Contains(read)))
                {
                    batch.Add(command);
                    budget -= command.ActionCount;
                    AddIfPresent(rows, command.IdempotencyRowKey);
                    AddIfPresent(rows, command.PreReadRowKey);
                    _queue.Remove(node);
                }

                node = next;
            }

            if (batch.Count == 0)
            {
                _running = false;
                return null;
            }

            return batch;
        }
    }

    private static void AddIfPresent(HashSet<string> rows, string? key)
    {
        if (key is not null)
        {
            rows.Add(key);
        }
    }

    private async Task CommitAsync(List<AccountCommand> batch)
    {
        var pending = batch;
        for (var attempt = 1; ; attempt++)
        {
            var cached = _head;
            AccountState? state;
            ETag etag;
            if (cached is { } head)
            {
                (state, etag) = head;
            }
            else
            {
                (state, etag) = await storage.ReadHeadAsync(id);
            }

            var exists = state is not null;
            if (state is null)
            {
                if (!id.TryGetBankAccount(out _, out var currency))
                {
                    Complete(pending.Select(c => (c, new CommandResult(CommandOutcome.NotFound))));
                    return;
                }

                // The bank's own accounts come into being with their first entry.
                state = AccountState.NewBankAccount(id, currency, storage.Booking().Today);
            }

            var preReads = await storage.PreReadAsync(id, pending.Select(c => c.PreReadRowKey));
            var booking = storage.Booking();
            var working = state;
            var actions = new List<TableTransactionAction>(MaxRows);
            var decisions = new List<(AccountCommand Command, CommandResult Result)>(pending.Count);
            foreach (var command in pending)
            {
                var preRead = command.PreReadRowKey is { } key ? preReads.GetValueOrDefault(key) : null;
                decisions.Add((command, command.Decide(ref working, preRead, booking, actions)));
            }

            // A refusal must rest on the head as it is, not on this process's cached view of it
            // (the next attempt reads it: only this runner sets the cache).
            if (cached is not null && decisions.Any(d => d.Result.Outcome == CommandOutcome.Refused))
            {
                _head = null;
                continue;
            }

            // A replay of an effect that happened must answer as a replay, even if it would be refused now.
            var refusedKeys = decisions
                .Where(d => d.Result.Outcome == CommandOutcome.Refused && d.Command.IdempotencyRowKey is not null)
                .Select(d => d.Command.IdempotencyRowKey!)
                .ToList();
            if (refusedKeys.Count > 0)
            {
                var replayed = await storage.ExistingAsync(id, refusedKeys);
                for (var i = 0; i < decisions.Count; i++)
                {
                    if (decisions[i].Result.Outcome == CommandOutcome.Refused && decisions[i].Command.IdempotencyRowKey is { } key && replayed.Contains(key))
                    {
                        decisions[i] = (decisions[i].Command, new CommandResult(CommandOutcome.Duplicate));
                    }
                }
            }

            if (actions.Count == 0)
            {
                Complete(decisions);
                return;
            }

            actions.Add(exists
                ? new TableTransactionAction(TableTransactionActionType.UpdateReplace, LedgerRows.HeadEntity(working), etag)
                : new TableTransactionAction(TableTransactionActionType.Add, LedgerRows.HeadEntity(working)));
            if (decisions.Any(d => d.Result.Outcome == CommandOutcome.Applied && d.Command.WritesOutbox))
            {
                await EnsureOutboxMarkerAsync(booking.Now);
            }

            try
            {
                var response = await storage.Table.SubmitTransactionAsync(actions);
                _head = (working, response.Value[^1].Headers.ETag ?? default);
                committed?.Invoke(working);
                Complete(decisions);
                return;
            }
            catch (TableTransactionFailedException ex) when (ex.Status == 409 && attempt < MaxAttempts)
            {
                // A row that proves an effect is there already: those commands are replays.
                _head = null;
                var replayed = await storage.ExistingAsync(id, decisions
                    .Where(d => d.Result.Outcome == CommandOutcome.Applied && d.Command.IdempotencyRowKey is not null)
                    .Select(d => d.Command.IdempotencyRowKey!));
                var duplicates = pending.Where(c => c.IdempotencyRowKey is { } key && replayed.Contains(key)).ToList();
                Complete(duplicates.Select(c => (c, new CommandResult(CommandOutcome.Duplicate))));
                pending = [.. pending.Except(duplicates)];
                if (pending.Count == 0)
                {
                    return;
                }
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 412 or 404 && attempt < MaxAttempts)
            {
                // Another process moved the head (or a row we read) first: decide again on the fresh head.
                _head = null;
                LogConflict(logger, attempt);
                await Task.Delay(Random.Shared.Next(0, 2 * Math.Min(attempt, 10)));
            }
            catch (RequestFailedException ex) when (ex.Status is 0 or 408 or 429 or >= 500 && attempt < MaxAttempts)
            {
                // The outcome is unknown; retrying is safe because every command's rows are idempotent.
                _head = null;
                LogTransientFailure(logger, ex.Status, attempt);
                await Task.Delay(Math.Min(2000, 50 * attempt));
            }
        }
    }

    private static void Complete(IEnumerable<(AccountCommand Command, CommandResult Result)> decisions)
    {
        foreach (var (command, result) in decisions)
        {
            command.Completion.TrySetResult(result);
        }
    }

    private async Task EnsureOutboxMarkerAsync(DateTimeOffset now)
    {
        if (_markerValidUntil - now > LedgerStorage.OutboxMarkerMargin)
        {
            return;
        }

        _markerValidUntil = await storage.MarkOutboxAsync(id, now);
    }

    private async Task DeleteOutboxAsync()
    {
        while (true)
        {
            List<string> batch;
            lock (_gate)
            {
                if (_outboxDeletes.Count == 0)
                {
                    _deleting = false;
                    return;
                }

                batch = [.. _outboxDeletes.Distinct(StringComparer.Ordinal).Take(MaxRows)];
                _outboxDeletes.RemoveAll(batch.Contains);
            }

            try
            {
                await storage.DeleteOutboxRowsAsync(id, batch);
            }
#pragma warning disable CA1031 // a row left behind is found and removed by the outbox sweep
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogOutboxDeleteFailed(logger, ex);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger write of {Commands} commands failed")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, int commands);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ledger head changed by another writer (attempt {Attempt})")]
    private static partial void LogConflict(ILogger logger, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger write failed with status {Status}; retrying (attempt {Attempt})")]
    private static partial void LogTransientFailure(ILogger logger, int status, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove propagated outbox rows; the outbox sweep will")]
    private static partial void LogOutboxDeleteFailed(ILogger logger, Exception exception);
}

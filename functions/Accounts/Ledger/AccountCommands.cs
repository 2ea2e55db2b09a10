using Azure.Data.Tables;

namespace BusinessApi.Accounts.Ledger;

/// <summary>When a write is made: the instant and the bank's local day.</summary>
internal readonly record struct Booking(DateTimeOffset Now, DateOnly Today);

internal enum CommandOutcome
{
    /// <summary>Written in this batch.</summary>
    Applied,

    /// <summary>Refused by the account's rules; nothing written.</summary>
    Refused,

    /// <summary>Its effect was already there (a replay): the idempotency row existed.</summary>
    Duplicate,

    /// <summary>Nothing to do (a hold already released, a restriction already lifted).</summary>
    Unchanged,

    NotFound,
}

internal sealed record CommandResult(CommandOutcome Outcome)
{
    public LedgerRefusal? Refusal { get; init; }

    /// <summary>The account's head after this command (as judged in its batch).</summary>
    public AccountState? State { get; init; }

    public long? FirstSequence { get; init; }

    /// <summary>When the write was decided (the entries' booking time).</summary>
    public DateTimeOffset? At { get; init; }

    public Hold? Hold { get; init; }

    public Restriction? Restriction { get; init; }

    public static CommandResult Refuse(LedgerRefusal refusal, AccountState state) => new(CommandOutcome.Refused) { Refusal = refusal, State = state };
}

/// <summary>
/// One change to one account, decided against the head as it stands in its batch. A command adds its
/// rows to the batch and moves the head; several commands share one conditional write (group commit),
/// which is what lets one account take hundreds of debits a second.
/// </summary>
internal abstract class AccountCommand
{
    public TaskCompletionSource<CommandResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Rows this command writes at most (a batch holds 100, one of them the head).</summary>
    public abstract int ActionCount { get; }

    /// <summary>The row whose insertion proves the effect happened; its conflict marks a replay.</summary>
    public virtual string? IdempotencyRowKey => null;

    /// <summary>A row the command must read before deciding (a hold or restriction it changes).</summary>
    public virtual string? PreReadRowKey => null;

    public virtual bool WritesOutbox => false;

    public abstract CommandResult Decide(ref AccountState state, TableEntity? preRead, Booking booking, List<TableTransactionAction> actions);
}

/// <summary>Books a transaction's legs on one account: funds-checked on the primary account, as given on the others.</summary>
internal sealed class ApplyLegs(LedgerTransaction transaction, IReadOnlyList<LedgerLeg> legs, bool primary, bool writeOutbox) : AccountCommand
{
    public LedgerTransaction Transaction => transaction;

    public override int ActionCount => 1 + legs.Count + (writeOutbox ? 1 : 0) + (PreReadRowKey is null ? 0 : 1);

    public override string IdempotencyRowKey => LedgerRows.Transaction(transaction.Id);

    public override string? PreReadRowKey => primary && transaction.HoldId is { } hold ? LedgerRows.Hold(hold) : null;

    public override bool WritesOutbox => writeOutbox;

    public override CommandResult Decide(ref AccountState state, TableEntity? preRead, Booking booking, List<TableTransactionAction> actions)
    {
        var currency = state.Currency;
        if (legs.Any(l => l.Currency != currency))
        {
            return CommandResult.Refuse(LedgerRefusal.CurrencyMismatch, state);
        }

        var next = state;
        TableEntity? consumedHold = null;
        if (preRead is not null && LedgerRows.ToHold(preRead) is { Status: HoldStatus.Active } hold)
        {
            // The hold was money set aside for this very debit: release it in the same write.
            next = next with { Held = next.Held - hold.Amount };
            consumedHold = LedgerRows.HoldEntity(state.Id, hold with { Status = HoldStatus.Consumed });
        }

        var net = legs.Sum(l => l.Amount);
        if (primary)
        {
            if (state.Status == AccountStatus.Closed)
            {
                return CommandResult.Refuse(LedgerRefusal.AccountClosed, state);
            }

            if (net < 0 && next.CheckDebit(-net) is { } refusal)
            {
                return CommandResult.Refuse(refusal, state);
            }
        }

        var first = next.Sequence + 1;
        actions.Add(new(TableTransactionActionType.Add, LedgerRows.TransactionEntity(state.Id, transaction, booking.Now, first, primary)));
        foreach (var leg in legs)
        {
            var day = next.BookingDay(booking.Today);
            next = next.Book(leg.Amount, day);
            var entry = new LedgerEntry(next.Sequence, day, booking.Now, leg.Amount, next.Balance, next.TotalDebits, next.TotalCredits, transaction.Id, transaction.Kind)
            {
                Counterparty = leg.Counterparty,
                Purpose = leg.Purpose,
                DocumentId = leg.DocumentId,
                Reference = transaction.Reference,
                ValueDate = transaction.ValueDate,
                PurposeCode = leg.PurposeCode,
                DocumentNumber = leg.DocumentNumber,
            };
            actions.Add(new(TableTransactionActionType.Add, LedgerRows.EntryEntity(state.Id, entry)));
        }

        if (writeOutbox)
        {
            actions.Add(new(TableTransactionActionType.Add, LedgerRows.OutboxEntity(state.Id, transaction, booking.Now)));
        }

        if (consumedHold is not null)
        {
            actions.Add(new(TableTransactionActionType.UpdateReplace, consumedHold, preRead!.ETag));
        }

        state = next;
        return new CommandResult(CommandOutcome.Applied) { State = next, FirstSequence = first, At = booking.Now };
    }
}

/// <summary>Sets money aside for an accepted document; refused like a debit would be.</summary>
internal sealed class PlaceHold(Hold hold) : AccountCommand
{
    public override int ActionCount => 1;

    public override string IdempotencyRowKey => LedgerRows.Hold(hold.Id);

    public override CommandResult Decide(ref AccountState state, TableEntity? preRead, Booking booking, List<TableTransactionAction> actions)
    {
        if (state.CheckDebit(hold.Amount) is { } refusal)
        {
            return CommandResult.Refuse(refusal, state);
        }

        state = state with { Held = state.Held + hold.Amount };
        actions.Add(new(TableTransactionActionType.Add, LedgerRows.HoldEntity(state.Id, hold)));
        return new CommandResult(CommandOutcome.Applied) { State = state, Hold = hold };
    }
}

/// <summary>Gives held money back to the available balance (the document was refused or withdrawn).</summary>
internal sealed class ReleaseHold(string holdId) : AccountCommand
{
    public override int ActionCount => 1;

    public override string PreReadRowKey => LedgerRows.Hold(holdId);

    public override CommandResult Decide(ref AccountState state, TableEntity? preRead, Booking booking, List<TableTransactionAction> actions)
    {
        if (preRead is null)
        {
            return new CommandResult(CommandOutcome.NotFound) { State = state };
        }

        var hold = LedgerRows.ToHold(preRead);
        if (hold.Status != HoldStatus.Active)
        {
            return new CommandResult(CommandOutcome.Unchanged) { State = state, Hold = hold };
        }

        var released = hold with { Status = HoldStatus.Released };
        state = state with { Held = state.Held - hold.Amount };
        actions.Add(new(TableTransactionActionType.UpdateReplace, LedgerRows.HoldEntity(state.Id, released), preRead.ETag));
        return new CommandResult(CommandOutcome.Applied) { State = state, Hold = released };
    }
}

/// <summary>Registers an authority's arrest or debit suspension (R-36 c).</summary>
internal sealed class AddRestriction(Restriction restriction) : AccountCommand
{
    public override int ActionCount => 1;

    public override string IdempotencyRowKey => LedgerRows.Restriction(restriction.Id);

    public override CommandResult Decide(ref AccountState state, TableEntity? preRead, Booking booking, List<TableTransactionAction> actions)
    {
        state = state.WithRestriction(restriction, +1);
        actions.Add(new(TableTransactionActionType.Add, LedgerRows.RestrictionEntity(state.Id, restriction)));
        return new CommandResult(CommandOutcome.Applied) { State = state, Restriction = restriction };
    }
}

/// <summary>Lifts a restriction when the authority revokes its order.</summary>
internal sealed class LiftRestriction(string restrictionId, string liftedBy, string? liftReference) : AccountCommand
{
    public override int ActionCount => 1;

    public override string PreReadRowKey => LedgerRows.Restriction(restrictionId);

    public override CommandResult Decide(ref AccountState state, TableEntity? preRead, Booking booking, List<TableTransactionAction> actions)
    {
        if (preRead is null)
        {
            return new CommandResult(CommandOutcome.NotFound) { State = state };
        }

        var restriction = LedgerRows.ToRestriction(preRead);
        if (restriction.Status != RestrictionStatus.Active)
        {
            return new CommandResult(CommandOutcome.Unchanged) { State = state, Restriction = restriction };
        }

        var lifted = restriction with
        {
            Status = RestrictionStatus.Lifted,
            LiftedAt = booking.Now,
            LiftedBy = liftedBy,
            LiftReference = liftReference,
        };
        state = state.WithRestriction(restriction, -1);
        actions.Add(new(TableTransactionActionType.UpdateReplace, LedgerRows.RestrictionEntity(state.Id, lifted), preRead.ETag));
        return new CommandResult(CommandOutcome.Applied) { State = state, Restriction = lifted };
    }
}

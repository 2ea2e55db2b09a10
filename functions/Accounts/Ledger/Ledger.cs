using System.Collections.Concurrent;
using Azure.Data.Tables;
using BusinessApi.Platform.Caching;
using Microsoft.Extensions.Options;

namespace BusinessApi.Accounts.Ledger;

public enum PostingOutcome
{
    Posted,

    /// <summary>The id was posted before: nothing changed now (W2).</summary>
    AlreadyPosted,

    Refused,
}

/// <summary>What became of a posting: posted (now or before) or refused with the reason.</summary>
public sealed record PostingResult(PostingOutcome Outcome, string TransactionId)
{
    public LedgerRefusal? Refusal { get; init; }

    public DateTimeOffset? PostedAt { get; init; }

    /// <summary>The debited (or primary) account's head right after this posting; null for a replay.</summary>
    public AccountState? Account { get; init; }

    public bool IsPosted => Outcome is PostingOutcome.Posted or PostingOutcome.AlreadyPosted;
}

public enum LedgerChangeOutcome
{
    Applied,

    /// <summary>Already so: the same hold or restriction id was placed before, or it was already released or lifted.</summary>
    Unchanged,

    Refused,
    NotFound,
}

public sealed record HoldResult(LedgerChangeOutcome Outcome, Hold? Hold)
{
    public LedgerRefusal? Refusal { get; init; }

    public AccountState? Account { get; init; }
}

public sealed record RestrictionResult(LedgerChangeOutcome Outcome, Restriction? Restriction)
{
    public AccountState? Account { get; init; }
}

/// <summary>
/// The double-entry ledger. A transaction commits atomically in one write to its primary account
/// (the debited one): the funds check, the entries, the transaction itself and an outbox row naming
/// the legs for the other accounts. Those legs are then booked on their accounts (idempotently, by
/// transaction id), at once in this process, or by the outbox sweep after a crash. Every account
/// has one writer per process (<see cref="AccountLane"/>) that groups concurrent postings into one
/// conditional write.
/// </summary>
public sealed partial class Ledger(LedgerStorage storage, IOptions<LedgerOptions> options, ILogger<Ledger> logger)
{
    private const int MaxLanes = 20_000;

    // Group-commit lanes per account in this process; every posting is still decided on the ETag-checked head in storage.
    private readonly ConcurrentDictionary<LedgerAccountId, AccountLane> _lanes = new();

    // Information services' views, kept for LedgerOptions.ViewCacheMilliseconds; a commit of this process replaces the
    // view with the head it wrote (or drops it, when restrictions are active). Safe across instances: information services
    // may lag other instances' commits by ViewCacheMilliseconds (real time); decisions about money never read it.
    private readonly BoundedCache<LedgerAccountId, AccountView> _views = new(TimeProvider.System, MaxLanes, TimeSpan.FromMilliseconds(options.Value.ViewCacheMilliseconds));

    internal LedgerStorage Storage => storage;

    /// <summary>Posts <paramref name="transaction"/> once; a second call with the same id is a no-op answering <see cref="PostingOutcome.AlreadyPosted"/>.</summary>
    public async Task<PostingResult> PostAsync(LedgerTransaction transaction, CancellationToken cancellationToken)
    {
        var (primary, primaryLegs, others) = Split(transaction);
        if (await CheckCounterAccountsAsync(others, cancellationToken) is { } refusal)
        {
            return new PostingResult(PostingOutcome.Refused, transaction.Id) { Refusal = refusal };
        }

        var result = await Lane(primary)
            .SubmitAsync(new ApplyLegs(transaction, primaryLegs, primary: true, writeOutbox: others.Count > 0))
            .WaitAsync(cancellationToken);
        switch (result.Outcome)
        {
            case CommandOutcome.Applied:
                await PropagateAsync(primary, transaction, others);
                return new PostingResult(PostingOutcome.Posted, transaction.Id) { PostedAt = result.At, Account = result.State };
            case CommandOutcome.Duplicate:
                var stored = await GetTransactionAsync(primary, transaction.Id, cancellationToken);
                if (others.Count > 0 && await storage.ReadRowAsync(primary, LedgerRows.Outbox(transaction.Id), cancellationToken) is not null)
                {
                    // The first posting stopped before its other legs were booked: finish them now.
                    await PropagateAsync(primary, transaction, others);
                }

                return new PostingResult(PostingOutcome.AlreadyPosted, transaction.Id) { PostedAt = stored?.PostedAt };
            case CommandOutcome.NotFound:
                return new PostingResult(PostingOutcome.Refused, transaction.Id) { Refusal = LedgerRefusal.AccountNotFound };
            default:
                return new PostingResult(PostingOutcome.Refused, transaction.Id) { Refusal = result.Refusal };
        }
    }

    /// <summary>Commits the transaction on its primary account only, leaving the other legs in the outbox (a crash right after the commit).</summary>
    internal async Task<CommandOutcome> CommitPrimaryOnlyAsync(LedgerTransaction transaction)
    {
        var (primary, primaryLegs, others) = Split(transaction);
        var result = await Lane(primary).SubmitAsync(new ApplyLegs(transaction, primaryLegs, primary: true, writeOutbox: others.Count > 0));
        return result.Outcome;
    }

    public async Task<HoldResult> PlaceHoldAsync(LedgerAccountId account, Hold hold, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hold);
        if (!LedgerRules.IsValidId(hold.Id) || hold.Amount <= 0)
        {
            throw new ArgumentException("A hold needs a valid id and a positive amount.", nameof(hold));
        }

        var result = await Lane(account).SubmitAsync(new PlaceHold(hold)).WaitAsync(cancellationToken);
        return result.Outcome switch
        {
            CommandOutcome.Applied => new HoldResult(LedgerChangeOutcome.Applied, result.Hold) { Account = result.State },
            CommandOutcome.Duplicate => new HoldResult(LedgerChangeOutcome.Unchanged, await GetHoldAsync(account, hold.Id, cancellationToken)),
            CommandOutcome.NotFound => new HoldResult(LedgerChangeOutcome.NotFound, null),
            _ => new HoldResult(LedgerChangeOutcome.Refused, null) { Refusal = result.Refusal, Account = result.State },
        };
    }

    public async Task<HoldResult> ReleaseHoldAsync(LedgerAccountId account, string holdId, CancellationToken cancellationToken)
    {
        var result = await Lane(account).SubmitAsync(new ReleaseHold(holdId)).WaitAsync(cancellationToken);
        return new HoldResult(Change(result.Outcome), result.Hold) { Account = result.State };
    }

    public async Task<Hold?> GetHoldAsync(LedgerAccountId account, string holdId, CancellationToken cancellationToken) =>
        await storage.ReadRowAsync(account, LedgerRows.Hold(holdId), cancellationToken) is { } row ? LedgerRows.ToHold(row) : null;

    public async Task<RestrictionResult> AddRestrictionAsync(LedgerAccountId account, Restriction restriction, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(restriction);
        if (!LedgerRules.IsValidId(restriction.Id) || restriction.Amount is <= 0
            || (restriction.Kind == RestrictionKind.DebitSuspension && restriction.Amount is not null))
        {
            throw new ArgumentException("A restriction needs a valid id; only an arrest may name an amount, and it must be positive.", nameof(restriction));
        }

        var result = await Lane(account).SubmitAsync(new AddRestriction(restriction)).WaitAsync(cancellationToken);
        return result.Outcome == CommandOutcome.Duplicate
            ? new RestrictionResult(LedgerChangeOutcome.Unchanged, await GetRestrictionAsync(account, restriction.Id, cancellationToken))
            : new RestrictionResult(Change(result.Outcome), result.Restriction) { Account = result.State };
    }

    public async Task<RestrictionResult> LiftRestrictionAsync(
        LedgerAccountId account, string restrictionId, string liftedBy, string? liftReference, CancellationToken cancellationToken)
    {
        var result = await Lane(account).SubmitAsync(new LiftRestriction(restrictionId, liftedBy, liftReference)).WaitAsync(cancellationToken);
        return new RestrictionResult(Change(result.Outcome), result.Restriction) { Account = result.State };
    }

    public async Task<Restriction?> GetRestrictionAsync(LedgerAccountId account, string restrictionId, CancellationToken cancellationToken) =>
        await storage.ReadRowAsync(account, LedgerRows.Restriction(restrictionId), cancellationToken) is { } row ? LedgerRows.ToRestriction(row) : null;

    /// <summary>The account's restrictions, oldest first; lifted ones too when <paramref name="includeLifted"/>.</summary>
    public async Task<IReadOnlyList<Restriction>> ListRestrictionsAsync(LedgerAccountId account, bool includeLifted, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {account.Value} and RowKey ge {LedgerRows.RestrictionsStart} and RowKey lt {LedgerRows.RestrictionsEnd}");
        var list = new List<Restriction>();
        await foreach (var row in storage.Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var restriction = LedgerRows.ToRestriction(row);
            if (includeLifted || restriction.Status == RestrictionStatus.Active)
            {
                list.Add(restriction);
            }
        }

        return [.. list.OrderBy(r => r.AddedAt).ThenBy(r => r.Id, StringComparer.Ordinal)];
    }

    /// <summary>Opens an account (writes its head); when one exists already, answers it unchanged.</summary>
    public async Task<(bool Created, AccountState State)> OpenAsync(AccountState account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        try
        {
            await storage.Table.AddEntityAsync(LedgerRows.HeadEntity(account), cancellationToken);
            return (true, account);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 409)
        {
            var (existing, _) = await storage.ReadHeadAsync(account.Id, cancellationToken);
            return (false, existing!);
        }
    }

    /// <summary>
    /// The account with its active restrictions, for information services: a point read of the head, and only when
    /// it counts active restrictions, one range query over the head and the restriction rows (<c>head</c> &lt;
    /// <c>h|</c> &lt; <c>o|</c> &lt; <c>r|</c> sort together); answered from a
    /// cache for up to <see cref="LedgerOptions.ViewCacheMilliseconds"/>. Commits made by this process drop
    /// the cached view at once; commits of other instances show within that time. Decisions about money never
    /// use it: they are made on the head inside the commit.
    /// </summary>
    public async Task<AccountView?> GetAccountViewAsync(LedgerAccountId account, CancellationToken cancellationToken)
    {
        if (_views.TryGet(account, out var cached))
        {
            return cached;
        }

        // The head says whether any restriction is active: most accounts have none, and a point read answers for them.
        var (head, _) = await storage.ReadHeadAsync(account, cancellationToken);
        if (head is null)
        {
            _views.Remove(account);
            return null;
        }

        if (head is { FullArrests: 0, Suspensions: 0, Arrested: 0m })
        {
            var plain = new AccountView(head, []);
            _views.Set(account, plain);
            return plain;
        }

        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {account.Value} and RowKey ge {LedgerRows.Head} and RowKey lt {LedgerRows.RestrictionsEnd}");
        AccountState? state = null;
        var restrictions = new List<Restriction>();
        await foreach (var row in storage.Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == LedgerRows.Head)
            {
                state = LedgerRows.ToState(row);
            }
            else if (row.RowKey.StartsWith(LedgerRows.RestrictionsStart, StringComparison.Ordinal)
                     && LedgerRows.ToRestriction(row) is { Status: RestrictionStatus.Active } restriction)
            {
                restrictions.Add(restriction);
            }
        }

        if (state is null)
        {
            _views.Remove(account);
            return null;
        }

        var view = new AccountView(state, [.. restrictions.OrderBy(r => r.AddedAt).ThenBy(r => r.Id, StringComparer.Ordinal)]);
        _views.Set(account, view);

        return view;
    }

    /// <summary>The account's head as stored now: balance and available are exact at this instant.</summary>
    public async Task<AccountState?> GetAccountAsync(LedgerAccountId account, CancellationToken cancellationToken) =>
        (await storage.ReadHeadAsync(account, cancellationToken)).State;

    public async Task<StoredTransaction?> GetTransactionAsync(LedgerAccountId account, string transactionId, CancellationToken cancellationToken) =>
        LedgerRules.IsValidId(transactionId) && await storage.ReadRowAsync(account, LedgerRows.Transaction(transactionId), cancellationToken) is { } row
            ? LedgerRows.ToTransaction(row)
            : null;

    /// <summary>Books the legs that wait in <paramref name="primary"/>'s outbox for longer than <paramref name="grace"/>; the outbox sweep's work.</summary>
    internal async Task<int> CompleteOutboxAsync(LedgerAccountId primary, TimeSpan grace, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {primary.Value} and RowKey ge {LedgerRows.OutboxStart} and RowKey lt {LedgerRows.OutboxEnd}");
        var now = storage.Booking().Now;
        var left = 0;
        await foreach (var row in storage.Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.GetDateTimeOffset("CreatedAt") is { } created && now - created < grace)
            {
                left++;
                continue;
            }

            var transaction = LedgerRows.ToOutboxTransaction(row);
            var (_, _, others) = Split(transaction);
            if (!await PropagateAsync(primary, transaction, others))
            {
                left++;
            }
        }

        return left;
    }

    private static (LedgerAccountId Primary, List<LedgerLeg> PrimaryLegs, List<IGrouping<LedgerAccountId, LedgerLeg>> Others) Split(LedgerTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (LedgerRules.Problem(transaction) is { } problem)
        {
            throw new ArgumentException($"Transaction {transaction.Id}: {problem}.", nameof(transaction));
        }

        var primary = LedgerRules.PrimaryAccount(transaction);
        return (primary,
            [.. transaction.Legs.Where(l => l.Account == primary)],
            [.. transaction.Legs.Where(l => l.Account != primary).GroupBy(l => l.Account)]);
    }

    /// <summary>Legs for other accounts cannot be refused once the primary write commits, so their accounts are checked first.</summary>
    private async Task<LedgerRefusal?> CheckCounterAccountsAsync(List<IGrouping<LedgerAccountId, LedgerLeg>> others, CancellationToken cancellationToken)
    {
        foreach (var group in others)
        {
            if (group.Key.TryGetBankAccount(out _, out var bankCurrency))
            {
                if (group.Any(l => l.Currency != bankCurrency))
                {
                    return LedgerRefusal.CurrencyMismatch;
                }

                continue;
            }

            var state = Lane(group.Key).CachedState ?? await GetAccountAsync(group.Key, cancellationToken);
            if (state is null)
            {
                return LedgerRefusal.AccountNotFound;
            }

            if (group.Any(l => l.Currency != state.Currency))
            {
                return LedgerRefusal.CurrencyMismatch;
            }

            if (state.Status == AccountStatus.Closed)
            {
                return LedgerRefusal.AccountClosed;
            }
        }

        return null;
    }

    /// <summary>
    /// This process just wrote the account's head: its view is that head when it counts no active restriction (the view
    /// is then exact, not a cached guess), else it is dropped and read again.
    /// </summary>
    private void Committed(AccountState head)
    {
        if (head is { FullArrests: 0, Suspensions: 0, Arrested: 0m })
        {
            _views.Set(head.Id, new AccountView(head, []));
        }
        else
        {
            _views.Remove(head.Id);
        }
    }

    /// <summary>Books the other legs of a committed transaction; true when all are booked and the outbox row can go.</summary>
    private async Task<bool> PropagateAsync(LedgerAccountId primary, LedgerTransaction transaction, List<IGrouping<LedgerAccountId, LedgerLeg>> others)
    {
        if (others.Count == 0)
        {
            return true;
        }

        var results = await Task.WhenAll(others.Select(group =>
            Lane(group.Key).SubmitAsync(new ApplyLegs(transaction, [.. group], primary: false, writeOutbox: false))));
        if (results.All(r => r.Outcome is CommandOutcome.Applied or CommandOutcome.Duplicate))
        {
            Lane(primary).DeleteOutboxLater(transaction.Id);
            return true;
        }

        LogPropagationStuck(logger, transaction.Id, string.Join(",", results.Select(r => r.Outcome)));
        return false;
    }

    private AccountLane Lane(LedgerAccountId account)
    {
        if (_lanes.TryGetValue(account, out var lane))
        {
            return lane;
        }

        if (_lanes.Count >= MaxLanes)
        {
            foreach (var (id, idle) in _lanes)
            {
                if (idle.IsIdle)
                {
                    _lanes.TryRemove(id, out _);
                }
            }
        }

        return _lanes.GetOrAdd(account, id => new AccountLane(id, storage, logger, Committed));
    }

    private static LedgerChangeOutcome Change(CommandOutcome outcome) => outcome switch
    {
        CommandOutcome.Applied => LedgerChangeOutcome.Applied,
        CommandOutcome.NotFound => LedgerChangeOutcome.NotFound,
        CommandOutcome.Refused => LedgerChangeOutcome.Refused,
        _ => LedgerChangeOutcome.Unchanged,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Transaction {TransactionId} committed but its other legs were not booked ({Outcomes}); the outbox sweep retries")]
    private static partial void LogPropagationStuck(ILogger logger, string transactionId, string outcomes);
}

namespace BusinessApi.Accounts.Ledger;

/// <summary>
/// An account's head: its balance and everything that limits debits, plus the running figures that
/// make statements exact (sequence, cumulative debits and credits). Pure: every rule about what a
/// debit may do is here, judged on one consistent snapshot.
/// </summary>
public sealed record AccountState
{
    public required LedgerAccountId Id { get; init; }

    public required LedgerAccountKind Kind { get; init; }

    public required Currency Currency { get; init; }

    public AccountStatus Status { get; init; } = AccountStatus.Open;

    public string? Iban { get; init; }

    public string? CustomerId { get; init; }

    public DateOnly OpenedOn { get; init; }

    public decimal Balance { get; init; }

    /// <summary>Sum of active holds (money promised to accepted documents).</summary>
    public decimal Held { get; init; }

    /// <summary>Sum of active arrests of an amount.</summary>
    public decimal Arrested { get; init; }

    /// <summary>Active arrests of everything; any one blocks every debit.</summary>
    public int FullArrests { get; init; }

    /// <summary>Active debit suspensions; any one blocks every debit.</summary>
    public int Suspensions { get; init; }

    /// <summary>The number of entries booked so far; the next entry gets <c>Sequence + 1</c>.</summary>
    public long Sequence { get; init; }

    /// <summary>The local day of the last entry; entries never go back in days, so statements by day are exact.</summary>
    public DateOnly? LastDay { get; init; }

    public decimal TotalDebits { get; init; }

    public decimal TotalCredits { get; init; }

    public bool DebitsBlocked => FullArrests > 0 || Suspensions > 0;

    /// <summary>What may be debited now: balance less holds and arrested amounts, never below zero; zero while debits are blocked.</summary>
    public decimal Available => DebitsBlocked || Status == AccountStatus.Closed ? 0m : Math.Max(0m, Balance - Held - Arrested);

    public static AccountState NewBankAccount(LedgerAccountId id, Currency currency, DateOnly openedOn) =>
        new() { Id = id, Kind = LedgerAccountKind.Bank, Currency = currency, OpenedOn = openedOn };

    /// <summary>
    /// Whether <paramref name="amount"/> (positive) may leave the account now. The bank's own accounts
    /// are not limited. When only an arrested amount stands in the way, the reason is the restriction,
    /// not a lack of money (R-36 c before R-36 a).
    /// </summary>
    public LedgerRefusal? CheckDebit(decimal amount)
    {
        if (Kind == LedgerAccountKind.Bank)
        {
            return null;
        }

        if (Status == AccountStatus.Closed)
        {
            return LedgerRefusal.AccountClosed;
        }

        if (DebitsBlocked)
        {
            return LedgerRefusal.AccountRestricted;
        }

        if (Balance - Held - Arrested - amount >= 0m)
        {
            return null;
        }

        return Arrested > 0m && Balance - Held - amount >= 0m ? LedgerRefusal.AccountRestricted : LedgerRefusal.InsufficientFunds;
    }

    /// <summary>The head after booking <paramref name="amount"/> as entry <c>Sequence + 1</c> on <paramref name="day"/>.</summary>
    public AccountState Book(decimal amount, DateOnly day) => this with
    {
        Balance = Balance + amount,
        Sequence = Sequence + 1,
        LastDay = BookingDay(day),
        TotalDebits = amount < 0 ? TotalDebits - amount : TotalDebits,
        TotalCredits = amount > 0 ? TotalCredits + amount : TotalCredits,
    };

    /// <summary>The day an entry booked now goes under: today, or the last entry's day if another clock was ahead.</summary>
    public DateOnly BookingDay(DateOnly today) => LastDay is { } last && last > today ? last : today;

    public AccountState WithRestriction(Restriction restriction, int direction)
    {
        ArgumentNullException.ThrowIfNull(restriction);
        return restriction switch
        {
            { Kind: RestrictionKind.DebitSuspension } => this with { Suspensions = Suspensions + direction },
            { Amount: null } => this with { FullArrests = FullArrests + direction },
            { Amount: { } amount } => this with { Arrested = Arrested + (direction * amount) },
        };
    }
}

/// <summary>An account as information services show it: its head and its active restrictions.</summary>
public sealed record AccountView(AccountState State, IReadOnlyList<Restriction> Restrictions);

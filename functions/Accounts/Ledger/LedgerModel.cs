using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BusinessApi.Accounts.Ledger;

/// <summary>
/// An account's identity in the ledger (its storage partition). Customer accounts are keyed by a
/// digest of the IBAN, so storage keys (and any storage error that quotes them) never carry one;
/// the bank's own accounts have readable ids such as <c>bank-cash-kzt</c>.
/// </summary>
[JsonConverter(typeof(LedgerAccountIdJsonConverter))]
public readonly record struct LedgerAccountId
{
    private const string BankPrefix = "bank-";
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    private LedgerAccountId(string value) => Value = value;

    public string Value { get; }

    public bool IsBank => Value.StartsWith(BankPrefix, StringComparison.Ordinal);

    public static LedgerAccountId ForIban(Iban iban) =>
        new("i" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("kz-iban:" + iban.Value)))[..32]);

    public static LedgerAccountId ForBank(BankAccount account, Currency currency) =>
        new($"{BankPrefix}{Slug(account)}-{currency.ToString().ToLowerInvariant()}");

    /// <summary>The purpose and currency of one of the bank's own accounts.</summary>
    public bool TryGetBankAccount(out BankAccount account, out Currency currency)
    {
        account = default;
        currency = default;
        if (!IsBank)
        {
            return false;
        }

        var dash = Value.LastIndexOf('-');
        var slug = Value[BankPrefix.Length..dash];
        foreach (var candidate in Enum.GetValues<BankAccount>())
        {
            if (Slug(candidate) == slug && Currencies.TryParse(Value[(dash + 1)..].ToUpperInvariant(), out currency))
            {
                account = candidate;
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads an id as stored; only well-formed ids of either kind are accepted.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out LedgerAccountId id)
    {
        id = default;
        if (text is null)
        {
            return false;
        }

        var candidate = new LedgerAccountId(text);
        var customer = text.Length == 33 && text[0] == 'i' && !text.AsSpan(1).ContainsAnyExcept(HexDigits);
        if (customer || candidate.TryGetBankAccount(out _, out _))
        {
            id = candidate;
            return true;
        }

        return false;
    }

    public override string ToString() => Value;

    private static string Slug(BankAccount account) => account switch
    {
        BankAccount.CommissionIncome => "commission-income",
        BankAccount.InterbankSettlement => "interbank-settlement",
        BankAccount.Cash => "cash",
        BankAccount.PenaltyExpense => "penalty-expense",
        BankAccount.CurrencyPosition => "currency-position",
        _ => throw new ArgumentOutOfRangeException(nameof(account), account, null),
    };
}

internal sealed class LedgerAccountIdJsonConverter : JsonConverter<LedgerAccountId>
{
    public override LedgerAccountId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        LedgerAccountId.TryParse(reader.GetString(), out var id) ? id : throw new JsonException("Not a ledger account id.");

    public override void Write(Utf8JsonWriter writer, LedgerAccountId value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value);
    }
}

/// <summary>The bank's own accounts, one per currency; they are created on first use and may go negative (assets).</summary>
public enum BankAccount
{
    /// <summary>Income from commissions .</summary>
    CommissionIncome,

    /// <summary>Settlement with other banks: payments to beneficiaries elsewhere are credited here.</summary>
    InterbankSettlement,

    /// <summary>The cash desk: the other side of an operator's cash-in.</summary>
    Cash,

    /// <summary>The bank's expense for penalties paid to customers (clause 7.4).</summary>
    PenaltyExpense,

    /// <summary>
    /// The bank's open position in a currency: a conversion moves the customer's money through the position of each of its
    /// currencies (bought currency in, sold currency out), so each currency's legs balance on their own.
    /// </summary>
    CurrencyPosition,
}

public enum LedgerAccountKind
{
    Customer,
    Bank,
}

public enum AccountStatus
{
    Open,
    Closed,
}

/// <summary>Who is on the other side of an entry, as shown in a statement.</summary>
public sealed record Counterparty(string? Name, string? Iban, string? Idn, string? Bic);

/// <summary>
/// One line of a transaction. Amounts are signed from the bank's books: a credit is positive, a debit
/// negative. Customer accounts are liabilities, so their balance is the customer's money; the bank's
/// cash and settlement accounts are assets and show negative balances. Every transaction sums to zero
/// per currency, so all balances together always sum to zero.
/// </summary>
public sealed record LedgerLeg(LedgerAccountId Account, decimal Amount, Currency Currency)
{
    public Counterparty? Counterparty { get; init; }

    public string? Purpose { get; init; }

    public string? DocumentId { get; init; }

    /// <summary>The payment purpose code (КНП) of the operation, as statements show it.</summary>
    public string? PurposeCode { get; init; }

    /// <summary>The number of the document the entry comes from, as its customer gave it.</summary>
    public string? DocumentNumber { get; init; }
}

/// <summary>
/// A balanced set of legs posted atomically under a deterministic <see cref="Id"/> (W2): posting the
/// same id again changes nothing and answers with the first posting.
/// </summary>
public sealed record LedgerTransaction(string Id, string Kind, IReadOnlyList<LedgerLeg> Legs)
{
    public string? Reference { get; init; }

    public DateOnly? ValueDate { get; init; }

    /// <summary>A hold on the debited account that this transaction consumes (released in the same write).</summary>
    public string? HoldId { get; init; }

    /// <summary>The rate a transaction between two currencies was made at, and the published rates it came from.</summary>
    public AppliedRate? Exchange { get; init; }
}

/// <summary>A conversion's rate: <see cref="Rate"/> units of <see cref="To"/> per unit of <see cref="From"/>, from the bank's rates of <see cref="Date"/>, version <see cref="Version"/>.</summary>
public sealed record AppliedRate(Currency From, Currency To, decimal Rate, DateOnly Date, int Version);

/// <summary>Why the ledger refused a debit, hold or posting; a business outcome, not an error.</summary>
public enum LedgerRefusal
{
    /// <summary>R-36 a: not enough available money for the amount (and commission).</summary>
    InsufficientFunds,

    /// <summary>R-36 c: debits are suspended, the account is arrested, or the money needed is under arrest.</summary>
    AccountRestricted,

    AccountClosed,
    AccountNotFound,
    CurrencyMismatch,
}

public static class LedgerRefusals
{
    /// <summary>The stable reason code used in API answers and document refusals.</summary>
    public static string Code(this LedgerRefusal refusal) => refusal switch
    {
        LedgerRefusal.InsufficientFunds => "insufficient_funds",
        LedgerRefusal.AccountRestricted => "account_restricted",
        LedgerRefusal.AccountClosed => "account_closed",
        LedgerRefusal.AccountNotFound => "account_not_found",
        LedgerRefusal.CurrencyMismatch => "currency_mismatch",
        _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null),
    };
}

public enum RestrictionKind
{
    /// <summary>An arrest: of an amount (it stops being available) or, without an amount, of everything (no debits).</summary>
    Arrest,

    /// <summary>Suspension of debit operations by an authority's order: no debits, credits still arrive.</summary>
    DebitSuspension,
}

public enum RestrictionStatus
{
    Active,
    Lifted,
}

/// <summary>An authority's restriction on an account (R-36 c), with the order's reference.</summary>
public sealed record Restriction(string Id, RestrictionKind Kind, decimal? Amount, string Reference, DateTimeOffset AddedAt, string AddedBy)
{
    public string? Authority { get; init; }

    public RestrictionStatus Status { get; init; } = RestrictionStatus.Active;

    public DateTimeOffset? LiftedAt { get; init; }

    public string? LiftedBy { get; init; }

    public string? LiftReference { get; init; }

    /// <summary>An arrest without an amount: everything on the account is arrested.</summary>
    public bool BlocksDebits => Kind == RestrictionKind.DebitSuspension || (Kind == RestrictionKind.Arrest && Amount is null);
}

public enum HoldStatus
{
    Active,
    Released,
    Consumed,
}

/// <summary>Money set aside for an accepted document until it is executed or refused.</summary>
public sealed record Hold(string Id, decimal Amount, HoldStatus Status, DateTimeOffset CreatedAt, string? Reference);

/// <summary>One statement line: a leg as booked on one account, with the running figures after it.</summary>
public sealed record LedgerEntry(
    long Sequence,
    DateOnly Day,
    DateTimeOffset BookedAt,
    decimal Amount,
    decimal BalanceAfter,
    decimal DebitsAfter,
    decimal CreditsAfter,
    string TransactionId,
    string Kind)
{
    public Counterparty? Counterparty { get; init; }

    public string? Purpose { get; init; }

    public string? DocumentId { get; init; }

    public string? Reference { get; init; }

    public DateOnly? ValueDate { get; init; }

    public string? PurposeCode { get; init; }

    public string? DocumentNumber { get; init; }

    public decimal BalanceBefore => BalanceAfter - Amount;

    public decimal DebitsBefore => Amount < 0 ? DebitsAfter + Amount : DebitsAfter;

    public decimal CreditsBefore => Amount > 0 ? CreditsAfter - Amount : CreditsAfter;
}

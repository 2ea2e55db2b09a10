using System.Globalization;
using System.Text.Json.Serialization;
using BusinessApi.Accounts.Ledger;

namespace BusinessApi.Accounts;

/// <summary>Money in answers is text with the currency's minor unit (<c>"150000.00"</c>), so no client parses it as a binary float.</summary>
public static class AmountText
{
    /// <summary>The largest amount one request may move: 15 integer digits.</summary>
    public const decimal MaxAmount = 999_999_999_999_999.99m;

    public static string Format(decimal amount, Currency currency) =>
        amount.ToString("F" + currency.MinorUnits().ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>Positive, at most <see cref="MaxAmount"/>, and in whole minor units of <paramref name="currency"/>.</summary>
    public static bool IsValid(decimal amount, Currency currency) => amount > 0m && amount <= MaxAmount && Money.HasValidScale(amount, currency);

    /// <summary>The 400 for an amount that is not valid in <paramref name="currency"/>.</summary>
    public static Platform.Http.ProblemResult Invalid(string field, Currency currency) =>
        Platform.Http.ProblemResult.For(new Platform.Http.ApiProblem(Platform.Http.PlatformProblems.ValidationFailed)
        {
            Errors = [new Platform.Http.FieldError(field, "invalid_amount", [Format(MaxAmount, currency)])],
        });
}

/// <summary>An account as its customer sees it.</summary>
public sealed record AccountResponse(
    string Iban,
    Currency Currency,
    AccountStatus Status,
    DateOnly OpenedOn,
    string Balance,
    string Available,
    string Held,
    bool DebitsBlocked,
    IReadOnlyList<RestrictionResponse> Restrictions)
{
    public static AccountResponse From(AccountState state, IReadOnlyList<Restriction> restrictions)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new(state.Iban ?? state.Id.Value, state.Currency, state.Status, state.OpenedOn,
            AmountText.Format(state.Balance, state.Currency),
            AmountText.Format(state.Available, state.Currency),
            AmountText.Format(state.Held, state.Currency),
            state.DebitsBlocked,
            [.. restrictions.Select(r => RestrictionResponse.From(r, state.Currency))]);
    }
}

/// <summary>An authority's restriction: an arrest (of an amount, or of everything) or a suspension of debits.</summary>
public sealed record RestrictionResponse(
    string RestrictionId,
    RestrictionKind Kind,
    string? Amount,
    bool BlocksDebits,
    string Reference,
    string? Authority,
    RestrictionStatus Status,
    DateTimeOffset AddedAt,
    DateTimeOffset? LiftedAt)
{
    public static RestrictionResponse From(Restriction restriction, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(restriction);
        return new(restriction.Id, restriction.Kind, restriction.Amount is { } amount ? AmountText.Format(amount, currency) : null,
            restriction.BlocksDebits, restriction.Reference, restriction.Authority, restriction.Status, restriction.AddedAt, restriction.LiftedAt);
    }
}

public enum EntryDirection
{
    Debit,
    Credit,
}

/// <summary>One statement line. <c>amount</c> is positive; <c>direction</c> says which way it went.</summary>
public sealed record StatementEntryResponse(
    long EntryId,
    DateOnly Date,
    DateTimeOffset BookedAt,
    EntryDirection Direction,
    string Amount,
    string BalanceAfter,
    string TransactionId,
    string Kind,
    Counterparty? Counterparty,
    string? Purpose,
    string? DocumentId,
    string? Reference,
    DateOnly? ValueDate)
{
    /// <summary>The payment purpose code (КНП) of the operation.</summary>
    public string? PurposeCode { get; init; }

    /// <summary>The number of the document the entry comes from, as its customer gave it.</summary>
    public string? DocumentNumber { get; init; }

    public static StatementEntryResponse From(LedgerEntry entry, Currency currency)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new(entry.Sequence, entry.Day, entry.BookedAt, entry.Amount < 0 ? EntryDirection.Debit : EntryDirection.Credit,
            AmountText.Format(Math.Abs(entry.Amount), currency), AmountText.Format(entry.BalanceAfter, currency),
            entry.TransactionId, entry.Kind, entry.Counterparty, entry.Purpose, entry.DocumentId, entry.Reference, entry.ValueDate)
        {
            PurposeCode = entry.PurposeCode,
            DocumentNumber = entry.DocumentNumber,
        };
    }
}

/// <summary>
/// A statement: balances at the start of <c>from</c> and the end of <c>to</c> (bank days, UTC+5), the
/// period's totals and one page of entries; <c>continuation</c> fetches the next page with the same figures.
/// </summary>
public sealed record StatementResponse(
    string Iban,
    Currency Currency,
    DateOnly From,
    DateOnly To,
    string OpeningBalance,
    string ClosingBalance,
    string TotalDebits,
    string TotalCredits,
    int? EntryCount,
    IReadOnlyList<StatementEntryResponse> Entries,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Continuation);

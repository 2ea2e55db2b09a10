using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Platform;

namespace BusinessApi.Accounts.Ledger;

/// <summary>
/// The ledger's table layout. One partition per account holds everything a debit must see or change
/// in the same atomic write: the head (balance and limits), the transactions booked on the account
/// (<c>t|id</c>, which makes a replay a conflict), the statement entries (<c>e|day|sequence</c>, in
/// booking order), holds (<c>h|id</c>), restrictions (<c>r|id</c>) and the outbox (<c>o|id</c>) of
/// legs still to be booked on other accounts. Money is stored as invariant decimal text.
/// </summary>
internal static class LedgerRows
{
    public const string TableName = "Ledger";
    public const string OutboxIndexTable = "LedgerOutbox";
    public const string OutboxIndexPartition = "outbox";
    public const string Head = "head";
    public const string EntriesEnd = "e}";
    public const string OutboxStart = "o|";
    public const string OutboxEnd = "o}";
    public const string RestrictionsStart = "r|";
    public const string RestrictionsEnd = "r}";

    private static readonly JsonSerializerOptions Json = PlatformExtensions.JsonOptions;

    public static string Transaction(string transactionId) => "t|" + transactionId;

    public static string Outbox(string transactionId) => OutboxStart + transactionId;

    public static string Hold(string holdId) => "h|" + holdId;

    public static string Restriction(string restrictionId) => RestrictionsStart + restrictionId;

    public static string Entry(DateOnly day, long sequence) => string.Create(CultureInfo.InvariantCulture, $"e|{day:yyyy-MM-dd}|{sequence:D12}");

    /// <summary>The first possible entry key of <paramref name="day"/>.</summary>
    public static string EntriesFrom(DateOnly day) => string.Create(CultureInfo.InvariantCulture, $"e|{day:yyyy-MM-dd}|");

    public static string Text(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);

    public static decimal Decimal(TableEntity entity, string name) =>
        entity.GetString(name) is { } text ? decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture) : 0m;

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static DateOnly? Day(string? text) =>
        text is null ? null : DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static TableEntity HeadEntity(AccountState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new TableEntity(state.Id.Value, Head)
        {
            ["Kind"] = state.Kind.ToString(),
            ["Currency"] = state.Currency.ToString(),
            ["Status"] = state.Status.ToString(),
            ["Iban"] = state.Iban,
            ["CustomerId"] = state.CustomerId,
            ["OpenedOn"] = Day(state.OpenedOn),
            ["Balance"] = Text(state.Balance),
            ["Held"] = Text(state.Held),
            ["Arrested"] = Text(state.Arrested),
            ["FullArrests"] = state.FullArrests,
            ["Suspensions"] = state.Suspensions,
            ["Sequence"] = state.Sequence,
            ["LastDay"] = state.LastDay is { } last ? Day(last) : null,
            ["TotalDebits"] = Text(state.TotalDebits),
            ["TotalCredits"] = Text(state.TotalCredits),
        };
    }

    public static AccountState ToState(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return new AccountState
        {
            Id = LedgerAccountId.TryParse(entity.PartitionKey, out var id) ? id : throw new FormatException("Not a ledger partition."),
            Kind = Enum.Parse<LedgerAccountKind>(entity.GetString("Kind")!),
            Currency = Enum.Parse<Currency>(entity.GetString("Currency")!),
            Status = Enum.Parse<AccountStatus>(entity.GetString("Status") ?? nameof(AccountStatus.Open)),
            Iban = entity.GetString("Iban"),
            CustomerId = entity.GetString("CustomerId"),
            OpenedOn = Day(entity.GetString("OpenedOn")) ?? default,
            Balance = Decimal(entity, "Balance"),
            Held = Decimal(entity, "Held"),
            Arrested = Decimal(entity, "Arrested"),
            FullArrests = entity.GetInt32("FullArrests") ?? 0,
            Suspensions = entity.GetInt32("Suspensions") ?? 0,
            Sequence = entity.GetInt64("Sequence") ?? 0,
            LastDay = Day(entity.GetString("LastDay")),
            TotalDebits = Decimal(entity, "TotalDebits"),
            TotalCredits = Decimal(entity, "TotalCredits"),
        };
    }

    public static TableEntity TransactionEntity(LedgerAccountId account, LedgerTransaction transaction, DateTimeOffset postedAt, long firstSequence, bool primary) =>
        new(account.Value, Transaction(transaction.Id))
        {
            ["Json"] = JsonSerializer.Serialize(transaction, Json),
            ["PostedAt"] = postedAt,
            ["FirstSequence"] = firstSequence,
            ["Primary"] = primary,
        };

    public static StoredTransaction ToTransaction(TableEntity entity) => new(
        JsonSerializer.Deserialize<LedgerTransaction>(entity.GetString("Json")!, Json)!,
        entity.GetDateTimeOffset("PostedAt") ?? default,
        entity.GetInt64("FirstSequence") ?? 0,
        entity.GetBoolean("Primary") ?? false);

    public static TableEntity OutboxEntity(LedgerAccountId account, LedgerTransaction transaction, DateTimeOffset createdAt) =>
        new(account.Value, Outbox(transaction.Id))
        {
            ["Json"] = JsonSerializer.Serialize(transaction, Json),
            ["CreatedAt"] = createdAt,
        };

    public static LedgerTransaction ToOutboxTransaction(TableEntity entity) =>
        JsonSerializer.Deserialize<LedgerTransaction>(entity.GetString("Json")!, Json)!;

    public static TableEntity EntryEntity(LedgerAccountId account, LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new TableEntity(account.Value, Entry(entry.Day, entry.Sequence))
        {
            ["BookedAt"] = entry.BookedAt,
            ["Amount"] = Text(entry.Amount),
            ["BalanceAfter"] = Text(entry.BalanceAfter),
            ["DebitsAfter"] = Text(entry.DebitsAfter),
            ["CreditsAfter"] = Text(entry.CreditsAfter),
            ["TransactionId"] = entry.TransactionId,
            ["Kind"] = entry.Kind,
            ["Counterparty"] = entry.Counterparty is null ? null : JsonSerializer.Serialize(entry.Counterparty, Json),
            ["Purpose"] = entry.Purpose,
            ["DocumentId"] = entry.DocumentId,
            ["Reference"] = entry.Reference,
            ["ValueDate"] = entry.ValueDate is { } value ? Day(value) : null,
            ["Knp"] = entry.PurposeCode,
            ["DocumentNumber"] = entry.DocumentNumber,
        };
    }

    public static LedgerEntry ToEntry(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var parts = entity.RowKey.Split('|');
        return new LedgerEntry(
            long.Parse(parts[2], CultureInfo.InvariantCulture),
            Day(parts[1])!.Value,
            entity.GetDateTimeOffset("BookedAt") ?? default,
            Decimal(entity, "Amount"),
            Decimal(entity, "BalanceAfter"),
            Decimal(entity, "DebitsAfter"),
            Decimal(entity, "CreditsAfter"),
            entity.GetString("TransactionId") ?? "",
            entity.GetString("Kind") ?? "")
        {
            Counterparty = entity.GetString("Counterparty") is { } counterparty ? JsonSerializer.Deserialize<Counterparty>(counterparty, Json) : null,
            Purpose = entity.GetString("Purpose"),
            DocumentId = entity.GetString("DocumentId"),
            Reference = entity.GetString("Reference"),
            ValueDate = Day(entity.GetString("ValueDate")),
            PurposeCode = entity.GetString("Knp"),
            DocumentNumber = entity.GetString("DocumentNumber"),
        };
    }

    public static TableEntity HoldEntity(LedgerAccountId account, Hold hold) =>
        new(account.Value, Hold(hold.Id))
        {
            ["Amount"] = Text(hold.Amount),
            ["Status"] = hold.Status.ToString(),
            ["CreatedAt"] = hold.CreatedAt,
            ["Reference"] = hold.Reference,
        };

    public static Hold ToHold(TableEntity entity) => new(
        entity.RowKey[2..],
        Decimal(entity, "Amount"),
        Enum.Parse<HoldStatus>(entity.GetString("Status")!),
        entity.GetDateTimeOffset("CreatedAt") ?? default,
        entity.GetString("Reference"));

    public static TableEntity RestrictionEntity(LedgerAccountId account, Restriction restriction) =>
        new(account.Value, Restriction(restriction.Id))
        {
            ["Kind"] = restriction.Kind.ToString(),
            ["Amount"] = restriction.Amount is { } amount ? Text(amount) : null,
            ["Reference"] = restriction.Reference,
            ["Authority"] = restriction.Authority,
            ["AddedAt"] = restriction.AddedAt,
            ["AddedBy"] = restriction.AddedBy,
            ["Status"] = restriction.Status.ToString(),
            ["LiftedAt"] = restriction.LiftedAt,
            ["LiftedBy"] = restriction.LiftedBy,
            ["LiftReference"] = restriction.LiftReference,
        };

    public static Restriction ToRestriction(TableEntity entity) =>
        new(entity.RowKey[2..],
            Enum.Parse<RestrictionKind>(entity.GetString("Kind")!),
            entity.GetString("Amount") is null ? null : Decimal(entity, "Amount"),
            entity.GetString("Reference") ?? "",
            entity.GetDateTimeOffset("AddedAt") ?? default,
            entity.GetString("AddedBy") ?? "")
        {
            Authority = entity.GetString("Authority"),
            Status = Enum.Parse<RestrictionStatus>(entity.GetString("Status") ?? nameof(RestrictionStatus.Active)),
            LiftedAt = entity.GetDateTimeOffset("LiftedAt"),
            LiftedBy = entity.GetString("LiftedBy"),
            LiftReference = entity.GetString("LiftReference"),
        };
}

/// <summary>A transaction as booked on one account: the whole transaction, when, and its first entry there.</summary>
public sealed record StoredTransaction(LedgerTransaction Transaction, DateTimeOffset PostedAt, long FirstSequence, bool Primary);

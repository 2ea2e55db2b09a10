using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Documents;

/// <summary>The groups of the specimen-signature card (terms 3.2, 3.6, 7.2.5): the head signs first, the chief accountant second.</summary>
public static class SignatureGroups
{
    public const string First = "first";
    public const string Second = "second";

    public static readonly IReadOnlyList<string> All = [First, Second];
}

/// <summary>Which combination of groups makes a document of the account signed enough.</summary>
public static class SignatureRules
{
    /// <summary>One signature of the first group.</summary>
    public const string First = "first";

    /// <summary>One signature of the first group and one of the second, by two people.</summary>
    public const string FirstAndSecond = "first+second";

    public static readonly IReadOnlyList<string> All = [First, FirstAndSecond];

    /// <summary>The groups <paramref name="rule"/> needs beyond <paramref name="groups"/> (those signed); empty when it is met.</summary>
    public static IReadOnlyList<string> Missing(string rule, IEnumerable<string?> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var have = groups.ToHashSet(StringComparer.Ordinal);
        IReadOnlyList<string> needed = rule == FirstAndSecond ? [SignatureGroups.First, SignatureGroups.Second] : [SignatureGroups.First];
        return [.. needed.Where(g => !have.Contains(g))];
    }
}

/// <summary>One person on the card: their group, the term of their power, and whether the bank ended it (R-14).</summary>
public sealed record CardSigner(string UserId, string Group)
{
    public DateTimeOffset? ValidUntil { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public string? EndedBy { get; init; }

    public string? EndReason { get; init; }

    /// <summary>The power is in force at <paramref name="at"/>: not ended, not past its term.</summary>
    public bool IsActiveAt(DateTimeOffset at) => (EndedAt is not { } ended || ended > at) && (ValidUntil is not { } until || until > at);
}

/// <summary>
/// The specimen-signature card of one account as the bank holds it: who may sign its documents, in which group, and
/// the rule that makes a document signed enough. An account without a card keeps the plain rule: one signature of any
/// user holding the <c>sign</c> power on it.
/// </summary>
public sealed record SpecimenCard(string Iban, string CustomerId, string Rule, IReadOnlyList<CardSigner> Signers, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public CardSigner? ActiveSigner(string userId, DateTimeOffset at) =>
        Signers.FirstOrDefault(s => s.UserId == userId && s.IsActiveAt(at));
}

/// <summary>A card as read, with the ETags of the signers' rows read with it: a signature commits only if its signer's row is unchanged.</summary>
public sealed record CardRead(SpecimenCard Card, ETag RuleETag, IReadOnlyDictionary<string, ETag> SignerETags);

/// <summary>
/// Specimen cards in table <c>Documents</c>, in the customer's partition beside the documents they govern: the rule
/// row <c>r|{iban}</c> holds the whole card (one point read tells a document everything, and an account without a
/// card costs one read that finds nothing), and each signer has a row <c>r|{iban}|{userId}</c>. Every change writes
/// the rule row and the rows of the signers it touches in one transaction, and a signature's transaction checks its
/// signer's row's ETag, so a signature decided on a card that changed before it committed never counts (R-14: from
/// the instant the power ends), while signatures of different people on one account never contend.
/// </summary>
public sealed class SpecimenCardStore(StorageResources storage)
{
    public const string Prefix = "r|";
    public const int MaxSigners = 40;

    private readonly TableClient _table = storage.Table(DocumentStore.TableName);

    public static string RuleRow(string iban) => Prefix + iban;

    /// <summary>
    /// The customer's index of accounts with a card (<c>r~</c>, after every <c>r|</c> row): written in the transaction that
    /// makes an account's first card, so whoever reads it after that transaction finds the account there. Cards are never
    /// removed, so the index only grows.
    /// </summary>
    public const string IndexRow = "r~";

    /// <summary>Past this many carded accounts the index says only "read each account's own row" (a table property holds 32K characters).</summary>
    public const int MaxIndexedAccounts = 1_000;

    public static string SignerRow(string iban, string userId) => Prefix + iban + "|" + userId;

    /// <summary>
    /// The accounts of the customer that have a card, or null when the index cannot say (more than
    /// <see cref="MaxIndexedAccounts"/>): read from the index row, which a customer without one gets here, built from its
    /// rule rows (an Add: a card made meanwhile either finds it and updates it, or fails and is made again on the new one).
    /// </summary>
    public async Task<IReadOnlySet<string>?> CardedAccountsAsync(string customerId, CancellationToken cancellationToken) =>
        (await IndexAsync(customerId, cancellationToken)).Accounts;

    /// <summary>The index row as read, or as built here from the rule rows when the customer has none yet.</summary>
    private async Task<(IReadOnlySet<string>? Accounts, ETag ETag)> IndexAsync(string customerId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await ReadIndexAsync(customerId, cancellationToken) is { } index)
            {
                return index;
            }

            var accounts = new SortedSet<string>(StringComparer.Ordinal);
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey ge {Prefix} and RowKey lt {"r}"}");
            await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
            {
                if (row.RowKey.IndexOf('|', Prefix.Length) < 0)
                {
                    accounts.Add(row.RowKey[Prefix.Length..]);
                }
            }

            try
            {
                var added = await _table.AddEntityAsync(IndexEntity(customerId, accounts), cancellationToken);
                return (accounts.Count > MaxIndexedAccounts ? null : accounts, added.Headers.ETag ?? ETag.All);
            }
            catch (RequestFailedException ex) when (ex.Status == 409 && attempt < 3)
            {
                // Made meanwhile (by a card's transaction or another reader): read it.
            }
        }
    }

    private async Task<(IReadOnlySet<string>? Accounts, ETag ETag)?> ReadIndexAsync(string customerId, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, IndexRow, cancellationToken: cancellationToken);
        if (!row.HasValue)
        {
            return null;
        }

        IReadOnlySet<string>? accounts = row.Value!.GetBoolean("Overflow") == true
            ? null
            : new HashSet<string>((row.Value.GetString("Accounts") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        return (accounts, row.Value.ETag);
    }

    private static TableEntity IndexEntity(string customerId, IEnumerable<string> accounts)
    {
        var listed = accounts.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return listed.Count > MaxIndexedAccounts
            ? new TableEntity(customerId, IndexRow) { ["Overflow"] = true, ["Accounts"] = "" }
            : new TableEntity(customerId, IndexRow) { ["Overflow"] = false, ["Accounts"] = string.Join(',', listed) };
    }

    /// <summary>The account's card (null: none), with the rows of <paramref name="signers"/> read beside it for their ETags.</summary>
    public async Task<CardRead?> GetAsync(string customerId, string iban, IReadOnlyCollection<string>? signers, CancellationToken cancellationToken)
    {
        var rule = _table.GetEntityIfExistsAsync<TableEntity>(customerId, RuleRow(iban), cancellationToken: cancellationToken);
        var rows = (signers ?? []).Distinct(StringComparer.Ordinal)
            .Select(u => _table.GetEntityIfExistsAsync<TableEntity>(customerId, SignerRow(iban, u), cancellationToken: cancellationToken)).ToList();
        var read = await rule;
        await Task.WhenAll(rows);
        if (!read.HasValue)
        {
            return null;
        }

        var card = JsonSerializer.Deserialize<SpecimenCard>(read.Value!.GetString("Json") ?? "null", PlatformExtensions.JsonOptions)
            ?? throw new InvalidOperationException($"The specimen card of {iban} is empty.");
        var etags = new Dictionary<string, ETag>(StringComparer.Ordinal);
        foreach (var row in rows.Select(r => r.Result).Where(r => r.HasValue).Select(r => r.Value!))
        {
            // The signer's own row is the one every change rewrites with the card: the state it holds is the one to go by.
            var signer = ReadSigner(row);
            etags[signer.UserId] = row.ETag;
            card = card with { Signers = [.. card.Signers.Where(s => s.UserId != signer.UserId), signer] };
        }

        return new CardRead(card, read.Value.ETag, etags);
    }

    /// <summary>The account's card with the ETag of every signer's row (to change it).</summary>
    public async Task<CardRead?> GetForChangeAsync(string customerId, string iban, CancellationToken cancellationToken)
    {
        var first = SignerRow(iban, "");
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey ge {first} and RowKey lt {RuleRow(iban) + "}"}");
        var signers = new List<string>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            signers.Add(row.RowKey[first.Length..]);
        }

        return await GetAsync(customerId, iban, signers, cancellationToken);
    }

    /// <summary>
    /// Replaces the card: the rule and the signers named; a signer in force who is not named any more is ended now.
    /// One transaction, conditional on the card read (<paramref name="read"/>, from <see cref="GetForChangeAsync"/>); false when it changed meanwhile.
    /// </summary>
    public async Task<bool> PutAsync(string customerId, string iban, string rule, IReadOnlyList<CardSigner> signers, CardRead? read, DateTimeOffset now, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signers);
        var named = signers.Select(s => s.UserId).ToHashSet(StringComparer.Ordinal);
        var ended = (read?.Card.Signers ?? []).Where(s => !named.Contains(s.UserId) && s.EndedAt is null)
            .Select(s => s with { EndedAt = now, EndedBy = by, EndReason = "removed_from_card" }).ToList();
        var kept = (read?.Card.Signers ?? []).Where(s => !named.Contains(s.UserId) && s.EndedAt is not null);
        var card = new SpecimenCard(iban, customerId, rule, [.. signers, .. ended, .. kept], now, by);
        var actions = new List<TableTransactionAction>
        {
            read is null
                ? new(TableTransactionActionType.Add, RuleEntity(card))
                : new(TableTransactionActionType.UpdateReplace, RuleEntity(card), read.RuleETag),
        };
        foreach (var signer in signers.Concat(ended))
        {
            actions.Add(read?.SignerETags.TryGetValue(signer.UserId, out var etag) == true
                ? new(TableTransactionActionType.UpdateReplace, SignerEntity(customerId, iban, signer), etag)
                : new(TableTransactionActionType.Add, SignerEntity(customerId, iban, signer)));
        }

        if (read is null)
        {
            // The account's first card goes into the customer's index in the same transaction (an index changed since read
            // refuses the transaction; the caller reads again). A customer's first card meets no index yet: it is built first.
            if (await IndexAsync(customerId, cancellationToken) is { Accounts: { } listed, ETag: var etag })
            {
                actions.Add(new(TableTransactionActionType.UpdateReplace, IndexEntity(customerId, [.. listed, iban]), etag));
            }

            // Past MaxIndexedAccounts the index says "read each account's own row" already, and stays so.
        }

        return await SubmitAsync(actions, cancellationToken);
    }

    /// <summary>Ends one signer's power now (R-14), with the card it was read with; false when either changed since.</summary>
    public async Task<bool> EndAsync(CardRead read, CardSigner ended, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(ended);
        var card = read.Card with { Signers = [.. read.Card.Signers.Select(s => s.UserId == ended.UserId ? ended : s)] };
        return await SubmitAsync(
        [
            new(TableTransactionActionType.UpdateReplace, RuleEntity(card), read.RuleETag),
            new(TableTransactionActionType.UpdateReplace, SignerEntity(card.CustomerId, card.Iban, ended), read.SignerETags[ended.UserId]),
        ], cancellationToken);
    }

    private async Task<bool> SubmitAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken)
    {
        try
        {
            await _table.SubmitTransactionAsync(actions, cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 or 404)
        {
            return false;
        }
    }

    /// <summary>The write a signature's transaction carries for each of its signers: unchanged since read, or nothing commits.</summary>
    public static TableTransactionAction Unchanged(string customerId, string iban, string userId, ETag etag, DateTimeOffset now) =>
        new(TableTransactionActionType.UpdateMerge, new TableEntity(customerId, SignerRow(iban, userId)) { ["LastSignedAt"] = now }, etag);

    private static TableEntity RuleEntity(SpecimenCard card) => new(card.CustomerId, RuleRow(card.Iban))
    {
        ["Rule"] = card.Rule,
        ["Json"] = JsonSerializer.Serialize(card, PlatformExtensions.JsonOptions),
    };

    private static TableEntity SignerEntity(string customerId, string iban, CardSigner signer) => new(customerId, SignerRow(iban, signer.UserId))
    {
        ["Json"] = JsonSerializer.Serialize(signer, PlatformExtensions.JsonOptions),
        ["EndedAt"] = signer.EndedAt,
        ["ValidUntil"] = signer.ValidUntil,
    };

    private static CardSigner ReadSigner(TableEntity row) =>
        JsonSerializer.Deserialize<CardSigner>(row.GetString("Json") ?? "{}", PlatformExtensions.JsonOptions)
        ?? throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Card signer row {row.RowKey} is empty."));
}

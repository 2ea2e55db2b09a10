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

/// <summary>A card as read, with the ETag of each signer's row: a signature commits only if its signer's row is unchanged.</summary>
public sealed record CardRead(SpecimenCard Card, ETag RuleETag, IReadOnlyDictionary<string, ETag> SignerETags);

/// <summary>
/// Specimen cards in table <c>Documents</c>, in the customer's partition beside the documents they govern: the rule
/// row <c>r|{iban}</c> and one row per signer <c>r|{iban}|{userId}</c>. A change to the card rewrites the row of
/// every signer in force, and a signature's transaction checks its signer's row's ETag, so a signature decided on
/// a card that changed before it committed never counts (R-14: from the instant the power ends).
/// </summary>
public sealed class SpecimenCardStore(StorageResources storage)
{
    public const string Prefix = "r|";
    public const int MaxSigners = 40;

    private readonly TableClient _table = storage.Table(DocumentStore.TableName);

    public static string RuleRow(string iban) => Prefix + iban;

    public static string SignerRow(string iban, string userId) => Prefix + iban + "|" + userId;

    public async Task<CardRead?> GetAsync(string customerId, string iban, CancellationToken cancellationToken)
    {
        var first = RuleRow(iban);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey ge {first} and RowKey lt {first + "}"}");
        TableEntity? rule = null;
        var signers = new List<(CardSigner Signer, ETag ETag)>();
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey == first)
            {
                rule = row;
            }
            else if (row.RowKey.StartsWith(first + "|", StringComparison.Ordinal))
            {
                signers.Add((ReadSigner(row), row.ETag));
            }
        }

        if (rule is null)
        {
            return null;
        }

        var card = new SpecimenCard(iban, customerId, rule.GetString("Rule") ?? SignatureRules.First, [.. signers.Select(s => s.Signer).OrderBy(s => s.Group, StringComparer.Ordinal)],
            rule.GetDateTimeOffset("UpdatedAt") ?? default, rule.GetString("UpdatedBy") ?? "");
        return new CardRead(card, rule.ETag, signers.ToDictionary(s => s.Signer.UserId, s => s.ETag, StringComparer.Ordinal));
    }

    /// <summary>
    /// Replaces the card: the rule and the signers named; a signer in force who is not named any more is ended now.
    /// One transaction, conditional on the card read (<paramref name="read"/>); false when it changed meanwhile.
    /// </summary>
    public async Task<bool> PutAsync(string customerId, string iban, string rule, IReadOnlyList<CardSigner> signers, CardRead? read, DateTimeOffset now, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(signers);
        var actions = new List<TableTransactionAction>
        {
            read is null
                ? new(TableTransactionActionType.Add, RuleEntity(customerId, iban, rule, now, by))
                : new(TableTransactionActionType.UpdateReplace, RuleEntity(customerId, iban, rule, now, by), read.RuleETag),
        };
        var named = signers.Select(s => s.UserId).ToHashSet(StringComparer.Ordinal);
        foreach (var signer in signers)
        {
            actions.Add(read?.SignerETags.TryGetValue(signer.UserId, out var etag) == true
                ? new(TableTransactionActionType.UpdateReplace, SignerEntity(customerId, iban, signer), etag)
                : new(TableTransactionActionType.Add, SignerEntity(customerId, iban, signer)));
        }

        foreach (var gone in read?.Card.Signers.Where(s => !named.Contains(s.UserId) && s.EndedAt is null) ?? [])
        {
            actions.Add(new(TableTransactionActionType.UpdateReplace,
                SignerEntity(customerId, iban, gone with { EndedAt = now, EndedBy = by, EndReason = "removed_from_card" }), read!.SignerETags[gone.UserId]));
        }

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

    /// <summary>Ends one signer's power now (R-14); false when the row changed since it was read (<paramref name="etag"/>).</summary>
    public async Task<bool> EndAsync(string customerId, string iban, CardSigner signer, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await _table.UpdateEntityAsync(SignerEntity(customerId, iban, signer), etag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            return false;
        }
    }

    /// <summary>The write a signature's transaction carries for each of its signers: unchanged since read, or nothing commits.</summary>
    public static TableTransactionAction Unchanged(string customerId, string iban, string userId, ETag etag, DateTimeOffset now) =>
        new(TableTransactionActionType.UpdateMerge, new TableEntity(customerId, SignerRow(iban, userId)) { ["LastSignedAt"] = now }, etag);

    private static TableEntity RuleEntity(string customerId, string iban, string rule, DateTimeOffset now, string by) => new(customerId, RuleRow(iban))
    {
        ["Rule"] = rule,
        ["UpdatedAt"] = now,
        ["UpdatedBy"] = by,
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

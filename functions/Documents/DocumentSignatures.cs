using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform;

namespace BusinessApi.Documents;

/// <summary>One signature on a document: who, in which group of the card, when, the certificate, and the CMS it came in.</summary>
/// <param name="Number">1, 2, …: the order signatures were counted in; the CMS is row <c>g|{documentId}|{number}</c>.</param>
/// <param name="Group">The signer's group on the account's card; null on an account without one.</param>
public sealed record DocumentSignature(int Number, string UserId, string? Group, DateTimeOffset At, SignatureFacts Signer, string CmsSha256)
{
    /// <summary>Set when the signature stopped counting before the document was fully signed (the signer's power ended: R-14).</summary>
    public DateTimeOffset? VoidedAt { get; init; }

    public string? VoidReason { get; init; }

    public bool Counts => VoidedAt is null;
}

/// <summary>Where collecting a document's signatures stands.</summary>
public static class SheetStages
{
    public const string Collecting = "collecting";
    public const string Complete = "complete";
    public const string Cancelled = "cancelled";
    public const string Expired = "expired";
}

/// <summary>
/// The signatures of a document that several people sign, and the one decision about them: still collecting,
/// complete (the account's rule is met), cancelled, or expired. Row <c>q|{documentId}</c> beside the document; every
/// change is ETag-checked and commits with the event that tells the document's workflow, so of a last signature, a
/// cancel and the window's end exactly one wins.
/// </summary>
public sealed record SignatureSheet(string DocumentId, string PayerIban, string Stage, DateTimeOffset WindowEndsAt, IReadOnlyList<DocumentSignature> Signatures)
{
    public DateTimeOffset? ClosedAt { get; init; }

    /// <summary>Who cancelled (<c>user:…</c>), or <c>system</c> for the window's end.</summary>
    public string? ClosedBy { get; init; }

    /// <summary>The groups still needed under the card in force when the sheet last changed (<c>any</c> on an account without a card).</summary>
    public IReadOnlyList<string> Missing { get; init; } = [];

    public IEnumerable<DocumentSignature> Counted => Signatures.Where(s => s.Counts);

    public const string AnySigner = "any";

    /// <summary>The groups <paramref name="card"/> still needs of <paramref name="signatures"/> (that count); empty when signed enough.</summary>
    public static IReadOnlyList<string> MissingUnder(SpecimenCard? card, IEnumerable<DocumentSignature> signatures)
    {
        ArgumentNullException.ThrowIfNull(signatures);
        var counted = signatures.Where(s => s.Counts).ToList();
        return card is null
            ? counted.Count > 0 ? [] : [AnySigner]
            : SignatureRules.Missing(card.Rule, counted.Select(s => s.Group));
    }
}

/// <summary>The rows of documents that several people sign, in the customer's partition of table <c>Documents</c>.</summary>
public static class SignatureRows
{
    public const string SheetPrefix = "q|";
    public const string SignaturePrefix = "g|";

    public static string SheetRow(string documentId) => SheetPrefix + documentId;

    public static string SignatureRow(string documentId, int number) =>
        SignaturePrefix + documentId + "|" + number.ToString("D2", System.Globalization.CultureInfo.InvariantCulture);

    public static TableEntity SheetEntity(string customerId, SignatureSheet sheet)
    {
        ArgumentNullException.ThrowIfNull(sheet);
        return new(customerId, SheetRow(sheet.DocumentId))
        {
            ["Stage"] = sheet.Stage,
            ["PayerIban"] = sheet.PayerIban,
            ["Json"] = JsonSerializer.Serialize(sheet, PlatformExtensions.JsonOptions),
        };
    }

    public static TableEntity SignatureEntity(string customerId, string documentId, int number, byte[] cms) =>
        new(customerId, SignatureRow(documentId, number)) { ["Cms"] = cms };

    public static SignatureSheet ReadSheet(TableEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return JsonSerializer.Deserialize<SignatureSheet>(row.GetString("Json") ?? "null", PlatformExtensions.JsonOptions)
            ?? throw new InvalidOperationException($"Signature sheet {row.RowKey} is empty.");
    }

    public static async Task<(SignatureSheet Sheet, ETag ETag)?> GetSheetAsync(this DocumentStore store, string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var row = await store.Table.GetEntityIfExistsAsync<TableEntity>(DocumentIds.CustomerOf(documentId), SheetRow(documentId), cancellationToken: cancellationToken);
        return row.HasValue ? (ReadSheet(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>The CMS of every signature of the document, in their order.</summary>
    public static async Task<IReadOnlyList<byte[]>> GetSignatureCmsAsync(this DocumentStore store, string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var first = SignaturePrefix + documentId + "|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DocumentIds.CustomerOf(documentId)} and RowKey gt {first} and RowKey lt {first + "~"}");
        var all = new List<(string Key, byte[] Cms)>();
        await foreach (var row in store.Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            all.Add((row.RowKey, row.GetBinary("Cms")));
        }

        return [.. all.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Cms)];
    }

    /// <summary>
    /// What the archive keeps of a signed document, from its rows: the original (the CMS as received, or for a document
    /// several people signed, their signatures merged over the content) and each signature as received (none when one
    /// CMS came signed at once).
    /// </summary>
    public static async Task<ArchiveMaterial?> GetArchiveMaterialAsync(this DocumentStore store, string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var row = await store.Table.GetEntityIfExistsAsync<TableEntity>(DocumentIds.CustomerOf(documentId), DocumentStore.SignedBytesPrefix + documentId,
            cancellationToken: cancellationToken);
        if (!row.HasValue)
        {
            return null;
        }

        if (row.Value!.GetBinary("Content") is { } content)
        {
            var messages = await store.GetSignatureCmsAsync(documentId, cancellationToken);
            return new ArchiveMaterial(CmsMerge.Merge(content, messages), messages);
        }

        return row.Value.GetBinary("Cms") is { } cms ? new ArchiveMaterial(cms, []) : null;
    }

    /// <summary>The customer's documents still collecting signatures (optionally of one payer account), with their sheets' ETags.</summary>
    public static async Task<IReadOnlyList<(SignatureSheet Sheet, ETag ETag)>> ListCollectingAsync(
        this DocumentStore store, string customerId, string? payerIban, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {customerId} and RowKey ge {SheetPrefix} and RowKey lt {"q}"} and Stage eq {SheetStages.Collecting}");
        if (payerIban is not null)
        {
            filter += " and " + TableClient.CreateQueryFilter($"PayerIban eq {payerIban}");
        }

        var sheets = new List<(SignatureSheet, ETag)>();
        await foreach (var row in store.Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            sheets.Add((ReadSheet(row), row.ETag));
        }

        return sheets;
    }
}

/// <summary>
/// A signed document's files for the archive: the original and each signature as received. Handed from the step that
/// accepts the document to the end that archives it, through <see cref="Platform.Workflows.StepContext{TData}.Items"/>.
/// </summary>
public sealed record ArchiveMaterial(byte[] Original, IReadOnlyList<byte[]> Signatures)
{
    public const string Key = "archive-material";
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Documents;

/// <summary>
/// Documents in table <c>Documents</c>, one partition per customer: the document (<c>d|id</c>), its signed
/// bytes (<c>c|id</c>), its workflow (<c>w|id</c>) and one marker per Idempotency-Key (<c>k|hash</c>), so
/// intake writes all of them in one entity-group transaction (W1) and a retried request finds its
/// document whatever happened to the first answer. Ids sort by receipt time, so a period is one range.
/// </summary>
public sealed class DocumentStore(StorageResources storage, WakeupAlarm? wakeups = null)
{
    public const string TableName = "Documents";
    public const string DueTable = "DocumentsDue";
    public const string AlertsTable = "DocumentAlerts";

    // The row-key prefixes of a customer's partition, in one place. They are per table: Notices' "w|" is a webhook.
    public const string DocumentPrefix = "d|";
    public const string SignedBytesPrefix = "c|";
    public const string WorkflowPrefix = "w|";
    public const string IdempotencyKeyPrefix = "k|";
    public const string SignaturePrefix = "s|";
    public const string NumberPrefix = "n|";

    private readonly TableClient _table = storage.Table(TableName);
    private readonly TableClient _alerts = storage.Table(AlertsTable);

    public DueIndex Due { get; } = new(storage.Table(DueTable), wakeups);

    /// <summary>Table <c>Documents</c>, for the rows kept beside a document (signature sheets, specimen cards).</summary>
    internal TableClient Table => _table;

    public static string DocumentRow(string documentId) => DocumentPrefix + documentId;

    public static WorkflowLocation Location(string documentId) =>
        new(TableName, DocumentIds.CustomerOf(documentId), WorkflowPrefix + documentId);

    /// <summary>An Idempotency-Key as its caller (user and Client ID) sent it: keys are scoped per caller, not per customer.</summary>
    public static string KeyHash(string userId, string clientId, string idempotencyKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', userId, clientId, idempotencyKey))));

    /// <summary>
    /// The rows intake adds beside the workflow: the document, its signed bytes, the key's marker, and the
    /// signature's marker (<c>s|fingerprint</c>), so the same signed instruction under any other key collides
    /// in the same transaction and takes effect once, across instances and crashes.
    /// </summary>
    public static IEnumerable<TableTransactionAction> IntakeRows(Document document, byte[] cms, string keyHash, string requestHash, string signatureHash)
    {
        ArgumentNullException.ThrowIfNull(document);
        yield return new(TableTransactionActionType.Add, DocumentEntity(document));
        yield return new(TableTransactionActionType.Add, new TableEntity(document.CustomerId, SignedBytesPrefix + document.DocumentId) { ["Cms"] = cms });
        yield return new(TableTransactionActionType.Add, new TableEntity(document.CustomerId, IdempotencyKeyPrefix + keyHash)
        {
            ["DocumentId"] = document.DocumentId,
            ["RequestSha256"] = requestHash,
        });
        yield return new(TableTransactionActionType.Add, new TableEntity(document.CustomerId, SignaturePrefix + signatureHash) { ["DocumentId"] = document.DocumentId });
        if (document.NumberClaim is { } number)
        {
            // The number as the content states it, claimed before verification: a document refused later gives it up to the
            // next claimant (see ClaimNumberAsync), and one that is verified holds it without another write.
            yield return new(TableTransactionActionType.Add, new TableEntity(document.CustomerId, number) { ["DocumentId"] = document.DocumentId });
        }
    }

    /// <summary>The document row as a workflow step writes it (merge: the deadline job's column stays).</summary>
    public static TableTransactionAction Update(Document document) =>
        new(TableTransactionActionType.UpdateMerge, DocumentEntity(document), ETag.All);

    public async Task<Document?> GetAsync(string documentId, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(DocumentIds.CustomerOf(documentId), DocumentRow(documentId), cancellationToken: cancellationToken);
        return response.HasValue ? FromEntity(response.Value!) : null;
    }

    public async Task<byte[]?> GetCmsAsync(string documentId, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(DocumentIds.CustomerOf(documentId), SignedBytesPrefix + documentId, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.GetBinary("Cms") : null;
    }

    /// <summary>The exact bytes a document several people sign is signed over (a draft's canonical content).</summary>
    public async Task<byte[]?> GetContentAsync(string documentId, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(DocumentIds.CustomerOf(documentId), SignedBytesPrefix + documentId, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.GetBinary("Content") : null;
    }

    /// <summary>
    /// The rows a draft's intake adds beside the workflow: the document, its content, the key's marker and its
    /// signature sheet. No signature marker: nothing is signed yet.
    /// </summary>
    public static IEnumerable<TableTransactionAction> DraftRows(Document document, byte[] content, string keyHash, string requestHash, SignatureSheet sheet)
    {
        ArgumentNullException.ThrowIfNull(document);
        yield return new(TableTransactionActionType.Add, DocumentEntity(document));
        yield return new(TableTransactionActionType.Add, new TableEntity(document.CustomerId, SignedBytesPrefix + document.DocumentId) { ["Content"] = content });
        yield return new(TableTransactionActionType.Add, new TableEntity(document.CustomerId, IdempotencyKeyPrefix + keyHash)
        {
            ["DocumentId"] = document.DocumentId,
            ["RequestSha256"] = requestHash,
        });
        yield return new(TableTransactionActionType.Add, SignatureRows.SheetEntity(document.CustomerId, sheet));
    }

    /// <summary>The document an Idempotency-Key of the customer made, with the hash of the request that made it.</summary>
    public async Task<(string DocumentId, string RequestSha256)?> FindByKeyAsync(string customerId, string keyHash, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, IdempotencyKeyPrefix + keyHash, cancellationToken: cancellationToken);
        return response.HasValue ? (response.Value!.GetString("DocumentId"), response.Value.GetString("RequestSha256")) : null;
    }

    /// <summary>The document that a signed instruction with this signature fingerprint made, if any.</summary>
    public async Task<string?> FindBySignatureAsync(string customerId, string signatureHash, CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, SignaturePrefix + signatureHash, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value!.GetString("DocumentId") : null;
    }

    /// <summary>The row that makes an order's number its own: one per scope (account and kind of order), date and number.</summary>
    public static string NumberRow(string scope, DateOnly date, string number) =>
        NumberPrefix + string.Join('|', scope, date.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), number.ToUpperInvariant());

    /// <summary>
    /// Claims the payer's number for this order (<c>n|iban|date|number</c>): null when it is this document's
    /// now, else the id of the earlier document that holds it and was not refused. A refused holder gives the
    /// number up (ETag-checked, so two claimants cannot both take it over).
    /// </summary>
    public async Task<string?> ClaimNumberAsync(Document document, string payerIban, DateOnly date, string number, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(document);
        var rowKey = NumberRow(payerIban, date, number);
        if (document.NumberClaim == rowKey)
        {
            return null; // claimed by intake, in the transaction that took the document in
        }

        var claim = new TableEntity(document.CustomerId, rowKey) { ["DocumentId"] = document.DocumentId };
        for (var attempt = 0; attempt < 8; attempt++)
        {
            try
            {
                await _table.AddEntityAsync(claim, cancellationToken);
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status == 409)
            {
                // held already: by this document (a retried step), by a live one, or by one since refused
            }

            var held = await _table.GetEntityIfExistsAsync<TableEntity>(document.CustomerId, rowKey, cancellationToken: cancellationToken);
            if (!held.HasValue)
            {
                continue;
            }

            var holder = held.Value!.GetString("DocumentId");
            if (holder == document.DocumentId)
            {
                return null;
            }

            if (await GetAsync(holder, cancellationToken) is { Status: not (DocumentStatus.Refused or DocumentStatus.Cancelled) })
            {
                return holder;
            }

            try
            {
                await _table.UpdateEntityAsync(claim, held.Value.ETag, TableUpdateMode.Replace, cancellationToken);
                return null;
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 404)
            {
                // another claimant moved first: look again
            }
        }

        throw new InvalidOperationException("A payment order's number could not be claimed: the claim kept changing hands.");
    }

    /// <summary>The customer's documents received in [<paramref name="from"/>, <paramref name="to"/>), oldest first, optionally of one status.</summary>
    public async Task<(IReadOnlyList<Document> Items, string? Continuation)> ListAsync(
        string customerId, DateTimeOffset from, DateTimeOffset to, DocumentStatus? status, int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {customerId} and RowKey ge {DocumentRow(DocumentIds.Floor(customerId, from))} and RowKey lt {DocumentRow(DocumentIds.Floor(customerId, to))}");
        if (status is { } s)
        {
            filter += " and " + TableClient.CreateQueryFilter($"Status eq {StatusText(s)}");
        }

        await foreach (var page in _table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(continuation, pageSize))
        {
            return ([.. page.Values.Select(FromEntity)], page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>Marks a document that is not terminal by its R-33 instant (its own column: the workflow's writes leave it).</summary>
    public async Task MarkOverdueAsync(string documentId, DateTimeOffset since, CancellationToken cancellationToken) =>
        await _table.UpdateEntityAsync(new TableEntity(DocumentIds.CustomerOf(documentId), DocumentRow(documentId)) { ["OverdueSince"] = since },
            ETag.All, TableUpdateMode.Merge, cancellationToken);

    /// <summary>An entry in the operators' work list (<c>aml</c> holds, <c>overdue</c> documents).</summary>
    public async Task PutAlertAsync(string kind, Document document, DateTimeOffset at, string? detail, CancellationToken cancellationToken) =>
        await _alerts.UpsertEntityAsync(new TableEntity(kind, document.DocumentId)
        {
            ["CustomerId"] = document.CustomerId,
            ["At"] = at,
            ["Amount"] = document.Summary?.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Currency"] = document.Summary?.Currency,
            ["Detail"] = detail,
        }, TableUpdateMode.Replace, cancellationToken);

    public async Task DeleteAlertAsync(string kind, string documentId, CancellationToken cancellationToken)
    {
        try
        {
            await _alerts.DeleteEntityAsync(kind, documentId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // not listed
        }
    }

    public async Task<IReadOnlyList<DocumentAlert>> ListAlertsAsync(string kind, int take, CancellationToken cancellationToken)
    {
        var alerts = new List<DocumentAlert>();
        await foreach (var row in _alerts.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {kind}"), maxPerPage: take, cancellationToken: cancellationToken))
        {
            alerts.Add(new DocumentAlert(kind, row.RowKey, row.GetString("CustomerId"), row.GetDateTimeOffset("At") ?? default, row.GetString("Amount"), row.GetString("Currency"), row.GetString("Detail")));
            if (alerts.Count >= take)
            {
                break;
            }
        }

        return alerts;
    }

    public static string StatusText(DocumentStatus status) => JsonSerializer.Serialize(status, PlatformExtensions.JsonOptions).Trim('"');

    private static TableEntity DocumentEntity(Document document) => new(document.CustomerId, DocumentRow(document.DocumentId))
    {
        ["Status"] = StatusText(document.Status),
        ["Json"] = JsonSerializer.Serialize(document, PlatformExtensions.JsonOptions),
    };

    private static Document FromEntity(TableEntity entity) =>
        JsonSerializer.Deserialize<Document>(entity.GetString("Json"), PlatformExtensions.JsonOptions)! with
        {
            OverdueSince = entity.GetDateTimeOffset("OverdueSince"),
        };
}

/// <summary>A document in the operators' work list.</summary>
public sealed record DocumentAlert(string Kind, string DocumentId, string? CustomerId, DateTimeOffset At, string? Amount, string? Currency, string? Detail);

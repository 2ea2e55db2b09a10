using System.Globalization;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Documents.Signatures;
using BusinessApi.Notifications;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Documents;

/// <summary>
/// How a document waits and ends: its row in the R-33 due index before a wait, and at the end its status, the
/// receipt in the archive, the notice to the customer (R-36 sets a refusal's deadline) and the journal entry.
/// Every effect is idempotent (W2): archive blobs are write-once and the notice's id derives from the document.
/// </summary>
public sealed class DocumentCompletion(DocumentStore store, DocumentArchive archive, NoticeChannel notices, AuditJournal audit)
{
    /// <summary>
    /// A document about to wait gets its row in the R-33 due index (before the wait commits). Documents that
    /// run straight through need none: a step that keeps failing ends faulted, and the deadline job looks
    /// at faulted documents too.
    /// </summary>
    public async Task<Document> WaitingAsync(Document document, CancellationToken cancellationToken)
    {
        if (!document.Waited)
        {
            await store.Due.PutAsync(KazakhstanTime.LocalDate(document.DeemedExecutedAt), document.DocumentId, cancellationToken);
        }

        return document with { Waited = true };
    }

    /// <summary>
    /// Ends the document: status and history, its one archive package with the receipt (the first attempt's package
    /// wins, so its receipt's time is the decision's), a notice to the customer, the journal entry, and off the work lists.
    /// </summary>
    public async Task<Transition> FinishAsync(
        StepContext<Document> context, DocumentStatus status, string? reasonCode = null, string? failure = null, string? note = null, CancellationToken cancellationToken = default)
    {
        var document = context.Data;
        var change = new DocumentStatusChange(status, context.Now) { ReasonCode = reasonCode, Failure = failure, Note = note };
        document = document with { Status = status, WaitingFor = null, StatusHistory = [.. document.StatusHistory, change] };
        var receipt = DocumentReceipt.Of(document);
        var (archived, existing) = await archive.WritePackageAsync(document, await PackageAsync(context, document, receipt, cancellationToken), change.At, cancellationToken);
        if (existing?.GetValueOrDefault(DocumentArchive.ReceiptName) is { } earlier && DocumentReceipt.Parse(earlier) is { } first)
        {
            // An earlier attempt of this step decided and archived first: that decision stands.
            document = document with { StatusHistory = first.StatusHistory, Status = first.Status };
            change = first.StatusHistory[^1];
        }

        var receiptHash = archived[DocumentArchive.ReceiptName];
        context.Data = document = document with { ReceiptSha256 = receiptHash };
        var kind = document.Status switch
        {
            DocumentStatus.Executed => NoticeKinds.DocumentExecuted,
            DocumentStatus.Cancelled => NoticeKinds.DocumentCancelled,
            _ => NoticeKinds.DocumentRefused,
        };
        var summary = document.Summary;
        var effects = new List<Task>
        {
            notices.AddAsync(new NoticeRequest(document.CustomerId, kind, document.DocumentId + ":terminal", change.At, document.DocumentId,
                [summary?.Number ?? "—", summary?.Amount.ToString("F2", CultureInfo.InvariantCulture) ?? "—", summary?.Currency ?? "", document.DocumentId, change.ReasonCode ?? ""])
            {
                // a refusal reaches the customer within the operational day of receipt.
                DeliverBy = document.Status == DocumentStatus.Refused ? document.RefusalDeadline : null,
            }, cancellationToken),
        };
        if (change.ReasonCode is RefusalReasons.AuthenticationFailed or RefusalReasons.CredentialsCompromised)
        {
            // A security event: journaled besides the document's own history (which every end has, written with the change).
            effects.Add(audit.AppendAsync(new AuditRecord(document.CustomerId, "user:" + document.UserId, "document.authentication_failed", AuditOutcome.Denied)
            {
                Target = "documents/" + document.DocumentId,
                CorrelationId = context.InstanceId,
                Details = Details(document, change),
            }, cancellationToken));
        }

        if (document.Waited)
        {
            // Only a document that waited has a due-index row and may be on the operators' lists.
            effects.Add(store.DeleteAlertAsync(DocumentAlerts.Aml, document.DocumentId, cancellationToken));
            effects.Add(store.DeleteAlertAsync(DocumentAlerts.Overdue, document.DocumentId, cancellationToken));
            effects.Add(store.Due.DeleteAsync(KazakhstanTime.LocalDate(document.DeemedExecutedAt), document.DocumentId, cancellationToken));
        }

        await Task.WhenAll(effects);
        context.Write(DocumentStore.Update(document));
        return context.Complete(document.Status switch
        {
            DocumentStatus.Executed => "executed",
            DocumentStatus.Cancelled => "cancelled",
            _ => "refused",
        });
    }

    /// <summary>
    /// The document's one archive package: the signed original and each signature as received (for an accepted document:
    /// from the step that accepted it when it runs on, else from the document's rows), and the receipt.
    /// </summary>
    private async Task<IReadOnlyList<ArchiveEntry>> PackageAsync(StepContext<Document> context, Document document, DocumentReceipt receipt, CancellationToken cancellationToken)
    {
        var entries = new List<ArchiveEntry>();
        if (document.ArchiveSha256 is not null)
        {
            var material = context.Items.TryGetValue(ArchiveMaterial.Key, out var held) ? (ArchiveMaterial)held
                : await store.GetArchiveMaterialAsync(document.DocumentId, cancellationToken)
                  ?? throw new InvalidOperationException($"Document {document.DocumentId} was accepted without its signed bytes.");
            entries.Add(new ArchiveEntry(DocumentArchive.OriginalName, material.Original));
            entries.AddRange(material.Signatures.Select((cms, i) => new ArchiveEntry(DocumentArchive.SignatureName(i + 1), cms)));
        }

        entries.Add(new ArchiveEntry(DocumentArchive.ReceiptName, receipt.ToBytes()));
        return entries;
    }

    private static Dictionary<string, string> Details(Document document, DocumentStatusChange change)
    {
        var details = new Dictionary<string, string> { ["userId"] = document.UserId, ["clientId"] = document.ClientId };
        if (change.ReasonCode is { } reason)
        {
            details["reasonCode"] = reason;
        }

        if (change.Failure is { } failure)
        {
            details["failure"] = failure;
        }

        if (document.Signer is { } signer)
        {
            details["certificateSerial"] = signer.SerialNumber;
            details["certificateIssuer"] = signer.Issuer;
        }

        if (document.TransactionId is { } transaction)
        {
            details["transactionId"] = transaction;
        }

        return details;
    }
}

/// <summary>The receipt archived with a document when it ends: its history and what verification found.</summary>
public sealed record DocumentReceipt(
    string DocumentId,
    string CustomerId,
    DocumentStatus Status,
    DateTimeOffset ReceivedAt,
    DateOnly OperationalDate,
    IReadOnlyList<DocumentStatusChange> StatusHistory,
    SignatureFacts? Signer,
    string CmsSha256,
    string? ArchiveSha256,
    DocumentSummary? Summary,
    IReadOnlyList<DocumentError> Errors,
    string? TransactionId)
{
    public static DocumentReceipt Of(Document document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new(document.DocumentId, document.CustomerId, document.Status, document.ReceivedAt, document.OperationalDate, document.StatusHistory,
            document.Signer, document.CmsSha256, document.ArchiveSha256, document.Summary, document.Errors, document.TransactionId);
    }

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, PlatformExtensions.JsonOptions);

    public static DocumentReceipt? Parse(byte[] bytes)
    {
        try
        {
            return JsonSerializer.Deserialize<DocumentReceipt>(bytes, PlatformExtensions.JsonOptions);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

using System.Security.Cryptography;
using BusinessApi.Calendar;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Documents;

/// <summary>What intake was given: a signed envelope from one caller under one Idempotency-Key.</summary>
public sealed record IntakeRequest(string CustomerId, string UserId, string ClientId, string IdempotencyKey, byte[] Cms, SignedMessage Envelope);

/// <summary>How intake ended: a document (new, or the first answer replayed), or why none.</summary>
public abstract record IntakeResult
{
    private IntakeResult()
    {
    }

    public sealed record Accepted(Document Document, bool Replayed) : IntakeResult;

    /// <summary>The same signed instruction was taken in already, under another key (it takes effect once).</summary>
    public sealed record DuplicateOf(string DocumentId) : IntakeResult;

    /// <summary>The caller's key was used for a different request.</summary>
    public sealed record KeyReused : IntakeResult;
}

/// <summary>
/// Takes a signed payment order in: the document, its signed bytes, the key's and the signature's markers
/// and its workflow commit as one transaction (W1), and the workflow's first step gets the bytes it needs from
/// the start itself. A retry of the same request finds its first document; the same signature under another key
/// finds the document it made.
/// </summary>
public sealed class DocumentIntake(DocumentStore store, WorkflowEngine engine, DocumentWorkflow workflow, CalendarProvider calendars, TimeProvider time)
{
    public async Task<IntakeResult> TakeAsync(IntakeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var keyHash = DocumentStore.KeyHash(request.UserId, request.ClientId, request.IdempotencyKey); // per caller: another user's key is another key
        var requestHash = DocumentArchive.Sha256(request.Cms);
        var signatureHash = SignedInstructions.Fingerprint(request.Envelope, request.Cms);
        var receivedAt = time.GetUtcNow();
        var deadlines = ExecutionDeadlines.For(await calendars.GetAsync(cancellationToken), receivedAt);
        var document = new Document(DocumentIds.New(request.CustomerId, receivedAt), request.CustomerId, PaymentOrder.Type, DocumentStatus.Received, receivedAt, deadlines.OperationalDate)
        {
            UserId = request.UserId,
            ClientId = request.ClientId,
            RefusalDeadline = deadlines.RefusalDeadline,
            DeemedExecutedAt = deadlines.DeemedExecutedAt,
            CmsSha256 = requestHash,
            StatusHistory = [new DocumentStatusChange(DocumentStatus.Received, receivedAt)],
        };

        if (await engine.StartAsync(workflow, DocumentStore.Location(document.DocumentId), document.DocumentId, document,
            DocumentStore.IntakeRows(document, request.Cms, keyHash, requestHash, signatureHash), new FirstStepInput(request.Cms), cancellationToken))
        {
            return new IntakeResult.Accepted(document, Replayed: false);
        }

        if (await store.FindByKeyAsync(request.CustomerId, keyHash, cancellationToken) is not { } first)
        {
            // Not this caller's retry: the same signed instruction under another key takes effect once.
            return new IntakeResult.DuplicateOf(await store.FindBySignatureAsync(request.CustomerId, signatureHash, cancellationToken)
                ?? throw new InvalidOperationException("A document's intake collided with rows that are neither its Idempotency-Key's nor its signature's."));
        }

        if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(first.RequestSha256), Convert.FromHexString(requestHash)))
        {
            return new IntakeResult.KeyReused();
        }

        // The same request again (a retry after a lost answer): the first answer, for the first document.
        return new IntakeResult.Accepted(await store.GetAsync(first.DocumentId, cancellationToken)
            ?? throw new InvalidOperationException("An Idempotency-Key names a missing document."), Replayed: true);
    }
}

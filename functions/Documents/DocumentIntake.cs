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

    /// <summary>A draft that breaks the rules of form: nothing stored.</summary>
    public sealed record Invalid(IReadOnlyList<Platform.Http.FieldError> Errors) : IntakeResult;

    /// <summary>A draft on an account the caller's powers do not reach: nothing stored.</summary>
    public sealed record AccountNotAllowed : IntakeResult;
}

/// <summary>An unsigned document from one caller: its canonical content, to be signed by the people the account's card names.</summary>
public sealed record DraftIntakeRequest(string CustomerId, string UserId, string ClientId, string IdempotencyKey, byte[] Content, Func<string, bool> MayUseAccount);

/// <summary>
/// Takes a signed payment order in: the document, its signed bytes, the key's and the signature's markers
/// and its workflow commit as one transaction (W1), and the workflow's first step gets the bytes it needs from
/// the start itself. A retry of the same request finds its first document; the same signature under another key
/// finds the document it made.
/// </summary>
public sealed class DocumentIntake(
    DocumentStore store, WorkflowEngine engine, DocumentWorkflow workflow, CalendarProvider calendars, TimeProvider time,
    PaymentOrderValidation validation, Customers.CustomerStore customers, SpecimenCardStore cards, Microsoft.Extensions.Options.IOptions<Accounts.BankOptions> bank,
    Microsoft.Extensions.Options.IOptions<DocumentOptions> options)
{
    /// <summary>
    /// Takes a draft in: the same rules of form as a signed order, at once (errors answer now, nothing stored); then the
    /// document, its content, the key's marker, its signature sheet and its workflow in one transaction (W1).
    /// </summary>
    public async Task<IntakeResult> TakeDraftAsync(DraftIntakeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var keyHash = DocumentStore.KeyHash(request.UserId, request.ClientId, request.IdempotencyKey);
        var requestHash = DocumentArchive.Sha256(request.Content);
        if (await ReplayAsync(request.CustomerId, keyHash, requestHash, cancellationToken) is { } replay)
        {
            return replay;
        }

        var document = await NewAsync(request.CustomerId, request.UserId, request.ClientId, DocumentStatus.AwaitingSignatures, requestHash, cancellationToken);
        document = document with { SignatureWindowEndsAt = document.ReceivedAt.AddDays(options.Value.SignatureWindowDays) };
        var customer = await customers.GetCachedAsync(request.CustomerId, cancellationToken);
        var (order, errors) = await validation.ValidateAsync(document, request.Content, customer, cancellationToken);
        if (order is null)
        {
            return new IntakeResult.Invalid(errors);
        }

        if (!request.MayUseAccount(order.DebitIban))
        {
            return new IntakeResult.AccountNotAllowed();
        }

        document = document with { Type = order.Type, Summary = DocumentSummary.Of(order, bank.Value.IbanCode, bank.Value.Bic) };
        var card = await cards.GetAsync(request.CustomerId, order.DebitIban, null, cancellationToken);
        var sheet = new SignatureSheet(document.DocumentId, order.DebitIban, SheetStages.Collecting, document.SignatureWindowEndsAt!.Value, [])
        {
            Missing = SignatureSheet.MissingUnder(card?.Card, []),
        };
        if (await engine.StartAsync(workflow, DocumentStore.Location(document.DocumentId), document.DocumentId, document,
            DocumentStore.DraftRows(document, request.Content, keyHash, requestHash, sheet), cancellationToken: cancellationToken))
        {
            return new IntakeResult.Accepted(document, Replayed: false);
        }

        return await ReplayAsync(request.CustomerId, keyHash, requestHash, cancellationToken)
            ?? throw new InvalidOperationException("A draft's intake collided with rows that are not its Idempotency-Key's.");
    }

    /// <summary>A document received now from the caller, in its first status, with the deadlines its receipt sets .</summary>
    private async Task<Document> NewAsync(string customerId, string userId, string clientId, DocumentStatus status, string requestHash, CancellationToken cancellationToken)
    {
        var receivedAt = time.GetUtcNow();
        var deadlines = ExecutionDeadlines.For(await calendars.GetAsync(cancellationToken), receivedAt);
        return new Document(DocumentIds.New(customerId, receivedAt), customerId, PaymentOrder.Type, status, receivedAt, deadlines.OperationalDate)
        {
            UserId = userId,
            ClientId = clientId,
            RefusalDeadline = deadlines.RefusalDeadline,
            DeemedExecutedAt = deadlines.DeemedExecutedAt,
            CmsSha256 = requestHash,
            StatusHistory = [new DocumentStatusChange(status, receivedAt)],
        };
    }

    /// <summary>The first answer for a key used before (or 422 when it was used for another request); null for a new key.</summary>
    private async Task<IntakeResult?> ReplayAsync(string customerId, string keyHash, string requestHash, CancellationToken cancellationToken)
    {
        if (await store.FindByKeyAsync(customerId, keyHash, cancellationToken) is not { } first)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(Convert.FromHexString(first.RequestSha256), Convert.FromHexString(requestHash)))
        {
            return new IntakeResult.KeyReused();
        }

        return new IntakeResult.Accepted(await store.GetAsync(first.DocumentId, cancellationToken)
            ?? throw new InvalidOperationException("An Idempotency-Key names a missing document."), Replayed: true);
    }

    public async Task<IntakeResult> TakeAsync(IntakeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var keyHash = DocumentStore.KeyHash(request.UserId, request.ClientId, request.IdempotencyKey); // per caller: another user's key is another key
        var requestHash = DocumentArchive.Sha256(request.Cms);
        var signatureHash = SignedInstructions.Fingerprint(request.Envelope, request.Cms);
        var document = await NewAsync(request.CustomerId, request.UserId, request.ClientId, DocumentStatus.Received, requestHash, cancellationToken);

        // The number the content states is claimed in the same transaction, so a straight-through order costs no write of its own for it.
        var numbered = request.Envelope.Content is { } content && SignedOrders.NumberRowOf(content) is { } number ? document with { NumberClaim = number } : document;
        while (true)
        {
            if (await engine.StartAsync(workflow, DocumentStore.Location(numbered.DocumentId), numbered.DocumentId, numbered,
                DocumentStore.IntakeRows(numbered, request.Cms, keyHash, requestHash, signatureHash), new FirstStepInput(request.Cms), cancellationToken: cancellationToken))
            {
                return new IntakeResult.Accepted(numbered, Replayed: false);
            }

            // This caller's retry finds its first answer; otherwise the same signed instruction under another key takes effect once.
            if (await ReplayAsync(request.CustomerId, keyHash, requestHash, cancellationToken) is { } replay)
            {
                return replay;
            }

            if (await store.FindBySignatureAsync(request.CustomerId, signatureHash, cancellationToken) is { } first)
            {
                return new IntakeResult.DuplicateOf(first);
            }

            // Only the number was held (by a live order, or one refused since): taken in without the claim, the verified order
            // claims it then, and is refused as a duplicate if a live order holds it.
            if (numbered.NumberClaim is null)
            {
                throw new InvalidOperationException("A document's intake collided with rows that are neither its Idempotency-Key's nor its signature's.");
            }

            numbered = document;
        }
    }
}

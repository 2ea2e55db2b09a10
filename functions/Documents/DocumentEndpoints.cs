using System.Diagnostics;
using System.Globalization;
using System.Security.Claims;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// Payment services for client software: <c>POST /documents</c> takes a signed payment order in; reads show
/// status, history and the archived original. Intake checks only the envelope (media type, size, base64,
/// a CMS SignedData at all) and answers 202: identification, the EDS and the rules of form are the
/// workflow's, so every accepted request ends in <c>executed</c> or <c>refused</c> with its reason.
/// </summary>
public static class DocumentEndpoints
{
    public static async Task<IResult> SubmitAsync(
        HttpContext context,
        DocumentIntake intake,
        IOptions<SignatureOptions> signatures,
        ProblemTexts texts,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var caller = context.User;
        if (caller.FindFirstValue(SessionAuthenticationHandler.UserIdClaim) is not { } userId
            || caller.FindFirstValue(CustomerAccess.ClientIdClaim) is not { Length: > 0 } clientId)
        {
            return ProblemResult.For(DocumentProblems.SoftwareSessionRequired);
        }

        var key = context.Request.Headers[IdempotencyMiddleware.HeaderName].ToString();
        if (key.Length == 0)
        {
            return ProblemResult.For(PlatformProblems.IdempotencyKeyRequired);
        }

        if (key.Length > 255 || !key.All(c => c is > ' ' and <= '~'))
        {
            return ProblemResult.For(PlatformProblems.IdempotencyKeyInvalid);
        }

        if (!IsJson(context.Request.ContentType))
        {
            return ProblemResult.For(PlatformProblems.UnsupportedMediaType);
        }

        var body = await SignedEnvelope.ReadSignedBodyAsync(context.Request, signatures.Value.MaxCmsBytes, cancellationToken);
        if (body is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentTooLarge, signatures.Value.MaxCmsBytes);
        }

        var draft = DocumentSigningEndpoints.ReadDraft(body);
        if (draft.IsDraft)
        {
            return draft.Problem
                ?? await DocumentSigningEndpoints.SubmitDraftAsync(context, draft.Content!, userId, clientId, key, intake, texts, time, cancellationToken);
        }

        var (cms, signed, problem) = SignedEnvelope.Decode(body, signatures.Value.MaxCmsBytes, () => SignedEnvelope.Invalid("cms", "required"));
        if (problem is not null)
        {
            return problem;
        }

        var result = await intake.TakeAsync(new IntakeRequest(caller.CustomerId()!, userId, clientId, key, cms, signed!), cancellationToken);
        Document document;
        switch (result)
        {
            case IntakeResult.DuplicateOf duplicate:
                return ProblemResult.For(new ApiProblem(DocumentProblems.DuplicateDocument)
                {
                    DetailArguments = [duplicate.DocumentId],
                    Extensions = new Dictionary<string, object?> { ["documentId"] = duplicate.DocumentId },
                });
            case IntakeResult.KeyReused:
                return ProblemResult.For(PlatformProblems.IdempotencyKeyMismatch);
            case IntakeResult.Accepted accepted:
                document = accepted.Document;
                if (accepted.Replayed)
                {
                    context.Response.Headers[IdempotencyMiddleware.ReplayedHeaderName] = "true";
                }

                break;
            default:
                throw new UnreachableException();
        }

        return TypedResults.Accepted($"/api/v1/documents/{document.DocumentId}",
            new DocumentAccepted(document.DocumentId, DocumentStatus.Received, document.ReceivedAt, document.OperationalDate, document.RefusalDeadline));
    }

    public static async Task<Results<Ok<DocumentResponse>, ProblemResult>> GetAsync(
        string documentId, HttpContext context, DocumentStore store, ProblemTexts texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var document = await store.FindForCallerAsync(documentId, context.User, cancellationToken);
        if (document is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        // Awaiting signatures: the sheet is ahead of the workflow's copy by the moment a signature takes to be seen.
        var sheet = document.Status == DocumentStatus.AwaitingSignatures ? (await store.GetSheetAsync(documentId, cancellationToken))?.Sheet : null;
        return TypedResults.Ok(DocumentResponse.Of(document, texts, ApiLanguages.Resolve(context.Request).Culture(), sheet));
    }

    public static async Task<Results<Ok<DocumentListResponse>, ProblemResult>> ListAsync(
        HttpContext context, DocumentStore store, SpecimenCardStore cards, ProblemTexts texts, TimeProvider time,
        string? status, DateOnly? from, DateOnly? to, int? pageSize, string? continuation, bool? awaitingMySignature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (awaitingMySignature == true)
        {
            if (context.Items[SessionAuthenticationHandler.ContextItem] is not SessionContext session)
            {
                return ProblemResult.For(SignedInstructionReader.UserSessionRequired);
            }

            var awaiting = await DocumentSigningEndpoints.AwaitingSignatureOfAsync(context.User, session.User, store, cards, time.GetUtcNow(), cancellationToken);
            var language = ApiLanguages.Resolve(context.Request).Culture();
            return TypedResults.Ok(new DocumentListResponse([.. awaiting.Select(d => DocumentResponse.Of(d, texts, language))], null));
        }

        var errors = new ValidationErrors();
        var (size, token) = Paging.Read(errors, pageSize, continuation);
        DocumentStatus? wanted = null;
        if (status is not null)
        {
            if (Enum.GetValues<DocumentStatus>().FirstOrDefault(s => DocumentStore.StatusText(s) == status) is var parsed && DocumentStore.StatusText(parsed) == status)
            {
                wanted = parsed;
            }
            else
            {
                errors.Add("status", "invalid_value");
            }
        }

        var today = KazakhstanTime.LocalDate(time.GetUtcNow());
        var first = from ?? today.AddDays(-30);
        var last = to ?? today;
        if (last < first)
        {
            errors.Add("to", "before_from");
        }

        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var (items, next) = await store.ListAsync(context.User.CustomerId()!, KazakhstanTime.At(first, TimeSpan.Zero), KazakhstanTime.At(last.AddDays(1), TimeSpan.Zero),
            wanted, size, token, cancellationToken);
        var culture = ApiLanguages.Resolve(context.Request).Culture();
        return TypedResults.Ok(new DocumentListResponse(
            [.. items.Where(d => DocumentAccess.MayRead(context.User, d)).Select(d => DocumentResponse.Of(d, texts, culture))],
            Paging.Continuation(next)));
    }

    public static async Task<IResult> GetArchiveAsync(
        string documentId, HttpContext context, DocumentStore store, DocumentArchive archive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var document = await store.FindForCallerAsync(documentId, context.User, cancellationToken);
        if (document is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        // Accepted and not yet ended (waiting for the operational day, say): the original is in the document's rows until
        // its package is written at the end, the same bytes under the same SHA-256.
        if (document.ArchiveSha256 is not { } sha || await ReadArchivedAsync(async () =>
                await archive.ReadFileAsync(document, DocumentArchive.OriginalName, sha, cancellationToken)
                ?? (document.ReceiptSha256 is null && await store.GetArchiveMaterialAsync(document.DocumentId, cancellationToken) is { } material
                    ? archive.Verified(document, DocumentArchive.OriginalName, material.Original, sha)
                    : null)) is not { } read)
        {
            return ProblemResult.For(DocumentProblems.NotArchived);
        }

        if (read.Problem is { } damaged)
        {
            return damaged;
        }

        var bytes = read.Bytes!;
        context.Response.Headers["Digest"] = "sha-256=" + Convert.ToBase64String(Convert.FromHexString(sha));
        return TypedResults.File(bytes, "application/pkcs7-mime", document.DocumentId + ".p7s");
    }

    public static async Task<IResult> GetReceiptAsync(
        string documentId, HttpContext context, DocumentStore store, DocumentArchive archive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var document = await store.FindForCallerAsync(documentId, context.User, cancellationToken);
        if (document is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        if (document.ReceiptSha256 is not { } sha
            || await ReadArchivedAsync(() => archive.ReadFileAsync(document, DocumentArchive.ReceiptName, sha, cancellationToken)) is not { } read)
        {
            return ProblemResult.For(DocumentProblems.NotArchived);
        }

        return read.Problem ?? (IResult)TypedResults.File(read.Bytes!, "application/json");
    }

    /// <summary>The archived bytes, or the 500 to answer when they no longer match their recorded SHA-256 (null when missing).</summary>
    private static async Task<(byte[]? Bytes, ProblemResult? Problem)?> ReadArchivedAsync(Func<Task<byte[]?>> read)
    {
        try
        {
            return await read() is { } bytes ? (bytes, null) : null;
        }
        catch (ArchiveIntegrityException)
        {
            return (null, ProblemResult.For(DocumentProblems.ArchiveIntegrity));
        }
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));
}

public static class DocumentProblems
{
    public static readonly ProblemType SoftwareSessionRequired = new("software_session_required", StatusCodes.Status403Forbidden);
    public static readonly ProblemType DocumentNotFound = new("document_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType NotArchived = new("document_not_archived", StatusCodes.Status404NotFound);
    public static readonly ProblemType DocumentTooLarge = new("document_too_large", StatusCodes.Status413PayloadTooLarge);
    public static readonly ProblemType DocumentNotHeld = new("document_not_held", StatusCodes.Status409Conflict);
    public static readonly ProblemType ArchiveIntegrity = new("archive_integrity_failed", StatusCodes.Status500InternalServerError);
    public static readonly ProblemType TrustMaterialRejected = new("trust_material_rejected", StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType DuplicateDocument = new("duplicate_document", StatusCodes.Status409Conflict);
    public static readonly ProblemType NotAwaitingSignatures = new("document_not_awaiting_signatures", StatusCodes.Status409Conflict);
    public static readonly ProblemType AlreadySigned = new("already_signed", StatusCodes.Status409Conflict);
    public static readonly ProblemType FullySigned = new("document_fully_signed", StatusCodes.Status409Conflict);
    public static readonly ProblemType SignatureWindowClosed = new("signature_window_closed", StatusCodes.Status409Conflict);
    public static readonly ProblemType NotOnSpecimenCard = new("not_on_specimen_card", StatusCodes.Status403Forbidden);
    public static readonly ProblemType DocumentInvalid = new("document_invalid", StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType CancelNotAllowed = new("cancel_not_allowed", StatusCodes.Status403Forbidden);
    public static readonly ProblemType SignatureRuleNotFound = new("signature_rule_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType SignerNotOnCard = new("signer_not_on_card", StatusCodes.Status404NotFound);
    public static readonly ProblemType SignatureRuleConflict = new("signature_rule_conflict", StatusCodes.Status409Conflict);
}

/// <summary>POST /documents's answer: the document is in, its fate is in its status.</summary>
public sealed record DocumentAccepted(string DocumentId, DocumentStatus Status, DateTimeOffset ReceivedAt, DateOnly OperationalDate, DateTimeOffset RefusalDeadline);

public sealed record DocumentListResponse(IReadOnlyList<DocumentResponse> Items, string? Continuation);

public sealed record StatusChangeResponse(DocumentStatus Status, DateTimeOffset At, string? ReasonCode, string? Failure, string? Reason, string? Note);

public sealed record FieldErrorResponse(string Field, string Code, string Message);

/// <param name="SigningTime">The time the signer's software stated (signed attribute signingTime).</param>
/// <param name="TimestampedAt">The time of a valid RFC 3161 time-stamp from a trusted TSA: the signing time the bank relied on.</param>
/// <param name="Roles">NCA RK roles of the certificate (firstHead, rightOfSignature, rightOfFinancialSignature, individual, …).</param>
public sealed record SignerResponse(
    string? Iin, string? Bin, string Subject, string Issuer, string SerialNumber, string Algorithm, DateTimeOffset? SigningTime,
    DateTimeOffset? TimestampedAt, IReadOnlyList<string> Roles)
{
    public static SignerResponse Of(SignatureFacts s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new(s.SignerIin, s.SignerBin, s.Subject, s.Issuer, s.SerialNumber, s.Algorithm, s.SigningTime, s.TimestampedAt, s.Roles ?? []);
    }
}

/// <param name="Group">The signer's group on the account's specimen card (<c>first</c>, <c>second</c>); null without a card.</param>
/// <param name="Counts">False once the signature stopped counting (the signer's power ended before the document was fully signed).</param>
public sealed record SignatureResponse(int Number, string UserId, string? Group, DateTimeOffset At, SignerResponse Signer, bool Counts, DateTimeOffset? VoidedAt, string? VoidReason)
{
    public static SignatureResponse Of(DocumentSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        return new(signature.Number, signature.UserId, signature.Group, signature.At, SignerResponse.Of(signature.Signer), signature.Counts, signature.VoidedAt, signature.VoidReason);
    }
}

/// <param name="Stage"><c>collecting</c>, <c>complete</c>, <c>cancelled</c> or <c>expired</c>.</param>
/// <param name="Missing">The card's groups still to sign (<c>any</c>: one user with the sign power, on an account without a card).</param>
public sealed record SigningResponse(string Stage, IReadOnlyList<string> Missing, DateTimeOffset WindowEndsAt, DateTimeOffset? ClosedAt);

/// <summary>A document as customers read it: status with its history, the reason in the caller's language, and what was paid.</summary>
public sealed record DocumentResponse(
    string DocumentId,
    string Type,
    DocumentStatus Status,
    IReadOnlyList<StatusChangeResponse> StatusHistory,
    DateTimeOffset ReceivedAt,
    DateOnly OperationalDate,
    DateTimeOffset RefusalDeadline,
    DateTimeOffset DeemedExecutedAt,
    string? ReasonCode,
    string? Failure,
    string? Reason,
    IReadOnlyList<FieldErrorResponse> Errors,
    string? WaitingFor,
    bool DeemedExecuted,
    DateTimeOffset? OverdueSince,
    DocumentSummary? PaymentOrder,
    SignerResponse? Signer,
    string? TransactionId,
    string CmsSha256,
    string? ArchiveSha256,
    string? ReceiptSha256,
    string UserId,
    string ClientId)
{
    /// <summary>Every signature, in the order counted; one for a document signed at once.</summary>
    public IReadOnlyList<SignatureResponse> Signatures { get; init; } = [];

    /// <summary>Where collecting signatures stands, while the document awaits them or once it did.</summary>
    public SigningResponse? Signing { get; init; }

    /// <summary>When the account's signature rule was met: operational-day timing counts from here.</summary>
    public DateTimeOffset? SignedAt { get; init; }

    /// <summary>A conversion order as signed (<c>payerIban</c> debited, <c>beneficiaryIban</c> credited) and, once executed, its two amounts and rate (<c>conversion</c>).</summary>
    public DocumentSummary? ConversionOrder { get; init; }

    public static DocumentResponse Of(Document document, ProblemTexts texts, CultureInfo culture, SignatureSheet? sheet)
    {
        ArgumentNullException.ThrowIfNull(document);
        var response = Of(document, texts, culture);
        if (sheet is null)
        {
            return response;
        }

        return response with
        {
            Signatures = [.. sheet.Signatures.Select(SignatureResponse.Of)],
            Signing = new SigningResponse(sheet.Stage, sheet.Missing, sheet.WindowEndsAt, sheet.ClosedAt),
        };
    }

    public static DocumentResponse Of(Document document, ProblemTexts texts, CultureInfo culture)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(texts);
        var history = document.StatusHistory.Select(c => new StatusChangeResponse(c.Status, c.At, c.ReasonCode, c.Failure, ReasonText(c, texts, culture), c.Note)).ToList();
        var last = document.IsTerminal ? history[^1] : null;
        return new DocumentResponse(document.DocumentId, document.Type, document.Status, history, document.ReceivedAt, document.OperationalDate,
            document.RefusalDeadline, document.DeemedExecutedAt, last?.ReasonCode, last?.Failure, last?.Reason,
            [.. document.Errors.Select(e => new FieldErrorResponse(e.Field, e.Code, texts.Format("field." + e.Code, culture, [.. e.Arguments], e.Code)!))],
            document.WaitingFor, !document.IsTerminal && document.OverdueSince is not null, document.OverdueSince,
            document.Type == Documents.ConversionOrder.Type ? null : document.Summary,
            document.Signer is { } s ? SignerResponse.Of(s) : null,
            document.TransactionId, document.CmsSha256, document.ArchiveSha256, document.ReceiptSha256, document.UserId, document.ClientId)
        {
            Signatures = document.Signatures.Count > 0 ? [.. document.Signatures.Select(SignatureResponse.Of)]
                : document.Signer is { } only ? [SignatureResponse.Of(new DocumentSignature(1, document.UserId, null, document.ReceivedAt, only, document.CmsSha256))] : [],
            Signing = document.SignatureWindowEndsAt is { } until
                ? new SigningResponse(document.Status == DocumentStatus.AwaitingSignatures ? SheetStages.Collecting
                    : document.Status == DocumentStatus.Cancelled ? SheetStages.Cancelled : SheetStages.Complete, [], until, document.SignedAt)
                : null,
            SignedAt = document.SignedAt,
            ConversionOrder = document.Type == Documents.ConversionOrder.Type ? document.Summary : null,
        };
    }

    private static string? ReasonText(DocumentStatusChange change, ProblemTexts texts, CultureInfo culture)
    {
        if (change.ReasonCode is null)
        {
            return null;
        }

        var reason = texts.Find("reason." + change.ReasonCode, culture) ?? change.ReasonCode;
        return change.Failure is { } failure && texts.Find("failure." + failure, culture) is { } detail ? $"{reason}: {detail}" : reason;
    }
}

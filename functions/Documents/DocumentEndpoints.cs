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

        var (cms, signed, problem) = await SignedEnvelope.ReadAsync(context.Request, signatures.Value.MaxCmsBytes,
            () => SignedEnvelope.Invalid("cms", "required"), cancellationToken);
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
        return document is null
            ? ProblemResult.For(DocumentProblems.DocumentNotFound)
            : TypedResults.Ok(DocumentResponse.Of(document, texts, ApiLanguages.Resolve(context.Request).Culture()));
    }

    public static async Task<Results<Ok<DocumentListResponse>, ProblemResult>> ListAsync(
        HttpContext context, DocumentStore store, ProblemTexts texts, TimeProvider time,
        string? status, DateOnly? from, DateOnly? to, int? pageSize, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
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

        if (document.ArchiveSha256 is not { } sha || await ReadArchivedAsync(archive, DocumentArchive.PathOf(document, DocumentArchive.OriginalName), sha, cancellationToken) is not { } read)
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

        if (document.ReceiptSha256 is not { } sha || await ReadArchivedAsync(archive, DocumentArchive.PathOf(document, DocumentArchive.ReceiptName), sha, cancellationToken) is not { } read)
        {
            return ProblemResult.For(DocumentProblems.NotArchived);
        }

        return read.Problem ?? (IResult)TypedResults.File(read.Bytes!, "application/json");
    }

    /// <summary>The archived bytes, or the 500 to answer when they no longer match their recorded SHA-256 (null when missing).</summary>
    private static async Task<(byte[]? Bytes, ProblemResult? Problem)?> ReadArchivedAsync(DocumentArchive archive, string path, string sha256, CancellationToken cancellationToken)
    {
        try
        {
            return await archive.ReadAsync(path, sha256, cancellationToken) is { } bytes ? (bytes, null) : null;
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
    DateTimeOffset? TimestampedAt, IReadOnlyList<string> Roles);

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
            document.Summary,
            document.Signer is { } s ? new SignerResponse(s.SignerIin, s.SignerBin, s.Subject, s.Issuer, s.SerialNumber, s.Algorithm, s.SigningTime, s.TimestampedAt, s.Roles ?? []) : null,
            document.TransactionId, document.CmsSha256, document.ArchiveSha256, document.ReceiptSha256, document.UserId, document.ClientId);
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

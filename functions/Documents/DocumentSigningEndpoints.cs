using System.Security.Claims;
using System.Text.Json;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Users;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// Documents several people prepare and sign: the bytes to sign (<c>GET /documents/{id}/content</c>), a signature
/// added (<c>POST /documents/{id}/signatures</c>), a cancel (<c>DELETE /documents/{id}</c>), and the documents
/// awaiting the caller's signature. A draft itself comes in through <c>POST /documents</c> without a CMS.
/// </summary>
public static class DocumentSigningEndpoints
{
    /// <summary>The <c>document</c> of a draft's body as canonical bytes: its JSON re-written without insignificant whitespace, property order kept.</summary>
    public static (bool IsDraft, byte[]? Content, ProblemResult? Problem) ReadDraft(byte[] body)
    {
        try
        {
            using var json = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || root.TryGetProperty("cms", out _) || !root.TryGetProperty("document", out var document))
            {
                return (false, null, null);
            }

            if (document.ValueKind != JsonValueKind.Object)
            {
                return (true, null, SignedEnvelope.Invalid("document", "invalid_value"));
            }

            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                document.WriteTo(writer);
            }

            return (true, buffer.ToArray(), null);
        }
        catch (JsonException)
        {
            return (false, null, null); // the signed path answers malformed JSON the way it always has
        }
    }

    /// <summary><c>POST /documents</c> with <c>{"document": {…}}</c>: a draft, checked at once, awaiting its signatures.</summary>
    public static async Task<IResult> SubmitDraftAsync(
        HttpContext context, byte[] content, string userId, string clientId, string key, DocumentIntake intake, ProblemTexts texts, TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items[SessionAuthenticationHandler.ContextItem] is not SessionContext session
            || !session.User.FunctionsAt(time.GetUtcNow()).Any(f => f is UserFunctions.Create or UserFunctions.Sign))
        {
            return ProblemResult.For(SignedInstructionReader.NoSigningAuthority);
        }

        var caller = context.User;
        var result = await intake.TakeDraftAsync(
            new DraftIntakeRequest(caller.CustomerId()!, userId, clientId, key, content, iban => caller.MayAccessAccount(iban) && session.User.Powers.MayAccess(iban)),
            cancellationToken);
        switch (result)
        {
            case IntakeResult.Invalid invalid:
                return ProblemResult.For(new ApiProblem(DocumentProblems.DocumentInvalid) { Errors = invalid.Errors });
            case IntakeResult.AccountNotAllowed:
                return ProblemResult.For(new ApiProblem(DocumentProblems.DocumentInvalid) { Errors = [new FieldError("payer.iban", "account_not_allowed")] });
            case IntakeResult.KeyReused:
                return ProblemResult.For(PlatformProblems.IdempotencyKeyMismatch);
            case IntakeResult.Accepted accepted:
                if (accepted.Replayed)
                {
                    context.Response.Headers[Platform.Http.Idempotency.IdempotencyMiddleware.ReplayedHeaderName] = "true";
                }

                return TypedResults.Created($"/api/v1/documents/{accepted.Document.DocumentId}",
                    DocumentResponse.Of(accepted.Document, texts, ApiLanguages.Resolve(context.Request).Culture()));
            default:
                throw new System.Diagnostics.UnreachableException();
        }
    }

    /// <summary><c>GET /documents/{id}/content</c>: the exact bytes each signer signs (attached, or detached over them).</summary>
    public static async Task<IResult> GetContentAsync(string documentId, HttpContext context, DocumentStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var document = await store.FindForCallerAsync(documentId, context.User, cancellationToken);
        if (document is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        if (await store.GetContentAsync(documentId, cancellationToken) is not { } content)
        {
            return ProblemResult.For(DocumentProblems.NotAwaitingSignatures);
        }

        context.Response.Headers["Digest"] = "sha-256=" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(content));
        return TypedResults.File(content, "application/json");
    }

    /// <summary><c>POST /documents/{id}/signatures</c> <c>{"cms"}</c>: one or more signatures over the document's content.</summary>
    public static async Task<IResult> AddSignatureAsync(
        string documentId, HttpContext context, DocumentStore store, SignatureCollector collector, AuditJournal audit, ProblemTexts texts,
        IOptions<SignatureOptions> signatures, CancellationToken cancellationToken)
    {
        var (session, document, missing) = await CallersDocumentAsync(documentId, context, store, cancellationToken);
        if (missing is not null)
        {
            return missing;
        }

        var (cms, message, problem) = await SignedEnvelope.ReadAsync(context.Request, signatures.Value.MaxCmsBytes, () => SignedEnvelope.Invalid("cms", "required"), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var (sheet, refused) = await collector.AddAsync(document, session.User, cms, message!, cancellationToken);
        await audit.AppendAsync(new AuditRecord(document.CustomerId, context.User.Actor(), "document.signature_added", refused is null ? AuditOutcome.Success : AuditOutcome.Denied)
        {
            Target = "documents/" + documentId,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["signers"] = string.Join(' ', message!.Signers.Select(s => s.SerialNumber ?? "ski")),
                ["outcome"] = refused is null ? sheet!.Stage : refused.Problem.Type.Code,
            },
        }, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var culture = ApiLanguages.Resolve(context.Request).Culture();
        return TypedResults.Accepted($"/api/v1/documents/{documentId}", DocumentResponse.Of(document, texts, culture, sheet));
    }

    /// <summary><c>DELETE /documents/{id}</c>: its creator or a customer admin cancels a document not yet fully signed.</summary>
    public static async Task<IResult> CancelAsync(
        string documentId, HttpContext context, DocumentStore store, SignatureCollector collector, AuditJournal audit, ProblemTexts texts, CancellationToken cancellationToken)
    {
        var (session, document, missing) = await CallersDocumentAsync(documentId, context, store, cancellationToken);
        if (missing is not null)
        {
            return missing;
        }

        if (document.UserId != session.User.UserId && !session.User.IsAdmin)
        {
            return ProblemResult.For(DocumentProblems.CancelNotAllowed);
        }

        var (sheet, refused) = await collector.CancelAsync(document, context.User.Actor(), cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        await audit.AppendAsync(new AuditRecord(document.CustomerId, context.User.Actor(), "document.cancelled", AuditOutcome.Success)
        {
            Target = "documents/" + documentId,
            CorrelationId = context.TraceIdentifier,
        }, cancellationToken);
        return TypedResults.Ok(DocumentResponse.Of(document, texts, ApiLanguages.Resolve(context.Request).Culture(), sheet));
    }

    /// <summary>The person in session and the document they name, when it is their customer's and within their powers; else the problem.</summary>
    private static async Task<(SessionContext Session, Document Document, ProblemResult? Problem)> CallersDocumentAsync(
        string documentId, HttpContext context, DocumentStore store, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items[SessionAuthenticationHandler.ContextItem] is not SessionContext session)
        {
            return (null!, null!, ProblemResult.For(SignedInstructionReader.UserSessionRequired));
        }

        var document = await store.FindForCallerAsync(documentId, context.User, cancellationToken);
        return document is null ? (session, null!, ProblemResult.For(DocumentProblems.DocumentNotFound)) : (session, document, null);
    }

    /// <summary>The documents awaiting a signature the caller may give: on accounts they may sign, not yet signed by them, in a group still missing.</summary>
    public static async Task<IReadOnlyList<Document>> AwaitingSignatureOfAsync(
        ClaimsPrincipal caller, User user, DocumentStore store, SpecimenCardStore cards, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(user);
        var found = new List<Document>();
        var cardsRead = new Dictionary<string, SpecimenCard?>(StringComparer.Ordinal);
        foreach (var (sheet, _) in await store.ListCollectingAsync(user.CustomerId, null, cancellationToken))
        {
            if (!caller.MayAccessAccount(sheet.PayerIban) || !user.MaySignAt(sheet.PayerIban, now) || sheet.Counted.Any(s => s.UserId == user.UserId)
                || now >= sheet.WindowEndsAt)
            {
                continue;
            }

            if (!cardsRead.TryGetValue(sheet.PayerIban, out var card))
            {
                cardsRead[sheet.PayerIban] = card = (await cards.GetAsync(user.CustomerId, sheet.PayerIban, [user.UserId], cancellationToken))?.Card;
            }

            if (card is not null && (card.ActiveSigner(user.UserId, now) is not { } entry || !sheet.Missing.Contains(entry.Group)))
            {
                continue;
            }

            if (await store.GetAsync(sheet.DocumentId, cancellationToken) is { } document)
            {
                found.Add(document with { Signatures = sheet.Signatures });
            }
        }

        return found;
    }
}

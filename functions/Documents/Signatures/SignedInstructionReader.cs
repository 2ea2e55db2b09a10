using System.Text.Json;
using System.Text.Json.Nodes;
using BusinessApi.Customers;
using BusinessApi.Platform;
using BusinessApi.Platform.Http;
using BusinessApi.Users;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents.Signatures;

/// <summary>A customer's instruction as signed: the request it carries, the signed bytes to archive, who signed it.</summary>
public sealed record SignedInstruction<T>(T Request, byte[] Cms, SignatureFacts Signer, User User);

/// <summary>
/// R-12: the customer's instructions other than payment orders — error reports, penalty claims (the "written
/// demand" of clause 7.4), the termination request — arrive as <c>{"cms": "&lt;base64 CMS SignedData&gt;"}</c> whose
/// content is the request's JSON plus <c>type</c> and, where one applies, <c>documentId</c>. They are verified
/// at once, with the verifier and the signer rules of payment documents: the signature, chain, validity and
/// revocation; the signer is the signed-in user (and, for an organisation certificate, of this customer);
/// the user holds the power the instruction needs. A plain JSON body is 400 <c>signature_required</c>.
/// </summary>
public sealed class SignedInstructionReader(SignatureService signatures, CustomerStore customers, CertificateBlocks blocks, IOptions<SignatureOptions> options, TimeProvider time)
{
    public static readonly ProblemType SignatureRequired = new("signature_required", StatusCodes.Status400BadRequest);
    public static readonly ProblemType SignatureRejected = new("signature_rejected", StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType UserSessionRequired = new("user_session_required", StatusCodes.Status403Forbidden);
    public static readonly ProblemType NoSigningAuthority = new("no_signing_authority", StatusCodes.Status403Forbidden);

    /// <summary>
    /// Reads, verifies and checks the signed instruction of <paramref name="type"/> in the request body; the
    /// request (validated) when all holds, else the problem to answer. Nothing is changed either way.
    /// </summary>
    public async Task<(SignedInstruction<T>? Instruction, ProblemResult? Problem)> ReadAsync<T>(
        HttpContext context, string type, string? documentId, Func<User, bool> mayInstruct, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(mayInstruct);
        if (context.Items[SessionAuthenticationHandler.ContextItem] is not SessionContext session)
        {
            return (null, ProblemResult.For(UserSessionRequired));
        }

        // No cms: the former plain JSON body, or nothing. An instruction must be signed.
        var (cms, message, envelopeProblem) = await SignedEnvelope.ReadAsync(context.Request, options.Value.MaxCmsBytes, () => ProblemResult.For(SignatureRequired), cancellationToken);
        if (envelopeProblem is not null)
        {
            return (null, envelopeProblem);
        }

        var check = await signatures.VerifyAsync(message, time.GetUtcNow(), cancellationToken);
        if (!check.IsValid)
        {
            return (null, Rejected(check.Failure!));
        }

        var user = session.User;
        var facts = check.Facts!;
        var customer = await customers.GetCachedAsync(user.CustomerId, cancellationToken);
        if (SignedInstructions.IdentityFailure(facts, user.Iin, customer, options.Value) is { } identityFailure)
        {
            return (null, Rejected(identityFailure));
        }

        // A certificate reported compromised, or blocked by the bank, instructs nothing from now on.
        var found = await blocks.FindAsync(facts.Issuer, facts.SerialNumber, facts.SignerIin, cancellationToken);
        if (found.Count > 0)
        {
            return (null, Rejected(found.Any(b => b.IsCompromise) ? SignatureFailures.CredentialsCompromised : SignatureFailures.CertificateBlocked));
        }

        if (!mayInstruct(user))
        {
            return (null, ProblemResult.For(NoSigningAuthority));
        }

        var (request, contentProblem) = ReadContent<T>(check.Content!, type, documentId);
        return contentProblem is not null ? (null, contentProblem) : (new SignedInstruction<T>(request!, cms, facts, user), null);
    }

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 16 };

    private static ProblemResult Rejected(string failure) =>
        ProblemResult.For(new ApiProblem(SignatureRejected) { Extensions = new Dictionary<string, object?> { ["failure"] = failure } });

    private static (T? Request, ProblemResult? Problem) ReadContent<T>(byte[] content, string type, string? documentId)
        where T : class
    {
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(content, documentOptions: Strict) as JsonObject;
        }
        catch (JsonException)
        {
            json = null;
        }

        if (json is null)
        {
            return (null, SignedEnvelope.Invalid("cms", "content_malformed"));
        }

        var errors = new ValidationErrors();
        if (json["type"] is not JsonValue t || !t.TryGetValue<string>(out var signedType) || signedType != type)
        {
            errors.Add("type", "instruction_type_mismatch", type);
        }

        if (documentId is not null && (json["documentId"] is not JsonValue d || !d.TryGetValue<string>(out var signedDocument) || signedDocument != documentId))
        {
            errors.Add("documentId", "instruction_document_mismatch", documentId);
        }

        if (errors.Count > 0)
        {
            return (null, ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] }));
        }

        json.Remove("type");
        json.Remove("documentId");
        T? request;
        try
        {
            request = json.Deserialize<T>(PlatformExtensions.JsonOptions);
        }
        catch (JsonException)
        {
            return (null, SignedEnvelope.Invalid("cms", "content_malformed"));
        }

        if (request is null)
        {
            return (null, SignedEnvelope.Invalid("cms", "content_malformed"));
        }

        if (request is IValidatable validatable)
        {
            validatable.Validate(errors);
            if (errors.Count > 0)
            {
                return (null, ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] }));
            }
        }

        return (request, null);
    }
}

using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// <c>POST /api/v1/ops/signatures/verify</c>: what the verifier concludes of a CMS, the way NCANode answers it —
/// for the bank's support staff, who must say why a document was refused without reading logs. Each SignerInfo
/// is reported on its own: algorithm, signer (subject, IIN, BIN, roles, policies), chain, time-stamp, revocation
/// (its source and answer) and every check with its failure code. With <c>at</c>, validity is judged at that past
/// instant and revocation by the CRLs on file; without it, now, and OCSP is asked when configured. Nothing is stored.
/// </summary>
public static class SignatureInspection
{
    private const int MaxDataBytes = 1024 * 1024;

    public static async Task<Results<Ok<SignatureReport>, ProblemResult>> VerifyAsync(
        SignatureVerifyRequest request, SignatureService signatures, IOptions<SignatureOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var cms = Base64(request.Cms!, options.Value.MaxCmsBytes);
        var data = request.Data is null ? null : Base64(request.Data, MaxDataBytes);
        if (cms is null || request.Data is not null && data is null)
        {
            return SignedEnvelope.Invalid(cms is null ? "cms" : "data", "not_base64_or_too_large");
        }

        var live = request.At is null;
        var at = request.At ?? time.GetUtcNow();
        var message = SignedMessage.TryParse(cms);
        if (message is null)
        {
            return TypedResults.Ok(new SignatureReport(false, SignatureFailures.Malformed, at, live, null, null, []));
        }

        var checks = await signatures.InspectAsync(message, data, at, live, cancellationToken);
        var failure = checks.Count == 0 ? SignatureFailures.NoSigner : checks.Select(c => c.Failure).FirstOrDefault(f => f is not null);
        return TypedResults.Ok(new SignatureReport(failure is null, failure, at, live, message.ContentType, message.Detached, [.. checks.Select(SignerReport.Of)]));
    }

    private static byte[]? Base64(string text, int limit)
    {
        var buffer = new byte[(text.Length / 4 * 3) + 3];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var length) && length <= limit ? buffer[..length] : null;
    }
}

/// <param name="Cms">The CMS SignedData, base64 (DER, BER, or the base64 text some NCA RK tools write, itself base64).</param>
/// <param name="Data">The signed content of a detached signature, base64.</param>
/// <param name="At">Judge validity at this past instant (an investigation); revocation then by the CRLs on file.</param>
public sealed record SignatureVerifyRequest(string? Cms, string? Data, DateTimeOffset? At) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("cms", Cms);
    }
}

/// <summary>The verifier's conclusion: valid when every SignerInfo is; the first failure otherwise.</summary>
public sealed record SignatureReport(
    bool Valid, string? Failure, DateTimeOffset EvaluatedAt, bool Live, string? ContentType, bool? Detached, IReadOnlyList<SignerReport> Signers);

public sealed record ChainElementReport(string Subject, string Issuer, string SerialNumber, string Thumbprint, DateTimeOffset NotBefore, DateTimeOffset NotAfter);

public sealed record SignerReport(
    bool Valid,
    string? Failure,
    string? Algorithm,
    string? Subject,
    string? Issuer,
    string? SerialNumber,
    string? Iin,
    string? Bin,
    IReadOnlyList<string> Roles,
    IReadOnlyList<string> Policies,
    IReadOnlyList<string> ExtendedKeyUsages,
    DateTimeOffset? NotBefore,
    DateTimeOffset? NotAfter,
    DateTimeOffset? SigningTime,
    DateTimeOffset EvaluatedAt,
    TimestampFacts? Timestamp,
    IReadOnlyList<ChainElementReport> Chain,
    RevocationFacts? Revocation,
    IReadOnlyList<SignatureCheckStep> Checks)
{
    public static SignerReport Of(SignatureCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        var certificate = check.Certificate;
        return new SignerReport(
            check.IsValid, check.Failure, check.Facts?.Algorithm, certificate?.Subject, certificate?.Issuer, certificate?.SerialNumber,
            certificate?.Iin, certificate?.Bin,
            [.. certificate?.Roles.Select(NcaOids.RoleName) ?? []],
            [.. certificate?.Policies.Order(StringComparer.Ordinal).Select(NcaOids.PolicyName) ?? []],
            [.. (IEnumerable<string>?)certificate?.ExtendedKeyUsages.Order(StringComparer.Ordinal) ?? []],
            certificate?.NotBefore, certificate?.NotAfter, check.Facts?.SigningTime, check.EvaluatedAt, check.Timestamp,
            [.. check.Chain?.Elements.Select(e => new ChainElementReport(e.Subject, e.Issuer, e.SerialNumber, e.Thumbprint, e.NotBefore, e.NotAfter)) ?? []],
            check.Revocation, check.Checks);
    }
}

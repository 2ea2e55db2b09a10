using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BusinessApi.Documents.Signatures;

/// <summary>Why a signature was not accepted; each is its own stable code (the document's <c>failure</c>).</summary>
public static class SignatureFailures
{
    public const string Malformed = "cms_malformed";
    public const string Detached = "signature_detached";
    public const string NoSigner = "signature_missing";
    public const string MultipleSigners = "multiple_signers";
    public const string SignerCertificateMissing = "signer_certificate_missing";
    public const string UnsupportedAlgorithm = "unsupported_signature_algorithm";
    public const string Invalid = "signature_invalid";
    public const string SigningTimeInvalid = "signing_time_invalid";
    public const string CertificateExpired = "certificate_expired";
    public const string CertificateNotYetValid = "certificate_not_yet_valid";
    public const string KeyUsage = "key_usage_invalid";
    public const string Untrusted = "certificate_untrusted";
    public const string Revoked = "certificate_revoked";
    public const string RevocationUnknown = "revocation_unknown";
    public const string SignerMismatch = "signer_mismatch";
    public const string OrganisationMismatch = "organisation_mismatch";
    public const string NoSigningAuthority = "no_signing_authority";
    public const string CredentialsCompromised = "credentials_compromised";
    public const string CertificateBlocked = "certificate_blocked";
    public const string ContentTypeInvalid = "content_type_invalid";
    public const string SigningKeyRequired = "signing_key_required";
    public const string OrganisationBinMissing = "organisation_bin_missing";
    public const string SigningRoleMissing = "signing_role_missing";
    public const string TimestampInvalid = "timestamp_invalid";
    public const string TimestampMissing = "timestamp_missing";
    public const string TimestampUntrusted = "timestamp_untrusted";
}

/// <summary>What a verified signature says: who signed, with which certificate, when, and the signed bytes.</summary>
public sealed record SignatureFacts(
    string? SignerIin,
    string? SignerBin,
    string Subject,
    string Issuer,
    string SerialNumber,
    string Thumbprint,
    string Algorithm,
    DateTimeOffset? SigningTime,
    DateTimeOffset CertificateNotAfter)
{
    /// <summary>NCA RK roles the certificate carries (extended key usage OIDs under 1.2.398.3.3.4), by name.</summary>
    public IReadOnlyList<string>? Roles { get; init; }

    /// <summary>The time of a valid RFC 3161 time-stamp in the signature: the signing time the bank relies on.</summary>
    public DateTimeOffset? TimestampedAt { get; init; }
}

/// <summary>One check the verifier made, in order, and its failure code when it did not pass.</summary>
public sealed record SignatureCheckStep(string Name, bool Passed, string? Failure = null, string? Detail = null);

/// <summary>An RFC 3161 time-stamp found in a signature, whether or not it verified.</summary>
public sealed record TimestampFacts(DateTimeOffset? Time, string? Authority, string? Failure);

/// <summary>Where a revocation answer came from and what it said.</summary>
public sealed record RevocationFacts(string Source, string Status, DateTimeOffset? RevokedAt, DateTimeOffset? ProducedAt, string? Detail = null);

/// <summary>The outcome of <see cref="SignatureVerifier"/>: facts and content when good, a failure code otherwise, and every check made.</summary>
public sealed record SignatureCheck(string? Failure, SignatureFacts? Facts, byte[]? Content)
{
    public bool IsValid => Failure is null;

    public NcaCertificate? Certificate { get; init; }

    public ChainResult? Chain { get; init; }

    /// <summary>The instant validity and revocation were judged at: the time-stamp's, else the receipt's.</summary>
    public DateTimeOffset EvaluatedAt { get; init; }

    public TimestampFacts? Timestamp { get; init; }

    public RevocationFacts? Revocation { get; init; }

    public IReadOnlyList<SignatureCheckStep> Checks { get; init; } = [];

    public static SignatureCheck Fail(string failure, SignatureFacts? facts = null) => new(failure, facts, null);
}

public sealed class SignatureOptions
{
    public const string Section = "Signatures";

    /// <summary>PEM/DER certificates (a file or a folder): NCA RK roots (self-signed) and intermediates.</summary>
    public string? TrustAnchorsPath { get; set; }

    /// <summary>CRL files (a file or a folder), PEM or DER; uploads through the operations API add to them.</summary>
    public string? CrlPath { get; set; }

    /// <summary>Refuse a signature whose issuer has no CRL on file, or whose CRL is past its next update.</summary>
    public bool RequireCrl { get; set; } = true;

    /// <summary>How far a signer's clock may run ahead of the bank's.</summary>
    [Range(0, 3600)]
    public int ClockSkewSeconds { get; set; } = 300;

    /// <summary>How often a process re-reads trust anchors and CRLs uploaded by other instances.</summary>
    [Range(1, 3600)]
    public int RefreshSeconds { get; set; } = 30;

    /// <summary>A signing key only: key usage nonRepudiation, and EKU emailProtection or an NCA RK signing policy (an authentication key is refused).</summary>
    public bool RequireSigningKey { get; set; } = true;

    /// <summary>A legal entity's documents are signed with a certificate carrying <c>OU=BIN</c> equal to the customer's BIN.</summary>
    public bool RequireOrganisationBin { get; set; } = true;

    /// <summary>A legal entity's payment documents are signed by a first head, or with the right of (financial) signature.</summary>
    public bool RequireSigningRole { get; set; } = true;

    /// <summary>Refuse a signature without a valid RFC 3161 time-stamp token.</summary>
    public bool RequireTimestamp { get; set; }

    /// <summary>CRLs to keep current (base and delta), fetched by the <c>crl-refresh</c> job on their next-update cadence.</summary>
    public IList<string> CrlUrls { get; } = [];

    /// <summary>An OCSP responder asked first, before the CRLs; empty for none.</summary>
    public string? OcspUrl { get; set; }

    /// <summary>How long an OCSP request may take before the check falls back to the CRLs.</summary>
    [Range(100, 30_000)]
    public int OcspTimeoutMilliseconds { get; set; } = 2000;

    /// <summary>How long an OCSP answer without a next update is reused.</summary>
    [Range(0, 86_400)]
    public int OcspCacheSeconds { get; set; } = 300;

    /// <summary>Fetch a CRL again when less than this share of its validity (thisUpdate → nextUpdate) is left.</summary>
    [Range(0.01, 0.99)]
    public double CrlRefreshAt { get; set; } = 0.5;

    /// <summary>Alert operators when a CRL in force has less than this many hours left before its next update.</summary>
    [Range(1, 720)]
    public int CrlStaleWarningHours { get; set; } = 6;

    /// <summary>Largest CMS accepted by POST /documents, in bytes after base64 decoding.</summary>
    [Range(1024, 60_000)]
    public int MaxCmsBytes { get; set; } = 60_000;
}

/// <summary>
/// Verifies a CMS SignedData as NCA RK's tools (NCALayer, Kalkan) and <c>openssl cms -sign</c> make it: RSA,
/// ECDSA and both Kazakh GOST schemes; attached content, or detached over <c>data</c> the caller holds. In order:
/// the structure, content type <c>id-data</c>, one SignerInfo whose certificate is found in the bag by its
/// SignerIdentifier, the algorithm, the signed attributes (content type, message digest) and the signature,
/// an RFC 3161 time-stamp when present (its time then counts as the signing time), the signing time against
/// receipt, the certificate's validity, its key usage (a signing key, not an authentication key), its chain to
/// a configured root through configured CAs, and the CRLs on file. Pure apart from CPU: trust material and time
/// are handed in. Every check is recorded; the first failure is the answer.
/// </summary>
public static class SignatureVerifier
{
    public static SignatureCheck Verify(ReadOnlySpan<byte> cmsBytes, TrustMaterial trust, DateTimeOffset receivedAt, SignatureOptions options) =>
        Verify(SignedMessage.TryParse(cmsBytes), null, trust, receivedAt, options, checkRevocation: true);

    /// <summary>
    /// Verifies <paramref name="message"/> (null: it was unreadable); <paramref name="data"/> is the content of a
    /// detached signature. Revocation by the CRLs on file only when <paramref name="checkRevocation"/>; a caller
    /// that asks OCSP first does it after (<see cref="RevocationChecker"/>).
    /// </summary>
    public static SignatureCheck Verify(SignedMessage? message, byte[]? data, TrustMaterial trust, DateTimeOffset receivedAt, SignatureOptions options, bool checkRevocation)
    {
        ArgumentNullException.ThrowIfNull(trust);
        ArgumentNullException.ThrowIfNull(options);
        var run = new Run(receivedAt);
        if (!run.Check("structure", message is null ? SignatureFailures.Malformed : null))
        {
            return run.Result(null, null);
        }

        run.Check("contentType", message!.ContentType == CmsOids.Data ? null : SignatureFailures.ContentTypeInvalid, message.ContentType);
        var content = message.Content ?? data;
        if (message.Content is not null && data is not null && !message.Content.AsSpan().SequenceEqual(data))
        {
            content = null;
        }

        run.Check("content", content is null ? SignatureFailures.Detached : null, message.Detached ? "detached" : "attached");
        if (!run.Check("signerCount", message.Signers.Count switch { 0 => SignatureFailures.NoSigner, > 1 => SignatureFailures.MultipleSigners, _ => null },
            message.Signers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            return run.Result(null, null);
        }

        return VerifySigner(run, message, message.Signers[0], content, trust, receivedAt, options, checkRevocation);
    }

    /// <summary>
    /// Each SignerInfo of <paramref name="message"/> verified on its own, as support staff inspect a CMS (NCANode's
    /// way): a document accepts exactly one, but a CMS several people signed reports each.
    /// </summary>
    public static IReadOnlyList<SignatureCheck> VerifyEach(SignedMessage message, byte[]? data, TrustMaterial trust, DateTimeOffset at, SignatureOptions options)
    {
        ArgumentNullException.ThrowIfNull(message);
        var content = message.Content ?? data;
        return [.. message.Signers.Select(signer =>
        {
            var run = new Run(at);
            run.Check("structure", null);
            run.Check("contentType", message.ContentType == CmsOids.Data ? null : SignatureFailures.ContentTypeInvalid, message.ContentType);
            run.Check("content", content is null ? SignatureFailures.Detached : null, message.Detached ? "detached" : "attached");
            return VerifySigner(run, message, signer, content, trust, at, options, checkRevocation: false);
        })];
    }

    private static SignatureCheck VerifySigner(
        Run run, SignedMessage message, CmsSignerInfo signer, byte[]? content, TrustMaterial trust, DateTimeOffset receivedAt, SignatureOptions options, bool checkRevocation)
    {
        var certificate = message.Certificates.Select(raw => NcaCertificate.TryRead(raw)).FirstOrDefault(c => c is not null && c.Matches(signer));
        if (!run.Check("signerCertificate", certificate is null ? SignatureFailures.SignerCertificateMissing : null))
        {
            return run.Result(null, null);
        }

        var scheme = certificate!.Key is { } key ? SignatureAlgorithms.ForSignerInfo(key.Family, signer.DigestAlgorithm, new Org.BouncyCastle.Asn1.X509.AlgorithmIdentifier(new Org.BouncyCastle.Asn1.DerObjectIdentifier(signer.SignatureAlgorithm))) : null;
        var facts = FactsOf(certificate, signer, scheme);
        if (run.Check("algorithm", scheme is null ? SignatureFailures.UnsupportedAlgorithm : null, facts.Algorithm) && content is not null)
        {
            run.Check("signature", SignatureFailure(signer, scheme!, certificate.Key!, content), SignatureAlgorithms.DigestName(scheme!.DigestOid));
        }

        // A time-stamp over this signature value is the signing time the bank relies on; the signer's own clock is not.
        TimestampFacts? timestamp = null;
        if (signer.TimeStampToken is { } token)
        {
            timestamp = Timestamps.Verify(token, signer.Signature, trust);
            var ignored = timestamp.Failure == SignatureFailures.TimestampUntrusted && !options.RequireTimestamp;
            run.Check("timestamp", ignored ? null : timestamp.Failure,
                (ignored ? "ignored, the TSA is not trusted: " : "") + timestamp.Time?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (options.RequireTimestamp)
        {
            run.Check("timestamp", SignatureFailures.TimestampMissing);
        }

        var signedAt = timestamp is { Failure: null, Time: { } stamped } ? stamped : (DateTimeOffset?)null;
        facts = facts with { TimestampedAt = signedAt };
        var skew = TimeSpan.FromSeconds(options.ClockSkewSeconds);
        run.Check("signingTime", (signedAt ?? facts.SigningTime) is { } claimed && claimed > receivedAt + skew ? SignatureFailures.SigningTimeInvalid : null,
            facts.SigningTime?.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

        // Validity at signing and at receipt; with a time-stamp, at the time-stamp (R-38's "at the time of signing").
        var evaluatedAt = signedAt ?? receivedAt;
        var instants = signedAt is { } proven ? [proven] : facts.SigningTime is { } at ? new[] { at, receivedAt } : [receivedAt];
        run.Check("validity", ValidityFailure(certificate.NotBefore, certificate.NotAfter, instants),
            $"{certificate.NotBefore:O} .. {certificate.NotAfter:O}");
        run.Check("keyUsage", KeyUsageFailure(certificate, options));

        var chain = trust.Chain(certificate);
        if (run.Check("chain", chain.Failure, string.Join(" <- ", chain.Elements.Select(e => e.Subject).Reverse())))
        {
            run.Check("chainValidity", ValidityFailure(chain.ValidFrom, chain.ValidUntil, instants));
            if (checkRevocation)
            {
                run.Check("revocation", trust.RevocationFailure(chain, evaluatedAt, options.RequireCrl), "crl");
            }
        }

        return run.Result(facts, content) with
        {
            Certificate = certificate,
            Chain = chain.Failure is null ? chain : null,
            EvaluatedAt = evaluatedAt,
            Timestamp = timestamp,
        };
    }

    /// <summary>The signer's IIN (subject SERIALNUMBER <c>IIN…</c>) and the organisation's BIN (OU <c>BIN…</c>), as NCA RK writes them.</summary>
    public static (string? Iin, string? Bin) Identity(X500DistinguishedName subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        string? iin = null, bin = null;
        foreach (var rdn in subject.EnumerateRelativeDistinguishedNames())
        {
            if (rdn.HasMultipleElements)
            {
                continue;
            }

            var value = rdn.GetSingleElementValue();
            switch (rdn.GetSingleElementType().Value)
            {
                case "2.5.4.5" when value is { Length: 15 } && value.StartsWith("IIN", StringComparison.Ordinal) && value.AsSpan(3).IndexOfAnyExceptInRange('0', '9') < 0:
                    iin = value[3..];
                    break;
                case "2.5.4.11" when value is { Length: 15 } && value.StartsWith("BIN", StringComparison.Ordinal) && value.AsSpan(3).IndexOfAnyExceptInRange('0', '9') < 0:
                    bin = value[3..];
                    break;
            }
        }

        return (iin, bin);
    }

    /// <summary>Why the signature value does not hold over <paramref name="content"/>, or null when it does.</summary>
    internal static string? SignatureFailure(CmsSignerInfo signer, SignatureScheme scheme, VerificationKey key, byte[] content, string expectedContentType = CmsOids.Data)
    {
        var contentDigest = SignatureAlgorithms.Digest(scheme.DigestOid, content)!;
        byte[] signed;
        if (signer.SignedAttributes is { } attributes)
        {
            // With signed attributes, they must name the content type and carry the content's digest (RFC 5652 §5.3).
            if (signer.ContentTypeAttribute != expectedContentType)
            {
                return SignatureFailures.ContentTypeInvalid;
            }

            if (signer.MessageDigestAttribute is not { } stated || !CryptographicOperations.FixedTimeEquals(stated, contentDigest))
            {
                return SignatureFailures.Invalid;
            }

            signed = SignatureAlgorithms.Digest(scheme.DigestOid, attributes)!;
        }
        else
        {
            signed = contentDigest;
        }

        return key.VerifyHash(scheme, signed, signer.Signature) ? null : SignatureFailures.Invalid;
    }

    private static string? ValidityFailure(DateTimeOffset from, DateTimeOffset until, IEnumerable<DateTimeOffset> instants) =>
        instants.Any(i => i < from) ? SignatureFailures.CertificateNotYetValid
        : instants.Any(i => i > until) ? SignatureFailures.CertificateExpired
        : null;

    /// <summary>
    /// An end-entity certificate whose key usage (when stated) allows signing; with <see cref="SignatureOptions.RequireSigningKey"/>,
    /// NCA RK's signing key: nonRepudiation, and EKU emailProtection or a signing policy — never an authentication key.
    /// </summary>
    private static string? KeyUsageFailure(NcaCertificate certificate, SignatureOptions options)
    {
        if (certificate.IsCertificateAuthority
            || certificate.KeyUsage is { } usage && (usage & (X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation)) == 0)
        {
            return SignatureFailures.KeyUsage;
        }

        if (!options.RequireSigningKey)
        {
            return null;
        }

        var nonRepudiation = certificate.KeyUsage is { } bits && (bits & X509KeyUsageFlags.NonRepudiation) != 0;
        var signingPurpose = certificate.ExtendedKeyUsages.Contains(NcaOids.EmailProtection)
            || certificate.Policies.Contains(NcaOids.PolicyLegalEntitySigning) || certificate.Policies.Contains(NcaOids.PolicyIndividualSigning);
        return nonRepudiation && signingPurpose ? null : SignatureFailures.SigningKeyRequired;
    }

    private static SignatureFacts FactsOf(NcaCertificate certificate, CmsSignerInfo signer, SignatureScheme? scheme) =>
        new(certificate.Iin, certificate.Bin, certificate.Subject, certificate.Issuer, certificate.SerialNumber, certificate.Thumbprint,
            scheme?.Name ?? signer.SignatureAlgorithm, signer.SigningTime, certificate.NotAfter)
        {
            Roles = [.. certificate.Roles.Select(NcaOids.RoleName)],
        };

    /// <summary>The checks of one verification as they are made; the first failure is the verdict.</summary>
    private sealed class Run(DateTimeOffset receivedAt)
    {
        private readonly List<SignatureCheckStep> _steps = [];
        private string? _failure;

        public bool Check(string name, string? failure, string? detail = null)
        {
            _steps.Add(new SignatureCheckStep(name, failure is null, failure, detail));
            _failure ??= failure;
            return failure is null;
        }

        public SignatureCheck Result(SignatureFacts? facts, byte[]? content) =>
            new(_failure, facts, _failure is null ? content : null) { Checks = _steps, EvaluatedAt = receivedAt };
    }
}

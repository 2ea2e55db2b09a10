using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
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
    DateTimeOffset CertificateNotAfter);

/// <summary>The outcome of <see cref="SignatureVerifier.Verify"/>: facts and content when good, a failure code otherwise.</summary>
public sealed record SignatureCheck(string? Failure, SignatureFacts? Facts, byte[]? Content)
{
    public bool IsValid => Failure is null;

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

    /// <summary>Largest CMS accepted by POST /documents, in bytes after base64 decoding.</summary>
    [Range(1024, 60_000)]
    public int MaxCmsBytes { get; set; } = 60_000;
}

/// <summary>
/// Verifies a CMS SignedData (as made by <c>openssl cms -sign</c> or an NCA RK signing tool) with the
/// document inside: one signer, RSA or ECDSA with SHA-2, the signature over the content, the signer's
/// certificate valid at signing and at receipt, fit for signing, chained to a configured trust anchor
/// and not revoked by the CRL of its issuer at receipt. Pure apart from CPU: the trust material is
/// handed in, time too.
/// </summary>
public static class SignatureVerifier
{
    // Signature and key algorithms of KZ GOST 34.310-2004 (NCA RK's GOST keys) and of Russian GOST R 34.10.
    private static readonly string[] GostPrefixes = ["1.2.398.3.10.1.1", "1.2.643."];

    private static readonly HashSet<string> RsaSignatureAlgorithms = new(StringComparer.Ordinal)
    {
        "1.2.840.113549.1.1.1",  // rsaEncryption (digest named separately)
        "1.2.840.113549.1.1.11", // sha256WithRSAEncryption
        "1.2.840.113549.1.1.12", // sha384WithRSAEncryption
        "1.2.840.113549.1.1.13", // sha512WithRSAEncryption
        "1.2.840.113549.1.1.10", // RSASSA-PSS
    };

    private static readonly HashSet<string> EcdsaSignatureAlgorithms = new(StringComparer.Ordinal)
    {
        "1.2.840.10045.2.1",   // id-ecPublicKey (digest named separately)
        "1.2.840.10045.4.3.2", // ecdsa-with-SHA256
        "1.2.840.10045.4.3.3", // ecdsa-with-SHA384
        "1.2.840.10045.4.3.4", // ecdsa-with-SHA512
    };

    private static readonly HashSet<string> Sha2Digests = new(StringComparer.Ordinal)
    {
        "2.16.840.1.101.3.4.2.1", "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3",
    };

    public static SignatureCheck Verify(ReadOnlySpan<byte> cmsBytes, TrustMaterial trust, DateTimeOffset receivedAt, SignatureOptions options)
    {
        ArgumentNullException.ThrowIfNull(trust);
        ArgumentNullException.ThrowIfNull(options);
        var cms = new SignedCms();
        try
        {
            cms.Decode(cmsBytes);
        }
        catch (CryptographicException)
        {
            return SignatureCheck.Fail(SignatureFailures.Malformed);
        }

        if (cms.Detached || cms.ContentInfo.Content.Length == 0)
        {
            return SignatureCheck.Fail(SignatureFailures.Detached);
        }

        switch (cms.SignerInfos.Count)
        {
            case 0:
                return SignatureCheck.Fail(SignatureFailures.NoSigner);
            case > 1:
                return SignatureCheck.Fail(SignatureFailures.MultipleSigners);
        }

        var signer = cms.SignerInfos[0];
        if (signer.Certificate is not { } certificate)
        {
            return SignatureCheck.Fail(SignatureFailures.SignerCertificateMissing);
        }

        var facts = FactsOf(certificate, signer);
        if (!IsSupported(signer, certificate))
        {
            return SignatureCheck.Fail(SignatureFailures.UnsupportedAlgorithm, facts);
        }

        try
        {
            signer.CheckSignature(verifySignatureOnly: true);
        }
        catch (CryptographicException)
        {
            return SignatureCheck.Fail(SignatureFailures.Invalid, facts);
        }

        var skew = TimeSpan.FromSeconds(options.ClockSkewSeconds);
        if (facts.SigningTime is { } signedAt && signedAt > receivedAt + skew)
        {
            return SignatureCheck.Fail(SignatureFailures.SigningTimeInvalid, facts);
        }

        // Validity at signing (as the signer states it) and at receipt (what the bank can prove without a time-stamp).
        foreach (var instant in facts.SigningTime is { } at ? new[] { at, receivedAt } : [receivedAt])
        {
            if (instant < certificate.NotBefore.ToUniversalTime())
            {
                return SignatureCheck.Fail(SignatureFailures.CertificateNotYetValid, facts);
            }

            if (instant > certificate.NotAfter.ToUniversalTime())
            {
                return SignatureCheck.Fail(SignatureFailures.CertificateExpired, facts);
            }
        }

        if (!FitForSigning(certificate))
        {
            return SignatureCheck.Fail(SignatureFailures.KeyUsage, facts);
        }

        var chain = trust.Chain(certificate, cms.Certificates);
        if (chain.Failure is { } chainFailure)
        {
            return SignatureCheck.Fail(chainFailure, facts);
        }

        if (receivedAt < chain.ValidFrom)
        {
            return SignatureCheck.Fail(SignatureFailures.CertificateNotYetValid, facts);
        }

        if (receivedAt > chain.ValidUntil)
        {
            return SignatureCheck.Fail(SignatureFailures.CertificateExpired, facts);
        }

        if (trust.RevocationFailure(chain, receivedAt, options.RequireCrl) is { } revocation)
        {
            return SignatureCheck.Fail(revocation, facts);
        }

        return new SignatureCheck(null, facts, cms.ContentInfo.Content);
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

    private static SignatureFacts FactsOf(X509Certificate2 certificate, SignerInfo signer)
    {
        var (iin, bin) = Identity(certificate.SubjectName);
        DateTimeOffset? signingTime = null;
        foreach (var attribute in signer.SignedAttributes)
        {
            if (attribute.Oid.Value == "1.2.840.113549.1.9.5" && attribute.Values.Count == 1)
            {
                signingTime = new DateTimeOffset(new Pkcs9SigningTime(attribute.Values[0].RawData).SigningTime.ToUniversalTime(), TimeSpan.Zero);
            }
        }

        return new SignatureFacts(iin, bin, certificate.Subject, certificate.Issuer, certificate.SerialNumber, certificate.Thumbprint,
            signer.SignatureAlgorithm.FriendlyName ?? signer.SignatureAlgorithm.Value ?? "unknown",
            signingTime, new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
    }

    private static bool IsSupported(SignerInfo signer, X509Certificate2 certificate)
    {
        var signature = signer.SignatureAlgorithm.Value ?? "";
        var key = certificate.PublicKey.Oid.Value ?? "";
        if (GostPrefixes.Any(p => signature.StartsWith(p, StringComparison.Ordinal) || key.StartsWith(p, StringComparison.Ordinal)))
        {
            return false;
        }

        var family = key switch
        {
            "1.2.840.113549.1.1.1" => RsaSignatureAlgorithms,
            "1.2.840.10045.2.1" => EcdsaSignatureAlgorithms,
            _ => null,
        };
        return family is not null && family.Contains(signature) && Sha2Digests.Contains(signer.DigestAlgorithm.Value ?? "");
    }

    /// <summary>An end-entity certificate whose key usage (when stated) allows signing documents.</summary>
    private static bool FitForSigning(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            switch (extension)
            {
                case X509BasicConstraintsExtension { CertificateAuthority: true }:
                    return false;
                case X509KeyUsageExtension usage when (usage.KeyUsages & (X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation)) == 0:
                    return false;
            }
        }

        return true;
    }
}

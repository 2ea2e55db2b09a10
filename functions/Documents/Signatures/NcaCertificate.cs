using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace BusinessApi.Documents.Signatures;

/// <summary>Object identifiers of NCA RK's certificate profile (pki.gov.kz; ../shared/DOMAIN.md).</summary>
public static class NcaOids
{
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    public const string EmailProtection = "1.3.6.1.5.5.7.3.4";
    public const string TimeStamping = "1.3.6.1.5.5.7.3.8";
    public const string OcspSigning = "1.3.6.1.5.5.7.3.9";

    public const string PolicyLegalEntitySigning = "1.2.398.3.3.2.1";
    public const string PolicyLegalEntityAuthentication = "1.2.398.3.3.2.2";
    public const string PolicyIndividualSigning = "1.2.398.3.3.2.3";
    public const string PolicyIndividualAuthentication = "1.2.398.3.3.2.4";

    public const string RoleIndividual = "1.2.398.3.3.4.1.1";
    public const string RoleLegalEntityEmployee = "1.2.398.3.3.4.1.2";
    public const string RoleFirstHead = "1.2.398.3.3.4.1.2.1";
    public const string RoleRightOfSignature = "1.2.398.3.3.4.1.2.2";
    public const string RoleRightOfFinancialSignature = "1.2.398.3.3.4.1.2.3";
    public const string RoleHr = "1.2.398.3.3.4.1.2.4";
    public const string RoleEmployeeWithoutSigningRights = "1.2.398.3.3.4.1.2.5";

    /// <summary>The roles that may sign a legal entity's payment documents.</summary>
    public static readonly IReadOnlySet<string> PaymentSigningRoles = new HashSet<string>(StringComparer.Ordinal)
    {
        RoleFirstHead, RoleRightOfSignature, RoleRightOfFinancialSignature,
    };

    /// <summary>Readable names of the roles, as the verification report shows them.</summary>
    public static string RoleName(string oid) => oid switch
    {
        RoleIndividual => "individual",
        RoleLegalEntityEmployee => "legalEntityEmployee",
        RoleFirstHead => "firstHead",
        RoleRightOfSignature => "rightOfSignature",
        RoleRightOfFinancialSignature => "rightOfFinancialSignature",
        RoleHr => "hr",
        RoleEmployeeWithoutSigningRights => "employeeWithoutSigningRights",
        _ => oid,
    };

    public static string PolicyName(string oid) => oid switch
    {
        PolicyLegalEntitySigning => "legalEntitySigning",
        PolicyLegalEntityAuthentication => "legalEntityAuthentication",
        PolicyIndividualSigning => "individualSigning",
        PolicyIndividualAuthentication => "individualAuthentication",
        _ => oid,
    };
}

/// <summary>
/// A certificate as the verifier reads it: the platform's view (names, thumbprint, validity) and BouncyCastle's
/// (the to-be-signed bytes, the signature and the key, in any algorithm including GOST), with NCA RK's profile
/// read once: key usage, extended key usages (which carry the roles), policies, the IIN and BIN.
/// Immutable; made once per certificate a snapshot of trust material holds, or per signature for a signer's.
/// </summary>
public sealed class NcaCertificate
{
    private NcaCertificate(X509Certificate2 certificate, X509CertificateStructure structure)
    {
        Certificate = certificate;
        Structure = structure;
        Key = VerificationKey.From(structure.SubjectPublicKeyInfo);
        SerialNumber = Convert.ToHexString(structure.SerialNumber.Value.ToByteArrayUnsigned());
        NotBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        NotAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        (Iin, Bin) = SignatureVerifier.Identity(certificate.SubjectName);
        var usages = new HashSet<string>(StringComparer.Ordinal);
        var policies = new HashSet<string>(StringComparer.Ordinal);
        foreach (var extension in certificate.Extensions)
        {
            switch (extension)
            {
                case X509BasicConstraintsExtension constraints:
                    IsCertificateAuthority = constraints.CertificateAuthority;
                    PathLength = constraints.HasPathLengthConstraint ? constraints.PathLengthConstraint : null;
                    break;
                case X509KeyUsageExtension keyUsage:
                    KeyUsage = keyUsage.KeyUsages;
                    break;
                case X509EnhancedKeyUsageExtension enhanced:
                    foreach (var oid in enhanced.EnhancedKeyUsages)
                    {
                        usages.Add(oid.Value ?? "");
                    }

                    break;
                case X509SubjectKeyIdentifierExtension ski:
                    SubjectKeyIdentifier = ski.SubjectKeyIdentifierBytes.ToArray();
                    break;
                case X509AuthorityKeyIdentifierExtension aki:
                    AuthorityKeyIdentifier = aki.KeyIdentifier?.ToArray();
                    break;
                default:
                    if (extension.Oid?.Value == "2.5.29.32")
                    {
                        foreach (var policy in CertificatePolicies.GetInstance(Asn1Object.FromByteArray(extension.RawData)).GetPolicyInformation())
                        {
                            policies.Add(policy.PolicyIdentifier.Id);
                        }
                    }

                    break;
            }
        }

        ExtendedKeyUsages = usages;
        Policies = policies;
        Roles = [.. usages.Where(u => u.StartsWith("1.2.398.3.3.4.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
    }

    public X509Certificate2 Certificate { get; }

    public X509CertificateStructure Structure { get; }

    /// <summary>The key, or null when its algorithm is not one the verifier knows.</summary>
    public VerificationKey? Key { get; }

    public string Subject => Certificate.Subject;

    public string Issuer => Certificate.Issuer;

    /// <summary>Upper-case hex without leading zeros.</summary>
    public string SerialNumber { get; }

    public string Thumbprint => Certificate.Thumbprint;

    public DateTimeOffset NotBefore { get; }

    public DateTimeOffset NotAfter { get; }

    public string? Iin { get; }

    public string? Bin { get; }

    public bool IsCertificateAuthority { get; }

    public int? PathLength { get; }

    /// <summary>The key usage extension's bits; null when the certificate has none.</summary>
    public X509KeyUsageFlags? KeyUsage { get; }

    public IReadOnlySet<string> ExtendedKeyUsages { get; }

    public IReadOnlySet<string> Policies { get; }

    /// <summary>NCA RK role OIDs (the extended key usages under 1.2.398.3.3.4), sorted.</summary>
    public IReadOnlyList<string> Roles { get; }

    public byte[]? SubjectKeyIdentifier { get; }

    public byte[]? AuthorityKeyIdentifier { get; }

    public bool IsSelfSigned => Certificate.SubjectName.RawData.AsSpan().SequenceEqual(Certificate.IssuerName.RawData);

    /// <summary>SHA-256 of the DER, upper-case hex: the certificate's key in caches.</summary>
    public string Sha256 { get; private init; } = "";

    /// <summary>
    /// The certificate in DER, or null when it is not one (any key algorithm is read). Read once per process and
    /// kept (a signer's certificate comes with every document they sign; reading one costs far more than hashing it).
    /// </summary>
    public static NcaCertificate? TryRead(ReadOnlySpan<byte> der)
    {
        var hash = Convert.ToHexString(SHA256.HashData(der));
        if (Parsed.TryGetValue(hash, out var known))
        {
            return known;
        }

        var read = Parse(der);
        if (read is not null)
        {
            if (Parsed.Count >= MaxParsed)
            {
                Parsed.Clear();
            }

            Parsed[hash] = read;
        }

        return read;
    }

    private const int MaxParsed = 10_000;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, NcaCertificate> Parsed = new(StringComparer.Ordinal);

    private static NcaCertificate? Parse(ReadOnlySpan<byte> der)
    {
        try
        {
            var certificate = X509CertificateLoader.LoadCertificate(der);
            return new NcaCertificate(certificate, X509CertificateStructure.GetInstance(Asn1Object.FromByteArray(certificate.RawData)))
            {
                Sha256 = Convert.ToHexString(SHA256.HashData(certificate.RawData)),
            };
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException or InvalidCastException or Asn1Exception or FormatException)
        {
            return null;
        }
    }

    public static NcaCertificate From(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return TryRead(certificate.RawData) ?? throw new ArgumentException("The certificate cannot be read.", nameof(certificate));
    }

    /// <summary>True when <paramref name="issuer"/>'s key made this certificate's signature.</summary>
    public bool IsSignedBy(NcaCertificate issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        // The outer and inner algorithm must name the same algorithm; absent and NULL parameters are the same (NCA RK writes both).
        return issuer.Key is { } key
            && Structure.SignatureAlgorithm.Algorithm.Equals(Structure.TbsCertificate.Signature.Algorithm)
            && SignatureAlgorithms.VerifyStructure(key, Structure.SignatureAlgorithm, Structure.TbsCertificate.GetEncoded(Asn1Encodable.Der), Structure.Signature.GetOctets());
    }

    /// <summary>Whether this certificate is the one a SignerInfo names, by issuer and serial or by subject key identifier.</summary>
    public bool Matches(CmsSignerInfo signer)
    {
        ArgumentNullException.ThrowIfNull(signer);
        if (signer.SubjectKeyIdentifier is { } ski)
        {
            return SubjectKeyIdentifier is { } own && own.AsSpan().SequenceEqual(ski);
        }

        return signer.SerialNumber == SerialNumber && signer.IssuerName is { } issuer && issuer.AsSpan().SequenceEqual(Certificate.IssuerName.RawData);
    }
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.X509;

namespace BusinessApi.Documents.Signatures;

/// <summary>A chain from a signer's certificate to a trust anchor, and the period in which all of it is valid.</summary>
public sealed record ChainResult(string? Failure, IReadOnlyList<NcaCertificate> Elements, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil);

/// <summary>One CRL, checked against its issuer's key when loaded: which serials it revokes, since when.</summary>
public sealed record CrlInfo(string IssuerThumbprint, string Issuer, DateTimeOffset ThisUpdate, DateTimeOffset? NextUpdate, IReadOnlyDictionary<string, DateTimeOffset> Revoked, byte[] Raw)
{
    public string? Number { get; init; }

    /// <summary>A delta CRL (RFC 5280 §5.2.4): it lists what was revoked since the base numbered <see cref="BaseNumber"/>.</summary>
    public bool IsDelta => BaseNumber is not null;

    public string? BaseNumber { get; init; }

    /// <summary>Serials a delta takes off a base (reason removeFromCRL: a hold released).</summary>
    public IReadOnlySet<string> Removed { get; init; } = new HashSet<string>();

    /// <summary>
    /// True when the CRL answers for <paramref name="at"/>: not past its next update then, or issued after it (a later
    /// CRL lists everything revoked by then, which is what judging a time-stamped signature needs).
    /// </summary>
    public bool IsCurrent(DateTimeOffset at) => NextUpdate is not { } next || next >= at || ThisUpdate >= at;
}

/// <summary>What the CRLs on file say of one certificate at one instant.</summary>
public sealed record CrlAnswer(bool Revoked, DateTimeOffset? RevokedAt, bool Current, CrlInfo? Base, CrlInfo? Delta);

/// <summary>
/// The trust anchors (self-signed roots), intermediates and CRLs in force, as one immutable snapshot.
/// Chains are built here, over the configured CAs only — a certificate the CMS carries is only ever the signer's
/// own, never a CA — and every link's signature is checked with <see cref="SignatureAlgorithms"/>, so GOST
/// chains verify where the platform's <c>X509Chain</c> cannot. CRLs are read and checked the same way: per issuer
/// the newest base and the newest delta are kept together, and a certificate either lists is revoked.
/// Chains are cached per signer certificate for the life of the snapshot.
/// </summary>
public sealed class TrustMaterial
{
    private const int MaxDepth = 6;

    private readonly List<NcaCertificate> _roots = [];
    private readonly List<NcaCertificate> _intermediates = [];
    private readonly Dictionary<string, CrlInfo> _bases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CrlInfo> _deltas = new(StringComparer.Ordinal);
    // Each intermediate's verified path to a root (itself first), found once per snapshot.
    private readonly Dictionary<string, IReadOnlyList<NcaCertificate>?> _caPaths = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ChainResult> _chains = new(StringComparer.Ordinal);

    public TrustMaterial(IEnumerable<X509Certificate2> certificates, IEnumerable<byte[]> crls, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        ArgumentNullException.ThrowIfNull(crls);
        foreach (var certificate in certificates.DistinctBy(c => c.Thumbprint))
        {
            if (NcaCertificate.TryRead(certificate.RawData) is not { } ca || !ca.IsCertificateAuthority)
            {
                warn?.Invoke($"certificate {certificate.Subject} is not a CA certificate; ignored as a trust anchor");
                continue;
            }

            if (ca.Key is null)
            {
                warn?.Invoke($"certificate {certificate.Subject} has a key of an algorithm the verifier does not know; ignored");
                continue;
            }

            (ca.IsSelfSigned ? _roots : _intermediates).Add(ca);
        }

        foreach (var intermediate in _intermediates)
        {
            _caPaths[intermediate.Thumbprint] = PathToRoot(intermediate, 0);
        }

        foreach (var raw in crls)
        {
            if (TryLoadCrl(raw, out var info, out var problem))
            {
                var kept = info.IsDelta ? _deltas : _bases;
                if (!kept.TryGetValue(info.IssuerThumbprint, out var known) || known.ThisUpdate < info.ThisUpdate)
                {
                    kept[info.IssuerThumbprint] = info;
                }
            }
            else
            {
                warn?.Invoke(problem);
            }
        }
    }

    public static TrustMaterial Empty { get; } = new([], []);

    public IReadOnlyList<X509Certificate2> Roots => [.. _roots.Select(r => r.Certificate)];

    public IReadOnlyList<X509Certificate2> Intermediates => [.. _intermediates.Select(i => i.Certificate)];

    /// <summary>Every CRL in force: per issuer its newest base and, when there is one, its newest delta.</summary>
    public IReadOnlyCollection<CrlInfo> Crls => [.. _bases.Values, .. _deltas.Values];

    /// <summary>The CA certificate with this thumbprint, if configured.</summary>
    public NcaCertificate? FindCa(string thumbprint) =>
        _roots.Concat(_intermediates).FirstOrDefault(c => string.Equals(c.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase));

    /// <summary>The base and delta CRL on file for the CA <paramref name="issuerThumbprint"/>.</summary>
    public (CrlInfo? Base, CrlInfo? Delta) CrlsOf(string issuerThumbprint) =>
        (_bases.GetValueOrDefault(issuerThumbprint), _deltas.GetValueOrDefault(issuerThumbprint));

    /// <summary>Parses a CRL (PEM or DER) and finds the known CA whose key signed it; false with the reason otherwise.</summary>
    public bool TryLoadCrl(byte[] raw, out CrlInfo info, out string problem)
    {
        ArgumentNullException.ThrowIfNull(raw);
        info = null!;
        CertificateList crl;
        byte[] der;
        try
        {
            der = Pem(raw, "X509 CRL") ?? raw;
            crl = CertificateList.GetInstance(Asn1Object.FromByteArray(der));
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or Asn1Exception or FormatException)
        {
            problem = "not a CRL (PEM or DER)";
            return false;
        }

        var issuerName = crl.Issuer.GetEncoded(Asn1Encodable.Der);
        // The outer and inner algorithm must agree; absent and NULL parameters are the same (NCA RK's 2022 CRLs write both).
        var sameAlgorithm = crl.SignatureAlgorithm.Algorithm.Equals(crl.TbsCertList.Signature.Algorithm);
        var signed = crl.TbsCertList.GetEncoded(Asn1Encodable.Der);
        foreach (var ca in _roots.Concat(_intermediates).Where(c => c.Certificate.SubjectName.RawData.AsSpan().SequenceEqual(issuerName)))
        {
            if (!sameAlgorithm || !SignatureAlgorithms.VerifyStructure(ca.Key!, crl.SignatureAlgorithm, signed, crl.Signature.GetOctets()))
            {
                continue;
            }

            var revoked = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            var removed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in crl.GetRevokedCertificates())
            {
                var serial = Convert.ToHexString(entry.UserCertificate.Value.ToByteArrayUnsigned());
                if (ReasonOf(entry) == CrlReason.RemoveFromCrl)
                {
                    removed.Add(serial);
                    continue;
                }

                revoked[serial] = Utc(entry.RevocationDate.ToDateTime());
            }

            var extensions = crl.TbsCertList.Extensions;
            info = new CrlInfo(ca.Thumbprint, ca.Subject, Utc(crl.ThisUpdate.ToDateTime()), crl.NextUpdate is { } next ? Utc(next.ToDateTime()) : null, revoked, der)
            {
                Number = IntegerExtension(extensions, X509Extensions.CrlNumber),
                BaseNumber = IntegerExtension(extensions, X509Extensions.DeltaCrlIndicator),
                Removed = removed,
            };
            problem = "";
            return true;
        }

        problem = $"CRL of {new X500DistinguishedName(issuerName).Name}: no trust anchor or intermediate with that name verifies its signature";
        return false;
    }

    /// <summary>
    /// The chain of <paramref name="certificate"/> to a root through the configured CAs, ignoring time (checked by
    /// the caller against the chain's window): every link's signature, CA basic constraints, key usage and path length.
    /// </summary>
    public ChainResult Chain(NcaCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var key = certificate.Sha256;
        if (_chains.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var path = certificate.IsCertificateAuthority ? null : PathToRoot(certificate, 0);
        var result = path is null
            ? new ChainResult(SignatureFailures.Untrusted, [certificate], DateTimeOffset.MinValue, DateTimeOffset.MinValue)
            : new ChainResult(null, path, path.Max(e => e.NotBefore), path.Min(e => e.NotAfter));
        if (_chains.Count < 100_000)
        {
            _chains[key] = result;
        }

        return result;
    }

    /// <summary>What the CRLs on file say of <paramref name="subject"/>, issued by <paramref name="issuer"/>, at <paramref name="at"/>.</summary>
    public CrlAnswer CrlStatus(NcaCertificate subject, NcaCertificate issuer, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(issuer);
        var (crl, delta) = CrlsOf(issuer.Thumbprint);
        DateTimeOffset? revokedAt = null;
        if (crl is not null && crl.Revoked.TryGetValue(subject.SerialNumber, out var inBase) && !(delta?.Removed.Contains(subject.SerialNumber) ?? false))
        {
            revokedAt = inBase;
        }

        if (delta is not null && delta.Revoked.TryGetValue(subject.SerialNumber, out var inDelta) && (revokedAt is null || inDelta < revokedAt))
        {
            revokedAt = inDelta;
        }

        var current = crl is not null && crl.IsCurrent(at) && (delta is null || delta.IsCurrent(at));
        return new CrlAnswer(revokedAt is { } when && when <= at, revokedAt, current, crl, delta);
    }

    /// <summary>
    /// Why the chain is not good at <paramref name="at"/> by the CRLs alone, or null: the signer's own CA must have a
    /// current CRL when <paramref name="requireCrl"/>; CAs above it are checked when their CRL (ARL) is on file.
    /// </summary>
    public string? RevocationFailure(ChainResult chain, DateTimeOffset at, bool requireCrl)
    {
        ArgumentNullException.ThrowIfNull(chain);
        for (var i = 0; i + 1 < chain.Elements.Count; i++)
        {
            var answer = CrlStatus(chain.Elements[i], chain.Elements[i + 1], at);
            if (answer.Revoked)
            {
                return SignatureFailures.Revoked;
            }

            if (i == 0 && requireCrl && !answer.Current)
            {
                return SignatureFailures.RevocationUnknown;
            }
        }

        return null;
    }

    public static bool IsSelfSigned(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
    }

    public static bool IsCertificateAuthority(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
    }

    /// <summary>The DER inside PEM text with <paramref name="label"/>, or null when <paramref name="data"/> is not such text.</summary>
    internal static byte[]? Pem(byte[] data, string label)
    {
        if (data.Length == 0 || data[0] == 0x30)
        {
            return null;
        }

        var text = Encoding.ASCII.GetString(data);
        return PemEncoding.TryFind(text, out var fields) && text[fields.Label] == label ? Convert.FromBase64String(text[fields.Base64Data]) : null;
    }

    /// <summary>
    /// <paramref name="certificate"/> and its verified issuers up to a configured root; null when there is none.
    /// Candidates are the configured CAs with the issuer's name (and key identifier, when both state one).
    /// </summary>
    private List<NcaCertificate>? PathToRoot(NcaCertificate certificate, int depth)
    {
        if (depth > MaxDepth)
        {
            return null;
        }

        if (certificate.IsSelfSigned)
        {
            return _roots.Any(r => r.Certificate.RawData.AsSpan().SequenceEqual(certificate.Certificate.RawData)) ? [certificate] : null;
        }

        foreach (var issuer in _roots.Concat(_intermediates))
        {
            if (!issuer.Certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.Certificate.IssuerName.RawData)
                || certificate.AuthorityKeyIdentifier is { } aki && issuer.SubjectKeyIdentifier is { } ski && !aki.AsSpan().SequenceEqual(ski)
                || issuer.KeyUsage is { } usage && (usage & X509KeyUsageFlags.KeyCertSign) == 0
                || !certificate.IsSignedBy(issuer))
            {
                continue;
            }

            IReadOnlyList<NcaCertificate>? above = issuer.IsSelfSigned ? [issuer]
                : depth == 0 && _caPaths.TryGetValue(issuer.Thumbprint, out var known) ? known
                : PathToRoot(issuer, depth + 1);
            if (above is null || !WithinPathLength(above))
            {
                continue;
            }

            return [certificate, .. above];
        }

        return null;
    }

    /// <summary>Each CA's path length constraint counts the CAs below it, down to (not counting) the end entity.</summary>
    private static bool WithinPathLength(IReadOnlyList<NcaCertificate> cas)
    {
        for (var i = 0; i < cas.Count; i++)
        {
            if (cas[i].PathLength is { } limit && i > limit)
            {
                return false;
            }
        }

        return true;
    }

    private static int? ReasonOf(CrlEntry entry) =>
        entry.Extensions?.GetExtension(X509Extensions.ReasonCode) is { } extension ? DerEnumerated.GetInstance(extension.GetParsedValue()).IntValueExact : null;

    private static string? IntegerExtension(X509Extensions? extensions, DerObjectIdentifier oid) =>
        extensions?.GetExtension(oid) is { } extension ? DerInteger.GetInstance(extension.GetParsedValue()).Value.ToString() : null;

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

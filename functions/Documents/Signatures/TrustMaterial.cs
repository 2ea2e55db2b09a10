using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BcCrl = Org.BouncyCastle.X509.X509Crl;
using BcCrlParser = Org.BouncyCastle.X509.X509CrlParser;
using BcCertificateParser = Org.BouncyCastle.X509.X509CertificateParser;

namespace BusinessApi.Documents.Signatures;

/// <summary>A chain from a signer's certificate to a trust anchor, and the period in which all of it is valid.</summary>
public sealed record ChainResult(string? Failure, IReadOnlyList<X509Certificate2> Elements, DateTimeOffset ValidFrom, DateTimeOffset ValidUntil);

/// <summary>One CRL, checked against its issuer's key when loaded: which serials it revokes, since when.</summary>
public sealed record CrlInfo(string IssuerThumbprint, string Issuer, DateTimeOffset ThisUpdate, DateTimeOffset? NextUpdate, IReadOnlyDictionary<string, DateTimeOffset> Revoked, byte[] Raw)
{
    public string? Number { get; init; }
}

/// <summary>
/// The trust anchors (self-signed roots), intermediates and CRLs in force, as one immutable snapshot.
/// <c>X509Chain</c> on Linux takes no CRL files, so CRLs are parsed and their signatures checked with
/// BouncyCastle here, and looked up by the issuing CA's certificate. Chains are cached per signer
/// certificate for the life of the snapshot (building one costs far more than the signature check).
/// </summary>
public sealed class TrustMaterial
{
    private readonly X509Certificate2Collection _roots = [];
    private readonly X509Certificate2Collection _intermediates = [];
    private readonly Dictionary<string, CrlInfo> _crls = new(StringComparer.Ordinal);
    // Chains built against this snapshot of trust material, by certificate; a new snapshot starts empty, so nothing outlives a CRL change.
    private readonly ConcurrentDictionary<string, ChainResult> _chains = new(StringComparer.Ordinal);

    public TrustMaterial(IEnumerable<X509Certificate2> certificates, IEnumerable<byte[]> crls, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        ArgumentNullException.ThrowIfNull(crls);
        foreach (var certificate in certificates.DistinctBy(c => c.Thumbprint))
        {
            if (!IsCertificateAuthority(certificate))
            {
                warn?.Invoke($"certificate {certificate.Subject} is not a CA certificate; ignored as a trust anchor");
                continue;
            }

            (IsSelfSigned(certificate) ? _roots : _intermediates).Add(certificate);
        }

        foreach (var raw in crls)
        {
            if (TryLoadCrl(raw, out var info, out var problem))
            {
                if (!_crls.TryGetValue(info.IssuerThumbprint, out var known) || known.ThisUpdate < info.ThisUpdate)
                {
                    _crls[info.IssuerThumbprint] = info;
                }
            }
            else
            {
                warn?.Invoke(problem);
            }
        }
    }

    public static TrustMaterial Empty { get; } = new([], []);

    public IReadOnlyList<X509Certificate2> Roots => [.. _roots];

    public IReadOnlyList<X509Certificate2> Intermediates => [.. _intermediates];

    public IReadOnlyCollection<CrlInfo> Crls => _crls.Values;

    /// <summary>Parses a CRL and finds the known CA whose key signed it; false with the reason otherwise.</summary>
    public bool TryLoadCrl(byte[] raw, out CrlInfo info, out string problem)
    {
        ArgumentNullException.ThrowIfNull(raw);
        info = null!;
        BcCrl crl;
        try
        {
            crl = new BcCrlParser().ReadCrl(raw) ?? throw new CryptographicException("empty");
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or ArgumentException or InvalidOperationException or Org.BouncyCastle.Security.GeneralSecurityException or Org.BouncyCastle.Crypto.CryptoException or Org.BouncyCastle.Asn1.Asn1Exception)
        {
            problem = "not a CRL (PEM or DER)";
            return false;
        }

        var issuerName = new X500DistinguishedName(crl.IssuerDN.GetDerEncoded());
        foreach (var ca in _roots.Concat(_intermediates).Where(c => c.SubjectName.RawData.AsSpan().SequenceEqual(issuerName.RawData)))
        {
            try
            {
                crl.Verify(new BcCertificateParser().ReadCertificate(ca.RawData).GetPublicKey());
            }
            catch (Exception ex) when (ex is Org.BouncyCastle.Security.GeneralSecurityException or Org.BouncyCastle.Crypto.CryptoException or Org.BouncyCastle.Security.InvalidKeyException or ArgumentException)
            {
                continue;
            }

            var revoked = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            foreach (var entry in crl.GetRevokedCertificates() ?? new HashSet<Org.BouncyCastle.X509.X509CrlEntry>())
            {
                revoked[Convert.ToHexString(entry.SerialNumber.ToByteArrayUnsigned())] = new DateTimeOffset(DateTime.SpecifyKind(entry.RevocationDate, DateTimeKind.Utc));
            }

            info = new CrlInfo(ca.Thumbprint, ca.Subject,
                new DateTimeOffset(DateTime.SpecifyKind(crl.ThisUpdate, DateTimeKind.Utc)),
                crl.NextUpdate is { } next ? new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc)) : null,
                revoked, raw)
            {
                Number = crl.GetExtensionValue(Org.BouncyCastle.Asn1.X509.X509Extensions.CrlNumber) is { } number
                    ? Org.BouncyCastle.Asn1.DerInteger.GetInstance(Org.BouncyCastle.Asn1.Asn1Object.FromByteArray(number.GetOctets())).Value.ToString()
                    : null,
            };
            problem = "";
            return true;
        }

        problem = $"CRL of {issuerName.Name}: no trust anchor or intermediate with that name verifies its signature";
        return false;
    }

    /// <summary>The chain of <paramref name="certificate"/> to a root, ignoring time (checked by the caller against the chain's window).</summary>
    public ChainResult Chain(X509Certificate2 certificate, X509Certificate2Collection? supplied)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var key = Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256));
        if (_chains.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var result = BuildChain(certificate, supplied);
        if (_chains.Count < 100_000)
        {
            _chains[key] = result;
        }

        return result;
    }

    /// <summary>Why the chain is not good at <paramref name="at"/> as far as revocation goes, or null when none of it is revoked.</summary>
    public string? RevocationFailure(ChainResult chain, DateTimeOffset at, bool requireCrl)
    {
        ArgumentNullException.ThrowIfNull(chain);
        for (var i = 0; i + 1 < chain.Elements.Count; i++)
        {
            var subject = chain.Elements[i];
            var issuer = chain.Elements[i + 1];
            if (!_crls.TryGetValue(issuer.Thumbprint, out var crl))
            {
                // The signer's own CA must publish a CRL; for CA certificates above it a missing ARL is tolerated.
                if (i == 0 && requireCrl)
                {
                    return SignatureFailures.RevocationUnknown;
                }

                continue;
            }

            if (crl.Revoked.TryGetValue(SerialKey(subject), out var revokedAt) && revokedAt <= at)
            {
                return SignatureFailures.Revoked;
            }

            if (requireCrl && i == 0 && (crl.ThisUpdate > at + TimeSpan.FromMinutes(5) || crl.NextUpdate is { } next && next < at))
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

    private static string SerialKey(X509Certificate2 certificate)
    {
        var bytes = certificate.SerialNumberBytes.Span; // big-endian, may carry a sign byte
        var start = 0;
        while (start < bytes.Length - 1 && bytes[start] == 0)
        {
            start++;
        }

        return Convert.ToHexString(bytes[start..]);
    }

    private ChainResult BuildChain(X509Certificate2 certificate, X509Certificate2Collection? supplied)
    {
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(_roots);
        policy.ExtraStore.AddRange(_intermediates);
        if (supplied is not null)
        {
            policy.ExtraStore.AddRange(supplied);
        }

        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTimeIgnored = true;
        policy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreNotTimeNested;
        var built = chain.Build(certificate);
        var elements = chain.ChainElements.Select(e => X509CertificateLoader.LoadCertificate(e.Certificate.RawData)).ToList();
        var root = elements.Count > 0 ? elements[^1] : null;
        var trusted = built && root is not null && _roots.Any(r => r.RawData.AsSpan().SequenceEqual(root.RawData));
        if (!trusted || elements.Skip(1).Any(e => !IsCertificateAuthority(e)))
        {
            return new ChainResult(SignatureFailures.Untrusted, elements, DateTimeOffset.MinValue, DateTimeOffset.MinValue);
        }

        var from = elements.Max(e => new DateTimeOffset(e.NotBefore.ToUniversalTime(), TimeSpan.Zero));
        var until = elements.Min(e => new DateTimeOffset(e.NotAfter.ToUniversalTime(), TimeSpan.Zero));
        return new ChainResult(null, elements, from, until);
    }
}

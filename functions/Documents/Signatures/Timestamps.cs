using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Tsp;
using Org.BouncyCastle.Asn1.X509;

namespace BusinessApi.Documents.Signatures;

/// <summary>
/// RFC 3161 time-stamp tokens, as NCALayer adds them to a signature (unsigned attribute
/// <c>id-aa-signatureTimeStampToken</c>): a CMS SignedData over a TSTInfo, signed by a time-stamping authority.
/// The token holds when its signature verifies, the TSA's certificate is for time-stamping (EKU timeStamping)
/// and chains to a configured root, the TSA's certificate was valid at the time it states, and its message
/// imprint is the digest of the signature value it stamps. A token whose TSA does not chain to a configured
/// root is <c>timestamp_untrusted</c>: the verifier then ignores it (the signature is judged at receipt) unless a
/// time-stamp is required. A token that is broken, or over another signature, is <c>timestamp_invalid</c>. NCA RK's TSA writes SHA-1 imprints, and they are
/// accepted: forging one would take a second preimage of a signature value, which SHA-1's collisions do not give.
/// </summary>
public static class Timestamps
{
    /// <summary>What the token <paramref name="token"/> proves of <paramref name="signatureValue"/>: its time, or the failure.</summary>
    public static TimestampFacts Verify(byte[] token, byte[] signatureValue, TrustMaterial trust)
    {
        ArgumentNullException.ThrowIfNull(signatureValue);
        var (facts, imprint) = Read(token, trust);
        if (imprint is null)
        {
            return facts;
        }

        return SignatureAlgorithms.Digest(imprint.HashAlgorithm.Algorithm.Id, signatureValue) is { } expected
            && CryptographicOperations.FixedTimeEquals(expected, imprint.GetHashedMessage())
            ? facts
            : Invalid(facts.Time, facts.Authority);
    }

    /// <summary>
    /// The token's time and authority when its signature and the TSA's purpose hold (<c>timestamp_untrusted</c> when
    /// the TSA does not chain to a configured root), and the imprint it stamps (null when the token itself is bad).
    /// </summary>
    public static (TimestampFacts Facts, MessageImprint? Imprint) Read(byte[] token, TrustMaterial trust)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(trust);
        var message = SignedMessage.TryParse(token);
        if (message is not { ContentType: CmsOids.TstInfo, Content: { } content, Signers: [var signer] })
        {
            return (Invalid(null, null), null);
        }

        TstInfo info;
        try
        {
            info = TstInfo.GetInstance(Asn1Object.FromByteArray(content));
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or Asn1Exception)
        {
            return (Invalid(null, null), null);
        }

        var time = new DateTimeOffset(DateTime.SpecifyKind(info.GenTime.ToDateTime(), DateTimeKind.Utc));
        var authority = message.Certificates.Select(raw => NcaCertificate.TryRead(raw)).FirstOrDefault(c => c is not null && c.Matches(signer));
        if (authority?.Key is not { } key
            || SignatureAlgorithms.ForSignerInfo(key.Family, signer.DigestAlgorithm, new AlgorithmIdentifier(new DerObjectIdentifier(signer.SignatureAlgorithm))) is not { } scheme
            || signer.SignedAttributes is null
            || SignatureVerifier.SignatureFailure(signer, scheme, key, content, CmsOids.TstInfo) is not null)
        {
            return (Invalid(time, authority?.Subject), null);
        }

        if (!authority.ExtendedKeyUsages.Contains(NcaOids.TimeStamping))
        {
            return (Invalid(time, authority.Subject), null);
        }

        var chain = trust.Chain(authority);
        var trusted = chain.Failure is null && time >= chain.ValidFrom && time <= chain.ValidUntil;
        return (new TimestampFacts(time, authority.Subject, trusted ? null : SignatureFailures.TimestampUntrusted), info.MessageImprint);
    }

    private static TimestampFacts Invalid(DateTimeOffset? time, string? authority) => new(time, authority, SignatureFailures.TimestampInvalid);
}

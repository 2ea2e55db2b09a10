using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

#pragma warning disable CA5350 // OCSP's CertID and ResponderID key hash are SHA-1 by protocol (RFC 6960 §4.1.1, §4.2.1): they identify, they sign nothing

namespace BusinessApi.Documents.Signatures;

/// <summary>What an OCSP responder said of one certificate, checked: good, revoked (since when) or unknown.</summary>
public sealed record OcspAnswer(string Status, DateTimeOffset? RevokedAt, DateTimeOffset ThisUpdate, DateTimeOffset? NextUpdate, DateTimeOffset ProducedAt, string Responder)
{
    public const string Good = "good";
    public const string Revoked = "revoked";
    public const string Unknown = "unknown";
}

/// <summary>
/// OCSP (RFC 6960) requests and responses, built and read on BouncyCastle's ASN.1 layer so GOST responders verify.
/// A response counts only when it is successful and basic, signed by the certificate's issuer or by a responder
/// the issuer authorised (a certificate it issued with EKU OCSPSigning, valid now), carries the request's nonce,
/// answers for exactly the certificate asked (issuer name and key hashes, serial), and is current.
/// </summary>
public static class Ocsp
{
    private static readonly DerObjectIdentifier NonceOid = OcspObjectIdentifiers.PkixOcspNonce;

    /// <summary>A DER OCSP request for the certificate <paramref name="serialNumber"/> (hex) of <paramref name="issuer"/>, with <paramref name="nonce"/>.</summary>
    public static byte[] Request(string serialNumber, NcaCertificate issuer, byte[] nonce)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var request = new Request(CertId(serialNumber, issuer), null);
        var extensions = new X509Extensions(new Dictionary<DerObjectIdentifier, X509Extension>
        {
            [NonceOid] = new X509Extension(false, new DerOctetString(new DerOctetString(nonce).GetEncoded(Asn1Encodable.Der))),
        });
        return new OcspRequest(new TbsRequest(null, new DerSequence(request), extensions), null).GetEncoded(Asn1Encodable.Der);
    }

    /// <summary>The checked answer in <paramref name="response"/>, or null and why it does not count.</summary>
    public static (OcspAnswer? Answer, string? Problem) Read(
        byte[] response, string serialNumber, NcaCertificate issuer, byte[]? nonce, DateTimeOffset now, TimeSpan skew)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(issuer);
        BasicOcspResponse basic;
        try
        {
            var outer = OcspResponse.GetInstance(Asn1Object.FromByteArray(response));
            if (outer.ResponseStatus.IntValueExact != OcspResponseStatus.Successful || outer.ResponseBytes is null)
            {
                return (null, "responder status " + outer.ResponseStatus.IntValueExact);
            }

            if (!outer.ResponseBytes.ResponseType.Equals(OcspObjectIdentifiers.PkixOcspBasic))
            {
                return (null, "not a basic OCSP response");
            }

            basic = BasicOcspResponse.GetInstance(Asn1Object.FromByteArray(outer.ResponseBytes.Response.GetOctets()));
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or Asn1Exception or FormatException)
        {
            return (null, "malformed response");
        }

        var data = basic.TbsResponseData;
        var signed = data.GetEncoded(Asn1Encodable.Der);
        var responder = Responder(basic, issuer, now);
        if (responder is null)
        {
            return (null, "responder not authorised by the issuer");
        }

        if (!SignatureAlgorithms.VerifyStructure(responder.Key!, basic.SignatureAlgorithm, signed, basic.Signature.GetOctets()))
        {
            return (null, "response signature invalid");
        }

        if (nonce is not null)
        {
            var echoed = data.ResponseExtensions?.GetExtension(NonceOid)?.Value.GetOctets();
            var value = echoed is null ? null : NonceValue(echoed);
            if (value is null || !CryptographicOperations.FixedTimeEquals(value, nonce))
            {
                return (null, "nonce missing or different");
            }
        }

        var expected = CertId(serialNumber, issuer);
        foreach (var entry in data.Responses)
        {
            var single = SingleResponse.GetInstance(entry);
            if (!SameCertificate(single.CertId, expected, issuer))
            {
                continue;
            }

            var thisUpdate = Utc(single.ThisUpdate.ToDateTime());
            DateTimeOffset? nextUpdate = single.NextUpdate is { } next ? Utc(next.ToDateTime()) : null;
            if (thisUpdate > now + skew || nextUpdate is { } until && until < now)
            {
                return (null, "response not current");
            }

            var (status, revokedAt) = single.CertStatus.TagNo switch
            {
                0 => (OcspAnswer.Good, (DateTimeOffset?)null),
                1 => (OcspAnswer.Revoked, Utc(RevokedInfo.GetInstance(single.CertStatus.Status).RevocationTime.ToDateTime())),
                _ => (OcspAnswer.Unknown, null),
            };
            return (new OcspAnswer(status, revokedAt, thisUpdate, nextUpdate, Utc(data.ProducedAt.ToDateTime()), responder.Subject), null);
        }

        return (null, "no answer for the certificate asked");
    }

    /// <summary>The CertID of RFC 6960 §4.1.1 with SHA-1, which every responder (NCA RK's included) accepts.</summary>
    private static CertID CertId(string serialNumber, NcaCertificate issuer) => new(
        new AlgorithmIdentifier(new DerObjectIdentifier(SignatureAlgorithms.Sha1), DerNull.Instance),
        new DerOctetString(SHA1.HashData(issuer.Certificate.SubjectName.RawData)),
        new DerOctetString(SHA1.HashData(issuer.Structure.SubjectPublicKeyInfo.PublicKey.GetOctets())),
        new DerInteger(new BcBigInteger(1, Convert.FromHexString(serialNumber.Length % 2 == 0 ? serialNumber : "0" + serialNumber))));

    private static bool SameCertificate(CertID answered, CertID asked, NcaCertificate issuer)
    {
        if (!answered.SerialNumber.Value.Equals(asked.SerialNumber.Value))
        {
            return false;
        }

        // A responder may answer with another hash than asked; recompute with the one it used.
        var digest = answered.HashAlgorithm.Algorithm.Id;
        var nameHash = SignatureAlgorithms.Digest(digest, issuer.Certificate.SubjectName.RawData);
        var keyHash = SignatureAlgorithms.Digest(digest, issuer.Structure.SubjectPublicKeyInfo.PublicKey.GetOctets());
        return nameHash is not null && keyHash is not null
            && nameHash.AsSpan().SequenceEqual(answered.IssuerNameHash.GetOctets())
            && keyHash.AsSpan().SequenceEqual(answered.IssuerKeyHash.GetOctets());
    }

    /// <summary>The issuer itself when its key signed, else a certificate in the response the issuer delegated OCSP signing to.</summary>
    private static NcaCertificate? Responder(BasicOcspResponse basic, NcaCertificate issuer, DateTimeOffset now)
    {
        var id = basic.TbsResponseData.ResponderID;
        if (Names(id, issuer))
        {
            return issuer;
        }

        foreach (var entry in basic.Certs ?? new DerSequence())
        {
            var candidate = NcaCertificate.TryRead(entry.ToAsn1Object().GetEncoded(Asn1Encodable.Der));
            if (candidate?.Key is not null && Names(id, candidate)
                && candidate.ExtendedKeyUsages.Contains(NcaOids.OcspSigning)
                && candidate.Certificate.IssuerName.RawData.AsSpan().SequenceEqual(issuer.Certificate.SubjectName.RawData)
                && candidate.IsSignedBy(issuer)
                && now >= candidate.NotBefore && now <= candidate.NotAfter)
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool Names(ResponderID id, NcaCertificate certificate)
    {
        if (id.Name is { } name)
        {
            return name.GetEncoded(Asn1Encodable.Der).AsSpan().SequenceEqual(certificate.Certificate.SubjectName.RawData);
        }

        var keyHash = id.GetKeyHash();
        return keyHash is not null && SHA1.HashData(certificate.Structure.SubjectPublicKeyInfo.PublicKey.GetOctets()).AsSpan().SequenceEqual(keyHash);
    }

    private static byte[]? NonceValue(byte[] extensionValue)
    {
        try
        {
            return Asn1OctetString.GetInstance(Asn1Object.FromByteArray(extensionValue)).GetOctets();
        }
        catch (Exception ex) when (ex is IOException or ArgumentException)
        {
            return extensionValue; // some responders echo the nonce bare
        }
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}

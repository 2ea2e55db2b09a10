using System.Text;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using BcAttribute = Org.BouncyCastle.Asn1.Cms.Attribute;

namespace BusinessApi.Documents.Signatures;

/// <summary>Well-known object identifiers of CMS (RFC 5652), its attributes and RFC 3161.</summary>
public static class CmsOids
{
    public const string Data = "1.2.840.113549.1.7.1";
    public const string SignedData = "1.2.840.113549.1.7.2";
    public const string ContentType = "1.2.840.113549.1.9.3";
    public const string MessageDigest = "1.2.840.113549.1.9.4";
    public const string SigningTime = "1.2.840.113549.1.9.5";
    public const string TimeStampToken = "1.2.840.113549.1.9.16.2.14";
    public const string TstInfo = "1.2.840.113549.1.9.16.1.4";
}

/// <summary>
/// One SignerInfo as it stands in the CMS: who it names (issuer and serial, or subject key identifier), the
/// algorithms it claims, the signature value, and the signed attributes the checks need. Nothing is verified here.
/// </summary>
public sealed record CmsSignerInfo(
    byte[]? IssuerName,
    string? SerialNumber,
    byte[]? SubjectKeyIdentifier,
    string DigestAlgorithm,
    string SignatureAlgorithm,
    byte[] Signature,
    byte[]? SignedAttributes,
    string? ContentTypeAttribute,
    byte[]? MessageDigestAttribute,
    DateTimeOffset? SigningTime,
    byte[]? TimeStampToken);

/// <summary>
/// A CMS SignedData (RFC 5652) read with BouncyCastle's ASN.1 layer, so that any algorithm can be named in it
/// (the platform's <c>SignedCms</c> knows no Kazakh GOST): the encapsulated content and its type, the
/// certificate bag as DER, and each SignerInfo. DER and BER are read; so is base64 text, as some NCA RK tools
/// write it. A structure that is not a SignedData, or carries bytes after it, is refused.
/// </summary>
public sealed record SignedMessage(string ContentType, byte[]? Content, IReadOnlyList<byte[]> Certificates, IReadOnlyList<CmsSignerInfo> Signers)
{
    public bool Detached => Content is null;

    /// <summary>The parsed message, or null when <paramref name="bytes"/> are not a well-formed CMS SignedData.</summary>
    public static SignedMessage? TryParse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return null;
        }

        var der = bytes[0] == 0x30 ? bytes.ToArray() : FromBase64Text(bytes);
        if (der is null)
        {
            return null;
        }

        try
        {
            using var input = new Asn1InputStream(der);
            var root = input.ReadObject();
            if (root is null || input.ReadObject() is not null)
            {
                return null;
            }

            var info = ContentInfo.GetInstance(root);
            if (info.ContentType.Id != CmsOids.SignedData)
            {
                return null;
            }

            var signed = SignedData.GetInstance(info.Content);
            var encapsulated = signed.EncapContentInfo;
            byte[]? content = encapsulated.Content is null ? null : Asn1OctetString.GetInstance(encapsulated.Content).GetOctets();
            var certificates = new List<byte[]>();
            foreach (var entry in signed.Certificates ?? new DerSet())
            {
                // Only X.509 certificates (a bare SEQUENCE); attribute and other certificate choices are tagged and skipped.
                if (entry.ToAsn1Object() is Asn1Sequence sequence)
                {
                    certificates.Add(sequence.GetEncoded(Asn1Encodable.Der));
                }
            }

            var signers = new List<CmsSignerInfo>();
            foreach (var entry in signed.SignerInfos)
            {
                signers.Add(ReadSigner(SignerInfo.GetInstance(entry)));
            }

            return new SignedMessage(encapsulated.ContentType.Id, content, certificates, signers);
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or InvalidOperationException or Asn1Exception or FormatException)
        {
            return null;
        }
    }

    private static CmsSignerInfo ReadSigner(SignerInfo signer)
    {
        byte[]? issuer = null, keyIdentifier = null;
        string? serial = null;
        if (signer.SignerID.ID is Asn1OctetString ski)
        {
            keyIdentifier = ski.GetOctets();
        }
        else
        {
            var issuerAndSerial = IssuerAndSerialNumber.GetInstance(signer.SignerID.ID);
            issuer = issuerAndSerial.Issuer.GetEncoded(Asn1Encodable.Der);
            serial = Convert.ToHexString(issuerAndSerial.SerialNumber.Value.ToByteArrayUnsigned());
        }

        byte[]? attributes = null, messageDigest = null;
        string? contentType = null;
        DateTimeOffset? signingTime = null;
        if (signer.SignedAttrs is { } signedAttributes)
        {
            // The signature covers the attributes' DER with the SET OF tag (RFC 5652 §5.4), not the [0] IMPLICIT form.
            attributes = new DerSet(signedAttributes.ToArray()).GetEncoded(Asn1Encodable.Der);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in signedAttributes)
            {
                var attribute = BcAttribute.GetInstance(entry);
                var type = attribute.AttrType.Id;
                if (!seen.Add(type) && type is CmsOids.ContentType or CmsOids.MessageDigest or CmsOids.SigningTime)
                {
                    throw new FormatException("a signed attribute that must be single is repeated");
                }

                if (attribute.AttrValues.Count != 1 && type is CmsOids.ContentType or CmsOids.MessageDigest or CmsOids.SigningTime)
                {
                    throw new FormatException("a signed attribute that must have one value has several");
                }

                switch (type)
                {
                    case CmsOids.ContentType:
                        contentType = DerObjectIdentifier.GetInstance(attribute.AttrValues[0]).Id;
                        break;
                    case CmsOids.MessageDigest:
                        messageDigest = Asn1OctetString.GetInstance(attribute.AttrValues[0]).GetOctets();
                        break;
                    case CmsOids.SigningTime:
                        signingTime = new DateTimeOffset(DateTime.SpecifyKind(Org.BouncyCastle.Asn1.Cms.Time.GetInstance(attribute.AttrValues[0]).ToDateTime(), DateTimeKind.Utc));
                        break;
                }
            }
        }

        byte[]? token = null;
        if (signer.UnsignedAttrs is { } unsigned)
        {
            foreach (var entry in unsigned)
            {
                var attribute = BcAttribute.GetInstance(entry);
                if (attribute.AttrType.Id == CmsOids.TimeStampToken && attribute.AttrValues.Count >= 1)
                {
                    token ??= attribute.AttrValues[0].ToAsn1Object().GetEncoded(Asn1Encodable.Der);
                }
            }
        }

        return new CmsSignerInfo(issuer, serial, keyIdentifier, signer.DigestAlgorithm.Algorithm.Id, signer.SignatureAlgorithm.Algorithm.Id,
            signer.Signature.GetOctets(), attributes, contentType, messageDigest, signingTime, token);
    }

    internal static byte[]? FromBase64Text(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.ASCII.GetString(bytes);
        var begin = text.IndexOf("-----BEGIN", StringComparison.Ordinal);
        if (begin >= 0)
        {
            var bodyStart = text.IndexOf('\n', begin);
            var end = text.IndexOf("-----END", StringComparison.Ordinal);
            if (bodyStart < 0 || end < bodyStart)
            {
                return null;
            }

            text = text[bodyStart..end];
        }

        var compact = new string([.. text.Where(c => !char.IsWhiteSpace(c))]);
        var buffer = new byte[(compact.Length / 4 * 3) + 3];
        return Convert.TryFromBase64String(compact, buffer, out var length) && length > 0 && buffer[0] == 0x30 ? buffer[..length] : null;
    }
}

/// <summary>
/// One CMS SignedData out of several made over the same content by different people: the content attached, the union
/// of digest algorithms and certificates, and every SignerInfo as it was signed (signature values and signed
/// attributes unchanged, so each verifies as before). What the archive returns for a document several people signed;
/// each CMS as received is archived beside it.
/// </summary>
public static class CmsMerge
{
    public static byte[] Merge(byte[] content, IReadOnlyList<byte[]> messages)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(messages);
        var digests = new Dictionary<string, Asn1Encodable>(StringComparer.Ordinal);
        var certificates = new Dictionary<string, Asn1Encodable>(StringComparer.Ordinal);
        var signers = new Asn1EncodableVector();
        foreach (var message in messages)
        {
            var der = message.Length > 0 && message[0] == 0x30 ? message : SignedMessage.FromBase64Text(message)
                ?? throw new FormatException("A stored signature is not a CMS.");
            var signed = SignedData.GetInstance(ContentInfo.GetInstance(Asn1Object.FromByteArray(der)).Content);
            foreach (var digest in signed.DigestAlgorithms)
            {
                digests.TryAdd(Convert.ToHexString(digest.GetEncoded(Asn1Encodable.Der)), digest);
            }

            foreach (var certificate in signed.Certificates ?? new DerSet())
            {
                certificates.TryAdd(Convert.ToHexString(certificate.GetEncoded(Asn1Encodable.Der)), certificate);
            }

            foreach (var signer in signed.SignerInfos)
            {
                signers.Add(signer);
            }
        }

        var merged = new SignedData(
            new DerSet(digests.Values.ToArray()),
            new ContentInfo(new DerObjectIdentifier(CmsOids.Data), new DerOctetString(content)),
            new DerSet(certificates.Values.ToArray()),
            null,
            new DerSet(signers));
        return new ContentInfo(new DerObjectIdentifier(CmsOids.SignedData), merged).GetEncoded(Asn1Encodable.Der);
    }
}

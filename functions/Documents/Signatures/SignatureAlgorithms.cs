using System.Security.Cryptography;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;

namespace BusinessApi.Documents.Signatures;

/// <summary>The key families the verifier knows.</summary>
public enum KeyFamily
{
    Rsa,
    Ecdsa,
    /// <summary>GOST 34.310-2004 (NCA RK): GOST R 34.10-2001 on the CryptoPro-A curve, GOST 34.311-95 hash.</summary>
    Gost2004,
    /// <summary>GOST 34.310-2015 with 512-bit keys (NCA RK): GOST R 34.10-2012-512, TC26 paramSetA, Streebog-512.</summary>
    Gost2015,
}

/// <summary>A signature algorithm as the verifier applies it: the key family, the digest and (RSA) the padding.</summary>
public sealed record SignatureScheme(KeyFamily Family, string DigestOid, string Name, bool Pss = false);

/// <summary>A public key read from a SubjectPublicKeyInfo, ready to verify with (immutable, safe to share).</summary>
public sealed class VerificationKey
{
    private static readonly int Pooled = Math.Min(8, Environment.ProcessorCount);

    private readonly byte[] _spki;
    private readonly ECPublicKeyParameters? _gost;
    // Imported platform keys, reused: importing costs several times the verification. An instance is used by one
    // thread at a time (taken from the bag, put back after).
    private readonly System.Collections.Concurrent.ConcurrentBag<AsymmetricAlgorithm> _platformKeys = [];

    private VerificationKey(KeyFamily family, byte[] spki, ECPublicKeyParameters? gost) => (Family, _spki, _gost) = (family, spki, gost);

    public KeyFamily Family { get; }

    /// <summary>The key of a SubjectPublicKeyInfo, or null when its algorithm is unknown or the key is unreadable.</summary>
    public static VerificationKey? From(SubjectPublicKeyInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        try
        {
            var spki = info.GetEncoded(Asn1Encodable.Der);
            return info.Algorithm.Algorithm.Id switch
            {
                SignatureAlgorithms.RsaKey => new VerificationKey(KeyFamily.Rsa, spki, null),
                SignatureAlgorithms.EcKey => new VerificationKey(KeyFamily.Ecdsa, spki, null),
                SignatureAlgorithms.Gost2004Key => new VerificationKey(KeyFamily.Gost2004, spki, GostKey(info, SignatureAlgorithms.Gost2004Curve)),
                SignatureAlgorithms.Gost2015Key => new VerificationKey(KeyFamily.Gost2015, spki, GostKey(info, SignatureAlgorithms.Gost2015Curve)),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IOException or Asn1Exception or FormatException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary>True when <paramref name="signature"/> is this key's signature of <paramref name="hash"/> under <paramref name="scheme"/>.</summary>
    public bool VerifyHash(SignatureScheme scheme, byte[] hash, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(hash);
        if (scheme.Family != Family)
        {
            return false;
        }

        try
        {
            switch (Family)
            {
                case KeyFamily.Rsa or KeyFamily.Ecdsa:
                {
                    var key = Rent();
                    try
                    {
                        return key is RSA rsa
                            ? rsa.VerifyHash(hash, signature, SignatureAlgorithms.HashName(scheme.DigestOid), scheme.Pss ? RSASignaturePadding.Pss : RSASignaturePadding.Pkcs1)
                            : ((ECDsa)key).VerifyHash(hash, signature, DSASignatureFormat.Rfc3279DerSequence);
                    }
                    finally
                    {
                        Return(key);
                    }
                }

                default:
                {
                    // r || s, each half little-endian (NCA RK's byte order); BouncyCastle's signer takes the digest as it is.
                    if (signature.Length is not (64 or 128) || signature.Length != _gost!.Parameters.N.BitLength / 4)
                    {
                        return false;
                    }

                    var half = signature.Length / 2;
                    var signer = new ECGost3410Signer();
                    signer.Init(false, _gost);
                    return signer.VerifySignature(hash, LittleEndian(signature[..half]), LittleEndian(signature[half..]));
                }
            }
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private AsymmetricAlgorithm Rent()
    {
        if (_platformKeys.TryTake(out var key))
        {
            return key;
        }

        AsymmetricAlgorithm created = Family == KeyFamily.Rsa ? RSA.Create() : ECDsa.Create();
        created.ImportSubjectPublicKeyInfo(_spki, out _);
        return created;
    }

    private void Return(AsymmetricAlgorithm key)
    {
        if (_platformKeys.Count < Pooled)
        {
            _platformKeys.Add(key);
        }
        else
        {
            key.Dispose();
        }
    }

    private static ECPublicKeyParameters GostKey(SubjectPublicKeyInfo info, string curve)
    {
        // The BIT STRING holds an OCTET STRING with X || Y, each half little-endian; some encoders put the bytes bare.
        var bits = info.PublicKey.GetOctets();
        byte[] point;
        try
        {
            point = Asn1OctetString.GetInstance(Asn1Object.FromByteArray(bits)).GetOctets();
        }
        catch (Exception ex) when (ex is IOException or ArgumentException)
        {
            point = bits;
        }

        var x9 = Org.BouncyCastle.Asn1.X9.ECNamedCurveTable.GetByName(curve) ?? throw new InvalidOperationException($"BouncyCastle has no curve {curve}.");
        var domain = new ECDomainParameters(x9);
        if (point.Length != (domain.Curve.FieldSize + 7) / 8 * 2)
        {
            throw new FormatException("a GOST public key of the wrong length");
        }

        var half = point.Length / 2;
        var q = domain.Curve.ValidatePoint(LittleEndian(point.AsSpan(0, half)), LittleEndian(point.AsSpan(half)));
        return new ECPublicKeyParameters(q, domain);
    }

    private static BcBigInteger LittleEndian(ReadOnlySpan<byte> bytes)
    {
        var reversed = bytes.ToArray();
        Array.Reverse(reversed);
        return new BcBigInteger(1, reversed);
    }
}

/// <summary>
/// The algorithms of NCA RK certificates and of the other signatures the bank accepts, by object identifier
/// (../shared/DOMAIN.md): RSA (PKCS #1 v1.5 and PSS) and ECDSA with SHA-2, and the two Kazakh GOST schemes.
/// SHA-1 and anything else is refused. Digests of GOST are BouncyCastle's; the rest are the platform's.
/// </summary>
public static class SignatureAlgorithms
{
    public const string RsaKey = "1.2.840.113549.1.1.1";
    public const string RsaPss = "1.2.840.113549.1.1.10";
    public const string EcKey = "1.2.840.10045.2.1";
    public const string Gost2004Key = "1.2.398.3.10.1.1.1.1";
    public const string Gost2004Signature = "1.2.398.3.10.1.1.1.2";
    public const string Gost2004Digest = "1.2.398.3.10.1.3.1";
    public const string Gost2015Key = "1.2.398.3.10.1.1.2.2";
    public const string Gost2015Signature = "1.2.398.3.10.1.1.2.3.2";
    public const string Gost2015Digest = "1.2.398.3.10.1.3.3";
    public const string Sha256 = "2.16.840.1.101.3.4.2.1";
    public const string Sha384 = "2.16.840.1.101.3.4.2.2";
    public const string Sha512 = "2.16.840.1.101.3.4.2.3";
    public const string Sha1 = "1.3.14.3.2.26";

    internal const string Gost2004Curve = "GostR3410-2001-CryptoPro-A";
    internal const string Gost2015Curve = "Tc26-Gost-3410-12-512-paramSetA";

    private static readonly byte[] DTestSBox = Gost28147Engine.GetSBox("D-Test");

    private static readonly Dictionary<string, SignatureScheme> BySignatureOid = new(StringComparer.Ordinal)
    {
        ["1.2.840.113549.1.1.11"] = new(KeyFamily.Rsa, Sha256, "sha256WithRSAEncryption"),
        ["1.2.840.113549.1.1.12"] = new(KeyFamily.Rsa, Sha384, "sha384WithRSAEncryption"),
        ["1.2.840.113549.1.1.13"] = new(KeyFamily.Rsa, Sha512, "sha512WithRSAEncryption"),
        ["1.2.840.10045.4.3.2"] = new(KeyFamily.Ecdsa, Sha256, "ecdsa-with-SHA256"),
        ["1.2.840.10045.4.3.3"] = new(KeyFamily.Ecdsa, Sha384, "ecdsa-with-SHA384"),
        ["1.2.840.10045.4.3.4"] = new(KeyFamily.Ecdsa, Sha512, "ecdsa-with-SHA512"),
        [Gost2004Signature] = new(KeyFamily.Gost2004, Gost2004Digest, "GOST 34.310-2004"),
        [Gost2015Signature] = new(KeyFamily.Gost2015, Gost2015Digest, "GOST 34.310-2015-512"),
    };

    /// <summary>The scheme of a certificate's, CRL's or OCSP response's signature algorithm (the digest is implied); null when refused.</summary>
    public static SignatureScheme? ForSignature(AlgorithmIdentifier algorithm)
    {
        ArgumentNullException.ThrowIfNull(algorithm);
        var oid = algorithm.Algorithm.Id;
        if (oid == RsaPss)
        {
            var parameters = RsassaPssParameters.GetInstance(algorithm.Parameters);
            var digest = parameters.HashAlgorithm.Algorithm.Id;
            // The platform's PSS check takes the salt as long as the hash, as every current signer makes it.
            return digest is Sha256 or Sha384 or Sha512 && MgfDigest(parameters) == digest
                && parameters.SaltLength.IntValueExact == HashName(digest) switch { var n when n == HashAlgorithmName.SHA256 => 32, var n when n == HashAlgorithmName.SHA384 => 48, _ => 64 }
                ? new SignatureScheme(KeyFamily.Rsa, digest, "RSASSA-PSS", Pss: true)
                : null;
        }

        return BySignatureOid.GetValueOrDefault(oid);
    }

    /// <summary>
    /// The scheme of a CMS SignerInfo: the digest is named apart, and the signature algorithm may be the key's
    /// algorithm (rsaEncryption, id-ecPublicKey, and the GOST key OIDs some Kalkan builds write there).
    /// </summary>
    public static SignatureScheme? ForSignerInfo(KeyFamily key, string digestOid, AlgorithmIdentifier signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var oid = signature.Algorithm.Id;
        var scheme = oid switch
        {
            RsaKey when digestOid is Sha256 or Sha384 or Sha512 => new SignatureScheme(KeyFamily.Rsa, digestOid, "RSA with " + DigestName(digestOid)),
            EcKey when digestOid is Sha256 or Sha384 or Sha512 => new SignatureScheme(KeyFamily.Ecdsa, digestOid, "ECDSA with " + DigestName(digestOid)),
            Gost2004Key => BySignatureOid[Gost2004Signature],
            Gost2015Key => BySignatureOid[Gost2015Signature],
            _ => ForSignature(signature),
        };
        return scheme is not null && scheme.Family == key && scheme.DigestOid == digestOid ? scheme : null;
    }

    /// <summary>The digest of <paramref name="data"/> by the algorithm <paramref name="digestOid"/>; null when refused.</summary>
    public static byte[]? Digest(string digestOid, ReadOnlySpan<byte> data) => digestOid switch
    {
        Sha256 => SHA256.HashData(data),
        Sha384 => SHA384.HashData(data),
        Sha512 => SHA512.HashData(data),
        Gost2004Digest => Bc(new Gost3411Digest(DTestSBox), data),
        Gost2015Digest => Bc(new Gost3411_2012_512Digest(), data),
#pragma warning disable CA5350 // SHA-1 only where a protocol names it to identify (OCSP CertID, NCA RK's time-stamp imprints), never for a signature: no scheme has it
        Sha1 => SHA1.HashData(data),
#pragma warning restore CA5350
        _ => null,
    };

    public static string DigestName(string digestOid) => digestOid switch
    {
        Sha256 => "SHA-256",
        Sha384 => "SHA-384",
        Sha512 => "SHA-512",
        Gost2004Digest => "GOST 34.311-95",
        Gost2015Digest => "GOST 34.311-2015-512 (Streebog)",
        Sha1 => "SHA-1",
        _ => digestOid,
    };

    internal static HashAlgorithmName HashName(string digestOid) => digestOid switch
    {
        Sha256 => HashAlgorithmName.SHA256,
        Sha384 => HashAlgorithmName.SHA384,
        Sha512 => HashAlgorithmName.SHA512,
        _ => throw new ArgumentOutOfRangeException(nameof(digestOid), digestOid, "not an RSA or ECDSA digest"),
    };

    /// <summary>Verifies a signed structure (certificate, CRL, OCSP response): the signature over <paramref name="toBeSigned"/> by <paramref name="key"/>.</summary>
    public static bool VerifyStructure(VerificationKey key, AlgorithmIdentifier algorithm, ReadOnlySpan<byte> toBeSigned, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(algorithm);
        SignatureScheme? scheme;
        try
        {
            scheme = ForSignature(algorithm);
        }
        catch (ArgumentException)
        {
            return false;
        }

        return scheme is not null && Digest(scheme.DigestOid, toBeSigned) is { } hash && key.VerifyHash(scheme, hash, signature);
    }

    private static string? MgfDigest(RsassaPssParameters parameters) =>
        parameters.MaskGenAlgorithm.Algorithm.Id == "1.2.840.113549.1.1.8"
            ? AlgorithmIdentifier.GetInstance(parameters.MaskGenAlgorithm.Parameters).Algorithm.Id
            : null;

    private static byte[] Bc(IDigest digest, ReadOnlySpan<byte> data)
    {
        digest.BlockUpdate(data);
        var result = new byte[digest.GetDigestSize()];
        digest.DoFinal(result, 0);
        return result;
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.Tsp;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;
using BcAttribute = Org.BouncyCastle.Asn1.Cms.Attribute;
using X509Extension = Org.BouncyCastle.Asn1.X509.X509Extension;
using Time = Org.BouncyCastle.Asn1.X509.Time;
using BcBigInteger = Org.BouncyCastle.Math.BigInteger;
using BcContentInfo = Org.BouncyCastle.Asn1.Cms.ContentInfo;
using BcSignerInfo = Org.BouncyCastle.Asn1.Cms.SignerInfo;

namespace BusinessApi.Tests.Documents;

/// <summary>A private key of any family the tests sign with, and how its signatures are written.</summary>
public interface ITestKey
{
    SubjectPublicKeyInfo PublicKey { get; }

    string DigestOid { get; }

    string SignatureOid { get; }

    byte[] SignHash(byte[] hash);
}

/// <summary>
/// A GOST key as NCA RK's tools hold it: GOST 34.310-2004 (GOST R 34.10-2001, CryptoPro-A, GOST 34.311-95 with
/// the D-Test S-box) or GOST 34.310-2015-512 (TC26 paramSetA, Streebog-512); public key and signature halves
/// little-endian. Written from ../shared/DOMAIN.md with BouncyCastle, not from the verifier.
/// </summary>
public sealed class GostKey : ITestKey
{
    private readonly ECPrivateKeyParameters _private;

    public GostKey(bool gost2015 = true)
    {
        Gost2015 = gost2015;
        var curve = gost2015 ? "Tc26-Gost-3410-12-512-paramSetA" : "GostR3410-2001-CryptoPro-A";
        var domain = new ECDomainParameters(Org.BouncyCastle.Asn1.X9.ECNamedCurveTable.GetByName(curve));
        var generator = new ECKeyPairGenerator();
        generator.Init(new ECKeyGenerationParameters(domain, new SecureRandom()));
        var pair = generator.GenerateKeyPair();
        _private = (ECPrivateKeyParameters)pair.Private;
        PublicParameters = (ECPublicKeyParameters)pair.Public;
        var q = PublicParameters.Q.Normalize();
        var half = gost2015 ? 64 : 32;
        var point = LittleEndian(q.AffineXCoord.ToBigInteger(), half).Concat(LittleEndian(q.AffineYCoord.ToBigInteger(), half)).ToArray();
        var parameters = gost2015
            ? new DerSequence(new DerObjectIdentifier("1.2.398.3.10.1.1.2.2.1"), new DerObjectIdentifier(Gost2015Digest))
            : new DerSequence(new DerObjectIdentifier("1.2.398.3.10.1.1.1.1.1"), new DerObjectIdentifier("1.2.398.3.10.1.3.1.1.0"));
        PublicKey = new SubjectPublicKeyInfo(new AlgorithmIdentifier(new DerObjectIdentifier(gost2015 ? "1.2.398.3.10.1.1.2.2" : "1.2.398.3.10.1.1.1.1"), parameters),
            new DerOctetString(point).GetEncoded());
    }

    /// <summary>A key from its private scalar (as an NCA key store holds it, little-endian).</summary>
    public GostKey(byte[] scalarLittleEndian, bool gost2015)
    {
        Gost2015 = gost2015;
        var domain = new ECDomainParameters(Org.BouncyCastle.Asn1.X9.ECNamedCurveTable.GetByName(gost2015 ? "Tc26-Gost-3410-12-512-paramSetA" : "GostR3410-2001-CryptoPro-A"));
        var reversed = scalarLittleEndian.Reverse().ToArray();
        _private = new ECPrivateKeyParameters(new BcBigInteger(1, reversed), domain);
        PublicParameters = new ECPublicKeyParameters(domain.G.Multiply(_private.D).Normalize(), domain);
        PublicKey = null!; // the certificate carries it
    }

    public const string Gost2015Digest = "1.2.398.3.10.1.3.3";
    public const string Gost2004Digest = "1.2.398.3.10.1.3.1";

    public bool Gost2015 { get; }

    /// <summary>The public key as BouncyCastle holds it (big-endian, no encoding): what a raw verify starts from.</summary>
    public ECPublicKeyParameters PublicParameters { get; }

    public SubjectPublicKeyInfo PublicKey { get; }

    public string DigestOid => Gost2015 ? Gost2015Digest : Gost2004Digest;

    public string SignatureOid => Gost2015 ? "1.2.398.3.10.1.1.2.3.2" : "1.2.398.3.10.1.1.1.2";

    public static byte[] Digest(string digestOid, byte[] data)
    {
        Org.BouncyCastle.Crypto.IDigest digest = digestOid switch
        {
            Gost2015Digest => new Gost3411_2012_512Digest(),
            Gost2004Digest => new Gost3411Digest(Gost28147Engine.GetSBox("D-Test")),
            "2.16.840.1.101.3.4.2.1" => new Sha256Digest(),
            _ => throw new ArgumentOutOfRangeException(nameof(digestOid)),
        };
        digest.BlockUpdate(data, 0, data.Length);
        var result = new byte[digest.GetDigestSize()];
        digest.DoFinal(result, 0);
        return result;
    }

    public byte[] SignHash(byte[] hash)
    {
        var signer = new ECGost3410Signer();
        signer.Init(true, new ParametersWithRandom(_private, new SecureRandom()));
        var rs = signer.GenerateSignature(hash);
        var half = Gost2015 ? 64 : 32;
        return [.. LittleEndian(rs[0], half), .. LittleEndian(rs[1], half)];
    }

    private static byte[] LittleEndian(BcBigInteger value, int length)
    {
        var big = value.ToByteArrayUnsigned();
        var padded = new byte[length];
        big.CopyTo(padded, length - big.Length);
        Array.Reverse(padded);
        return padded;
    }
}

/// <summary>An RSA key of the platform, signing PKCS #1 v1.5 with SHA-256.</summary>
public sealed class RsaTestKey(RSA key) : ITestKey
{
    public SubjectPublicKeyInfo PublicKey { get; } = SubjectPublicKeyInfo.GetInstance(key.ExportSubjectPublicKeyInfo());

    public string DigestOid => "2.16.840.1.101.3.4.2.1";

    public string SignatureOid => "1.2.840.113549.1.1.11";

    public byte[] SignHash(byte[] hash) => key.SignHash(hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
}

/// <summary>A certificate with the key that signs for it.</summary>
public sealed record TestSigner(X509Certificate2 Certificate, ITestKey Key);

/// <summary>How a test wants a CMS made: every knob the verifier must refuse or accept.</summary>
public sealed record CmsOptions
{
    public bool Detached { get; init; }

    public string ContentType { get; init; } = "1.2.840.113549.1.7.1";

    /// <summary>The content type the signed attribute states (defaults to <see cref="ContentType"/>).</summary>
    public string? ContentTypeAttribute { get; init; }

    public DateTimeOffset? SigningTime { get; init; }

    public bool SignedAttributes { get; init; } = true;

    public bool SubjectKeyIdentifier { get; init; }

    /// <summary>Certificates put in the bag besides the signer's (or instead, with <see cref="OmitSignerCertificate"/>).</summary>
    public IReadOnlyList<X509Certificate2> ExtraCertificates { get; init; } = [];

    public bool OmitSignerCertificate { get; init; }

    /// <summary>Makes the time-stamp token for a signature value (RFC 3161), added as an unsigned attribute.</summary>
    public Func<byte[], byte[]>? Timestamp { get; init; }

    /// <summary>Writes the key's OID where the signature algorithm belongs, as some Kalkan builds do.</summary>
    public bool KeyOidAsSignatureAlgorithm { get; init; }
}

/// <summary>
/// CMS SignedData written with BouncyCastle's ASN.1 classes for any key (the platform's <c>SignedCms</c> cannot
/// sign with GOST), and the rest of a test PKI's output: certificates, CRLs (base and delta), time-stamp tokens
/// and OCSP responses.
/// </summary>
public static class TestCms
{
    public static byte[] Sign(byte[] content, TestSigner signer, CmsOptions? options = null)
    {
        options ??= new CmsOptions();
        var certificate = X509CertificateStructure.GetInstance(signer.Certificate.RawData);
        var digest = signer.Key.DigestOid;
        var contentDigest = GostKey.Digest(digest, content);
        Asn1Set? signedAttributes = null;
        byte[] toSign = contentDigest;
        if (options.SignedAttributes)
        {
            var attributes = new List<Asn1Encodable>
            {
                new BcAttribute(CmsAttributes.ContentType, new DerSet(new DerObjectIdentifier(options.ContentTypeAttribute ?? options.ContentType))),
                new BcAttribute(CmsAttributes.MessageDigest, new DerSet(new DerOctetString(contentDigest))),
            };
            if (options.SigningTime is { } at)
            {
                attributes.Add(new BcAttribute(CmsAttributes.SigningTime, new DerSet(new Org.BouncyCastle.Asn1.Cms.Time(at.UtcDateTime))));
            }

            signedAttributes = new DerSet(attributes.ToArray());
            toSign = GostKey.Digest(digest, signedAttributes.GetEncoded(Asn1Encodable.Der));
        }

        var signature = signer.Key.SignHash(toSign);
        var sid = options.SubjectKeyIdentifier
            ? new SignerIdentifier(new SubjectKeyIdentifier(signer.Certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.ToArray()))
            : new SignerIdentifier(new IssuerAndSerialNumber(certificate.Issuer, certificate.SerialNumber));
        Asn1Set? unsigned = options.Timestamp is { } stamp
            ? new DerSet(new BcAttribute(new DerObjectIdentifier("1.2.840.113549.1.9.16.2.14"), new DerSet(Asn1Object.FromByteArray(stamp(signature)))))
            : null;
        var signatureAlgorithm = options.KeyOidAsSignatureAlgorithm ? signer.Key.PublicKey.Algorithm.Algorithm.Id : signer.Key.SignatureOid;
        var info = new BcSignerInfo(sid, new AlgorithmIdentifier(new DerObjectIdentifier(digest)), signedAttributes,
            new AlgorithmIdentifier(new DerObjectIdentifier(signatureAlgorithm)), new DerOctetString(signature), unsigned);
        var bag = (options.OmitSignerCertificate ? [] : new[] { signer.Certificate }).Concat(options.ExtraCertificates)
            .Select(c => (Asn1Encodable)X509CertificateStructure.GetInstance(c.RawData)).ToArray();
        var signed = new SignedData(new DerSet(new AlgorithmIdentifier(new DerObjectIdentifier(digest))),
            new BcContentInfo(new DerObjectIdentifier(options.ContentType), options.Detached ? null : new DerOctetString(content)),
            new DerSet(bag), null, new DerSet(info));
        return new BcContentInfo(CmsObjectIdentifiers.SignedData, signed).GetEncoded(Asn1Encodable.Der);
    }

    /// <summary>A certificate: <paramref name="tbs"/> signed by <paramref name="issuerKey"/>.</summary>
    public static X509Certificate2 Certificate(V3TbsCertificateGenerator tbs, ITestKey issuerKey)
    {
        var algorithm = new AlgorithmIdentifier(new DerObjectIdentifier(issuerKey.SignatureOid), DerNull.Instance);
        tbs.SetSignature(algorithm);
        var body = tbs.GenerateTbsCertificate();
        var signature = issuerKey.SignHash(GostKey.Digest(issuerKey.DigestOid, body.GetEncoded(Asn1Encodable.Der)));
        var certificate = new DerSequence(body, algorithm, new DerBitString(signature));
        return X509CertificateLoader.LoadCertificate(certificate.GetEncoded(Asn1Encodable.Der));
    }

    /// <summary>An RFC 3161 token over <paramref name="signatureValue"/> at <paramref name="time"/>, signed by <paramref name="tsa"/>.</summary>
    public static byte[] Timestamp(byte[] signatureValue, DateTimeOffset time, TestSigner tsa, byte[]? imprintOverride = null)
    {
        var imprint = new MessageImprint(new AlgorithmIdentifier(new DerObjectIdentifier("2.16.840.1.101.3.4.2.1")), imprintOverride ?? SHA256.HashData(signatureValue));
        var info = new TstInfo(new DerObjectIdentifier("1.2.398.3.3.2.6.1"), imprint, DerInteger.ValueOf(RandomNumberGenerator.GetInt32(int.MaxValue)),
            new Asn1GeneralizedTime(time.UtcDateTime), null, null, null, null, null);
        return Sign(info.GetEncoded(Asn1Encodable.Der), tsa, new CmsOptions { ContentType = "1.2.840.113549.1.9.16.1.4" });
    }

    /// <summary>
    /// The OCSP response of <paramref name="responder"/> to <paramref name="request"/>: <paramref name="revokedAt"/>
    /// says which serials (upper hex) are revoked since when; the nonce is echoed unless <paramref name="nonce"/> replaces it.
    /// </summary>
    public static byte[] OcspResponse(byte[] request, TestSigner responder, DateTimeOffset now, IReadOnlyDictionary<string, DateTimeOffset> revokedAt,
        Func<byte[], byte[]>? nonce = null, TimeSpan? validFor = null)
    {
        var parsed = OcspRequest.GetInstance(Asn1Object.FromByteArray(request));
        var responses = new List<Asn1Encodable>();
        foreach (var entry in parsed.TbsRequest.RequestList)
        {
            var id = Request.GetInstance(entry).ReqCert;
            var serial = id.SerialNumber.Value.ToString(16).ToUpperInvariant();
            var status = revokedAt.TryGetValue(serial, out var when)
                ? new CertStatus(new RevokedInfo(new Asn1GeneralizedTime(when.UtcDateTime), null))
                : new CertStatus();
            responses.Add(new SingleResponse(id, status, new Asn1GeneralizedTime(now.UtcDateTime), new Asn1GeneralizedTime(now.Add(validFor ?? TimeSpan.FromHours(1)).UtcDateTime), (X509Extensions?)null));
        }

        var asked = parsed.TbsRequest.RequestExtensions?.GetExtension(OcspObjectIdentifiers.PkixOcspNonce)?.Value.GetOctets();
        var echoed = asked is null ? null : nonce?.Invoke(asked) ?? asked;
        var extensions = echoed is null ? null : new X509Extensions(new Dictionary<DerObjectIdentifier, X509Extension>
        {
            [OcspObjectIdentifiers.PkixOcspNonce] = new X509Extension(false, new DerOctetString(echoed)),
        });
        var responderName = X509CertificateStructure.GetInstance(responder.Certificate.RawData).Subject;
        var data = new ResponseData(new ResponderID(responderName), new Asn1GeneralizedTime(now.UtcDateTime), new DerSequence(responses.ToArray()), extensions);
        var algorithm = new AlgorithmIdentifier(new DerObjectIdentifier(responder.Key.SignatureOid), DerNull.Instance);
        var signature = responder.Key.SignHash(GostKey.Digest(responder.Key.DigestOid, data.GetEncoded(Asn1Encodable.Der)));
        var basic = new BasicOcspResponse(data, algorithm, new DerBitString(signature), new DerSequence(X509CertificateStructure.GetInstance(responder.Certificate.RawData)));
        return new Org.BouncyCastle.Asn1.Ocsp.OcspResponse(new OcspResponseStatus(OcspResponseStatus.Successful),
            new ResponseBytes(OcspObjectIdentifiers.PkixOcspBasic, new DerOctetString(basic.GetEncoded(Asn1Encodable.Der)))).GetEncoded(Asn1Encodable.Der);
    }
}

/// <summary>
/// A GOST test PKI shaped like NCA RK's: a self-signed root, an intermediate, users in NCA RK's subject layout
/// with roles and policies, a TSA, an OCSP responder, and base and delta CRLs — every signature GOST (2015-512
/// by default, or 2004), made with BouncyCastle.
/// </summary>
public sealed class GostPki
{
    private static long s_serial = 0x1_0000;

    public GostPki(bool gost2015 = true, string name = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST) TEST")
    {
        Gost2015 = gost2015;
        RootKey = new GostKey(gost2015);
        var rootName = new X509Name($"CN=НЕГІЗГІ {name},C=KZ");
        Root = TestCms.Certificate(Tbs(rootName, rootName, RootKey.PublicKey, TestPki.Epoch, TestPki.Epoch.AddYears(20), Ca(RootKey.PublicKey, RootKey.PublicKey)), RootKey);
        IntermediateKey = new GostKey(gost2015);
        IntermediateName = new X509Name($"CN={name},C=KZ");
        Intermediate = TestCms.Certificate(Tbs(rootName, IntermediateName, IntermediateKey.PublicKey, TestPki.Epoch, TestPki.Epoch.AddYears(15),
            Ca(IntermediateKey.PublicKey, RootKey.PublicKey)), RootKey);
    }

    public bool Gost2015 { get; }

    public GostKey RootKey { get; }

    public GostKey IntermediateKey { get; }

    public X509Name IntermediateName { get; }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Intermediate { get; }

    public TestSigner IntermediateSigner => new(Intermediate, IntermediateKey);

    /// <summary>A user's certificate and key, NCA RK's layout; <paramref name="bin"/> null for an individual.</summary>
    public TestSigner IssueUser(string iin, string? bin = null, string[]? roles = null, bool authentication = false,
        DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, string[]? extraPurposes = null, bool? gost2015 = null)
    {
        var key = new GostKey(gost2015 ?? Gost2015);
        roles ??= bin is null ? [TestPki.RoleIndividual] : [TestPki.RoleEmployee, TestPki.RoleFirstHead];
        var subject = new X509Name($"CN=ТЕСТОВ ТЕСТ,SURNAME=ТЕСТОВ,SERIALNUMBER=IIN{iin},C=KZ,GIVENNAME=ТЕСТОВИЧ" + (bin is null ? "" : $",O=ТОО Тест,OU=BIN{bin}"));
        var usage = authentication ? KeyUsage.DigitalSignature | KeyUsage.KeyEncipherment : KeyUsage.DigitalSignature | KeyUsage.NonRepudiation;
        var purposes = (authentication ? new[] { "1.3.6.1.5.5.7.3.2" } : ["1.3.6.1.5.5.7.3.4"]).Concat(roles).Concat(extraPurposes ?? []);
        var policy = (bin is null, authentication) switch { (false, false) => "1.2.398.3.3.2.1", (false, true) => "1.2.398.3.3.2.2", (true, false) => "1.2.398.3.3.2.3", _ => "1.2.398.3.3.2.4" };
        return new TestSigner(EndEntity(subject, key, usage, purposes, policy, notBefore, notAfter), key);
    }

    /// <summary>The TSA's certificate (EKU timeStamping) and key.</summary>
    public TestSigner IssueTsa() => Service("СЕРВИС МЕТКИ ВРЕМЕНИ", "1.3.6.1.5.5.7.3.8");

    /// <summary>A responder the intermediate delegates OCSP signing to (EKU OCSPSigning).</summary>
    public TestSigner IssueOcspResponder() => Service("OCSP RESPONDER", "1.3.6.1.5.5.7.3.9");

    /// <summary>The intermediate's CRL: a base, or a delta (<paramref name="baseNumber"/>) listing what was revoked since.</summary>
    public byte[] Crl(DateTimeOffset thisUpdate, IReadOnlyDictionary<X509Certificate2, DateTimeOffset>? revoked = null, int number = 1, int? baseNumber = null, TimeSpan? validFor = null)
    {
        var algorithm = new AlgorithmIdentifier(new DerObjectIdentifier(IntermediateKey.SignatureOid), DerNull.Instance);
        var tbs = new V2TbsCertListGenerator();
        tbs.SetIssuer(IntermediateName);
        tbs.SetThisUpdate(new Time(thisUpdate.UtcDateTime));
        tbs.SetNextUpdate(new Time(thisUpdate.Add(validFor ?? TimeSpan.FromDays(1)).UtcDateTime));
        tbs.SetSignature(algorithm);
        foreach (var (certificate, at) in revoked ?? new Dictionary<X509Certificate2, DateTimeOffset>())
        {
            tbs.AddCrlEntry(new DerInteger(new BcBigInteger(1, certificate.SerialNumberBytes.ToArray())), new Time(at.UtcDateTime), CrlReason.KeyCompromise);
        }

        var extensions = new Dictionary<DerObjectIdentifier, X509Extension>
        {
            [X509Extensions.CrlNumber] = new X509Extension(false, new DerOctetString(DerInteger.ValueOf(number))),
        };
        if (baseNumber is { } b)
        {
            extensions[X509Extensions.DeltaCrlIndicator] = new X509Extension(true, new DerOctetString(DerInteger.ValueOf(b)));
        }

        tbs.SetExtensions(new X509Extensions(extensions));
        var body = tbs.GenerateTbsCertList();
        var signature = IntermediateKey.SignHash(GostKey.Digest(IntermediateKey.DigestOid, body.GetEncoded(Asn1Encodable.Der)));
        return new DerSequence(body, algorithm, new DerBitString(signature)).GetEncoded(Asn1Encodable.Der);
    }

    private TestSigner Service(string name, string purpose)
    {
        var key = new GostKey(Gost2015);
        var subject = new X509Name($"CN={name},C=KZ,O=ТЕСТ");
        return new TestSigner(EndEntity(subject, key, KeyUsage.DigitalSignature | KeyUsage.NonRepudiation, [purpose], null, null, null), key);
    }

    private X509Certificate2 EndEntity(X509Name subject, GostKey key, int usage, IEnumerable<string> purposes, string? policy, DateTimeOffset? notBefore, DateTimeOffset? notAfter)
    {
        var extensions = new Dictionary<DerObjectIdentifier, X509Extension>
        {
            [X509Extensions.BasicConstraints] = new X509Extension(true, new DerOctetString(new BasicConstraints(false))),
            [X509Extensions.KeyUsage] = new X509Extension(true, new DerOctetString(new KeyUsage(usage))),
            [X509Extensions.ExtendedKeyUsage] = new X509Extension(false, new DerOctetString(new DerSequence(purposes.Select(p => (Asn1Encodable)new DerObjectIdentifier(p)).ToArray()))),
            [X509Extensions.SubjectKeyIdentifier] = new X509Extension(false, new DerOctetString(new DerOctetString(SHA1Of(key.PublicKey)))),
            [X509Extensions.AuthorityKeyIdentifier] = new X509Extension(false, new DerOctetString(new AuthorityKeyIdentifier(SHA1Of(IntermediateKey.PublicKey)))),
        };
        if (policy is not null)
        {
            extensions[X509Extensions.CertificatePolicies] = new X509Extension(false, new DerOctetString(new CertificatePolicies(new PolicyInformation(new DerObjectIdentifier(policy)))));
        }

        var tbs = Tbs(IntermediateName, subject, key.PublicKey, notBefore ?? TestPki.Epoch, notAfter ?? TestPki.Epoch.AddYears(5), extensions);
        return TestCms.Certificate(tbs, IntermediateKey);
    }

    private static Dictionary<DerObjectIdentifier, X509Extension> Ca(SubjectPublicKeyInfo own, SubjectPublicKeyInfo issuer) => new()
    {
        [X509Extensions.BasicConstraints] = new X509Extension(true, new DerOctetString(new BasicConstraints(true))),
        [X509Extensions.KeyUsage] = new X509Extension(true, new DerOctetString(new KeyUsage(KeyUsage.KeyCertSign | KeyUsage.CrlSign))),
        [X509Extensions.SubjectKeyIdentifier] = new X509Extension(false, new DerOctetString(new DerOctetString(SHA1Of(own)))),
        [X509Extensions.AuthorityKeyIdentifier] = new X509Extension(false, new DerOctetString(new AuthorityKeyIdentifier(SHA1Of(issuer)))),
    };

    private static V3TbsCertificateGenerator Tbs(X509Name issuer, X509Name subject, SubjectPublicKeyInfo key, DateTimeOffset from, DateTimeOffset until, Dictionary<DerObjectIdentifier, X509Extension> extensions)
    {
        var tbs = new V3TbsCertificateGenerator();
        tbs.SetSerialNumber(DerInteger.ValueOf(Interlocked.Increment(ref s_serial)));
        tbs.SetIssuer(issuer);
        tbs.SetSubject(subject);
        tbs.SetStartDate(new Time(from.UtcDateTime));
        tbs.SetEndDate(new Time(until.UtcDateTime));
        tbs.SetSubjectPublicKeyInfo(key);
        tbs.SetExtensions(new X509Extensions(extensions));
        return tbs;
    }

#pragma warning disable CA5350 // a key identifier, as RFC 5280 §4.2.1.2 method 1 makes it
    private static byte[] SHA1Of(SubjectPublicKeyInfo key) => SHA1.HashData(key.PublicKey.GetOctets());
#pragma warning restore CA5350
}

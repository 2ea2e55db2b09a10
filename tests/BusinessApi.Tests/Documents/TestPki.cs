using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// A test PKI shaped like NCA RK's: a root, an intermediate that issues users' signing certificates with
/// the IIN in SERIALNUMBER (<c>IIN…</c>) and the organisation's BIN in OU (<c>BIN…</c>), and CRLs.
/// Keys are made once per instance; certificates at will.
/// </summary>
public sealed class TestPki : IDisposable
{
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public const string RoleIndividual = "1.2.398.3.3.4.1.1";
    public const string RoleEmployee = "1.2.398.3.3.4.1.2";
    public const string RoleFirstHead = "1.2.398.3.3.4.1.2.1";
    public const string RoleWithoutSigningRights = "1.2.398.3.3.4.1.2.5";

    private long _serial = 1000;

    public TestPki(string name = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (TEST)")
    {
        using var rootKey = RSA.Create(2048);
        var rootRequest = new CertificateRequest($"CN={name} ROOT, C=KZ", rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        AddCaExtensions(rootRequest);
        Root = rootRequest.CreateSelfSigned(Epoch, Epoch.AddYears(20));

        using var intermediateKey = RSA.Create(2048);
        var intermediateRequest = new CertificateRequest($"CN={name} RSA, C=KZ", intermediateKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        AddCaExtensions(intermediateRequest);
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Root, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var signed = intermediateRequest.Create(Root, Epoch, Epoch.AddYears(15), NextSerial());
        Intermediate = signed.CopyWithPrivateKey(intermediateKey);
    }

    public X509Certificate2 Root { get; }

    public X509Certificate2 Intermediate { get; }

    public static string RootPem(X509Certificate2 certificate) => certificate.ExportCertificatePem();

    /// <summary>A user's signing certificate with its private key.</summary>
    public X509Certificate2 IssueUser(
        string iin,
        string? bin = null,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        X509KeyUsageFlags usage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation,
        bool ecdsa = false,
        X509Certificate2? issuer = null,
        string[]? roles = null,
        bool authentication = false)
    {
        // NCA RK's profile: a signing key (emailProtection, the signing policy) or an authentication key (clientAuth),
        // roles as extra EKUs: an organisation's certificate is its first head's unless told otherwise.
        roles ??= bin is null ? [RoleIndividual] : [RoleEmployee, RoleFirstHead];
        var purposes = (authentication ? new[] { "1.3.6.1.5.5.7.3.2" } : ["1.3.6.1.5.5.7.3.4"]).Concat(roles).ToArray();
        var policy = (bin is null, authentication) switch { (false, false) => "1.2.398.3.3.2.1", (false, true) => "1.2.398.3.3.2.2", (true, false) => "1.2.398.3.3.2.3", _ => "1.2.398.3.3.2.4" };
        if (authentication && usage == (X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation))
        {
            usage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment;
        }

        var subject = $"CN=ТЕСТОВ ТЕСТ, SN=ТЕСТОВ, SERIALNUMBER=IIN{iin}, C=KZ, G=ТЕСТОВИЧ"
            + (bin is null ? "" : $", O=ТОО Тест, OU=BIN{bin}");
        var from = notBefore ?? Epoch;
        var until = notAfter ?? Epoch.AddYears(5);
        issuer ??= Intermediate;
        if (ecdsa)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            AddUserExtensions(request, usage, issuer, purposes, policy);
            // An RSA CA signs an EC key: the issuer's RSA key signs through an explicit generator.
            using var issuerKey = issuer.GetRSAPrivateKey()!;
            using var certificate = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForRSA(issuerKey, RSASignaturePadding.Pkcs1), from, until, NextSerial());
            return certificate.CopyWithPrivateKey(key);
        }
        else
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            AddUserExtensions(request, usage, issuer, purposes, policy);
            using var certificate = request.Create(issuer, from, until, NextSerial());
            return certificate.CopyWithPrivateKey(key);
        }
    }

    /// <summary>The intermediate's CRL listing <paramref name="revoked"/> (revoked at <paramref name="revokedAt"/>).</summary>
    public byte[] Crl(DateTimeOffset thisUpdate, IEnumerable<X509Certificate2>? revoked = null, DateTimeOffset? revokedAt = null, X509Certificate2? issuer = null, int number = 1)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var certificate in revoked ?? [])
        {
            builder.AddEntry(certificate, revokedAt ?? thisUpdate, X509RevocationReason.KeyCompromise);
        }

        return builder.Build(issuer ?? Intermediate, new BigInteger(number), thisUpdate.AddDays(30), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, thisUpdate);
    }

    public static string CrlPem(byte[] der) => PemEncoding.WriteString("X509 CRL", der);

    /// <summary>A CMS SignedData with <paramref name="content"/> inside (or detached), signed by <paramref name="signers"/> at <paramref name="signingTime"/>.</summary>
    public static byte[] Sign(byte[] content, DateTimeOffset signingTime, bool detached = false, params X509Certificate2[] signers)
    {
        var cms = new SignedCms(new ContentInfo(content), detached);
        foreach (var certificate in signers)
        {
            var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, certificate)
            {
                IncludeOption = X509IncludeOption.EndCertOnly,
                DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1"),
            };
            signer.SignedAttributes.Add(new Pkcs9SigningTime(signingTime.UtcDateTime));
            cms.ComputeSignature(signer, silent: true);
        }

        return cms.Encode();
    }

    public static byte[] Sign(string json, DateTimeOffset signingTime, X509Certificate2 signer) => Sign(Encoding.UTF8.GetBytes(json), signingTime, false, signer);

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
    }

    private byte[] NextSerial() => BitConverter.GetBytes(Interlocked.Increment(ref _serial)).Reverse().ToArray();

    private static void AddCaExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }

    private static void AddUserExtensions(CertificateRequest request, X509KeyUsageFlags usage, X509Certificate2 issuer, string[] purposes, string policy)
    {
        var usages = new OidCollection();
        foreach (var purpose in purposes)
        {
            usages.Add(new Oid(purpose));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        request.CertificateExtensions.Add(new X509Extension("2.5.29.32", new Org.BouncyCastle.Asn1.X509.CertificatePolicies(
            new Org.BouncyCastle.Asn1.X509.PolicyInformation(new Org.BouncyCastle.Asn1.DerObjectIdentifier(policy))).GetEncoded(), false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
    }
}

using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BusinessApi.Documents.Signatures;
using BusinessApi.Tests.Accounts;
using BusinessApi.Tests.Documents;
using Org.BouncyCastle.Crypto.Signers;

namespace BusinessApi.Benchmarks;

/// <summary>Checks per second on one core: ours (the whole CMS verification) and the raw primitive beneath it.</summary>
public sealed record SignatureFigures(double RsaCms, double GostCms, double RawGost, double RawRsa, double OpenSslRsa);

/// <summary>
/// Signature verification on one thread (no storage): a payment order's whole CMS check — parse, digest, signed
/// attributes, signature, chain (cached per certificate, as in the app), CRL lookup, NCA RK's profile — for
/// RSA-2048 and GOST 34.310-2015-512, beside BouncyCastle's raw GOST verify, the platform's raw RSA-2048 verify
/// and <c>openssl speed rsa2048</c> (one process, one core) in the same run.
/// </summary>
public sealed class SignatureThroughput(TimeSpan duration)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 5, 0, 0, TimeSpan.Zero);

    public SignatureFigures Measure()
    {
        var content = Encoding.UTF8.GetBytes("""{"type":"paymentOrder","number":"17","amount":"10.00"}""");
        var options = new SignatureOptions();

        using var rsaPki = new TestPki();
        using var rsaUser = rsaPki.IssueUser(BankData.NewIin(), BankData.NewBin());
        var rsaTrust = new TrustMaterial([rsaPki.Root, rsaPki.Intermediate], [rsaPki.Crl(Now.AddHours(-1))]);
        var rsaCms = TestPki.Sign(content, Now, false, rsaUser);

        var gostPki = new GostPki();
        var gostUser = gostPki.IssueUser(BankData.NewIin(), BankData.NewBin());
        var gostTrust = new TrustMaterial([gostPki.Root, gostPki.Intermediate], [gostPki.Crl(Now.AddHours(-1))]);
        var gostCms = TestCms.Sign(content, gostUser, new CmsOptions { SigningTime = Now });

        var rsaCms1 = Rate(() => Check(SignatureVerifier.Verify(rsaCms, rsaTrust, Now, options)));
        var gostCms1 = Rate(() => Check(SignatureVerifier.Verify(gostCms, gostTrust, Now, options)));

        // The raw primitives on the same keys.
        var hash = SHA256.HashData(content);
        using var rsaKey = rsaUser.GetRSAPrivateKey()!;
        var rsaSignature = rsaKey.SignHash(hash, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var rsaPublic = rsaUser.GetRSAPublicKey()!;
        var rawRsa = Rate(() => Check(rsaPublic.VerifyHash(hash, rsaSignature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)));

        var gostHash = GostKey.Digest(GostKey.Gost2015Digest, content);
        var gostSignature = gostUser.Key.SignHash(gostHash);
        var gostKey = NcaCertificate.From(gostUser.Certificate).Key!;
        var raw = RawGost(gostUser, gostHash, gostSignature);
        var rawGost = Rate(() => Check(raw()));
        Check(gostKey.VerifyHash(new SignatureScheme(KeyFamily.Gost2015, GostKey.Gost2015Digest, "GOST"), gostHash, gostSignature));

        return new SignatureFigures(rsaCms1, gostCms1, rawGost, rawRsa, DocumentThroughput.OpenSslVerifyRate());
    }

    private double Rate(Action verify)
    {
        for (var i = 0; i < 20; i++)
        {
            verify(); // warm-up: JIT, caches
        }

        var clock = Stopwatch.StartNew();
        var count = 0;
        while (clock.Elapsed < duration)
        {
            verify();
            count++;
        }

        return count / clock.Elapsed.TotalSeconds;
    }

    private static void Check(SignatureCheck check)
    {
        if (!check.IsValid)
        {
            throw new InvalidOperationException("A benchmark signature did not verify: " + check.Failure);
        }
    }

    private static void Check(bool valid)
    {
        if (!valid)
        {
            throw new InvalidOperationException("A benchmark signature did not verify.");
        }
    }

    /// <summary>BouncyCastle's own verify on a prepared key: what GOST costs before any CMS or byte order work.</summary>
    private static Func<bool> RawGost(TestSigner signer, byte[] hash, byte[] signature)
    {
        var parameters = ((GostKey)signer.Key).PublicParameters;
        var half = signature.Length / 2;
        var r = new Org.BouncyCastle.Math.BigInteger(1, signature[..half].Reverse().ToArray());
        var s = new Org.BouncyCastle.Math.BigInteger(1, signature[half..].Reverse().ToArray());
        var verifier = new ECGost3410Signer();
        verifier.Init(false, parameters);
        return () => verifier.VerifySignature(hash, r, s);
    }
}

using System.Security.Cryptography.X509Certificates;
using System.Text;
using BusinessApi.Documents.Signatures;
using BusinessApi.Tests.Accounts;

namespace BusinessApi.Tests.Documents;

/// <summary>The EDS checks on their own (no app): each way a signature can be wrong has its own code.</summary>
public sealed class SignatureVerifierTests : IClassFixture<SignatureVerifierTests.Pkis>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 5, 0, 0, TimeSpan.Zero);
    private static readonly SignatureOptions Options = new();
    private const string Json = """{"type":"paymentOrder","number":"17"}""";

    private readonly Pkis _pkis;

    public SignatureVerifierTests(Pkis pkis) => _pkis = pkis;

    public sealed class Pkis : IDisposable
    {
        public TestPki Nca { get; } = new();

        public TestPki Foreign { get; } = new("FOREIGN CA");

        public void Dispose()
        {
            Nca.Dispose();
            Foreign.Dispose();
        }
    }

    private TestPki Pki => _pkis.Nca;

    private TrustMaterial Trust(params X509Certificate2[] revoked) =>
        new([Pki.Root, Pki.Intermediate], [Pki.Crl(Now.AddDays(-1), revoked, Now.AddHours(-1))]);

    [Fact]
    public void RsaSignature_MadeLikeOpenSsl_Verifies_AndNamesTheSigner()
    {
        var iin = BankData.NewIin();
        var bin = BankData.NewBin();
        using var user = Pki.IssueUser(iin, bin);
        var check = SignatureVerifier.Verify(TestPki.Sign(Json, Now.AddMinutes(-1), user), Trust(), Now, Options);
        Assert.Null(check.Failure);
        Assert.Equal(iin, check.Facts!.SignerIin);
        Assert.Equal(bin, check.Facts.SignerBin);
        Assert.Equal(Json, Encoding.UTF8.GetString(check.Content!));
        Assert.Equal(Now.AddMinutes(-1).ToUnixTimeSeconds(), check.Facts.SigningTime!.Value.ToUnixTimeSeconds());
    }

    [Fact]
    public void EcdsaSignature_Verifies()
    {
        using var user = Pki.IssueUser(BankData.NewIin(), ecdsa: true);
        Assert.Null(SignatureVerifier.Verify(TestPki.Sign(Json, Now, user), Trust(), Now, Options).Failure);
    }

    [Fact]
    public void ExpiredCertificate_IsRefused() =>
        AssertFailure(SignatureFailures.CertificateExpired, Pki.IssueUser(BankData.NewIin(), notAfter: Now.AddDays(-1)), signedAt: Now.AddDays(-2));

    [Fact]
    public void CertificateExpiredBetweenSigningAndReceipt_IsRefused() =>
        AssertFailure(SignatureFailures.CertificateExpired, Pki.IssueUser(BankData.NewIin(), notAfter: Now.AddMinutes(-5)), signedAt: Now.AddMinutes(-10));

    [Fact]
    public void NotYetValidCertificate_IsRefused() =>
        AssertFailure(SignatureFailures.CertificateNotYetValid, Pki.IssueUser(BankData.NewIin(), notBefore: Now.AddDays(1)));

    [Fact]
    public void CertificateForEncryptionOnly_IsRefused() =>
        AssertFailure(SignatureFailures.KeyUsage, Pki.IssueUser(BankData.NewIin(), usage: X509KeyUsageFlags.KeyEncipherment));

    [Fact]
    public void CertificateOfAForeignRoot_IsUntrusted() =>
        AssertFailure(SignatureFailures.Untrusted, _pkis.Foreign.IssueUser(BankData.NewIin()));

    [Fact]
    public void RevokedCertificate_IsRefused_RevokedLater_IsNot()
    {
        using var user = Pki.IssueUser(BankData.NewIin());
        var cms = TestPki.Sign(Json, Now, user);
        Assert.Equal(SignatureFailures.Revoked, SignatureVerifier.Verify(cms, Trust(user), Now, Options).Failure);

        var revokedAfterReceipt = new TrustMaterial([Pki.Root, Pki.Intermediate], [Pki.Crl(Now.AddDays(-1), [user], Now.AddHours(1))]);
        Assert.Null(SignatureVerifier.Verify(cms, revokedAfterReceipt, Now, Options).Failure);
    }

    [Fact]
    public void WithoutACurrentCrl_RevocationIsUnknown()
    {
        using var user = Pki.IssueUser(BankData.NewIin());
        var cms = TestPki.Sign(Json, Now, user);
        Assert.Equal(SignatureFailures.RevocationUnknown, SignatureVerifier.Verify(cms, new TrustMaterial([Pki.Root, Pki.Intermediate], []), Now, Options).Failure);
        var stale = new TrustMaterial([Pki.Root, Pki.Intermediate], [Pki.Crl(Now.AddDays(-40))]); // next update passed 10 days ago
        Assert.Equal(SignatureFailures.RevocationUnknown, SignatureVerifier.Verify(cms, stale, Now, Options).Failure);
        Assert.Null(SignatureVerifier.Verify(cms, new TrustMaterial([Pki.Root, Pki.Intermediate], []), Now, new SignatureOptions { RequireCrl = false }).Failure);
    }

    [Fact]
    public void CrlSignedByAnotherKey_IsNotLoaded()
    {
        var forged = _pkis.Foreign.Crl(Now.AddDays(-1));
        var material = new TrustMaterial([Pki.Root, Pki.Intermediate], [forged]);
        Assert.Empty(material.Crls);
    }

    [Fact]
    public void TamperedContent_BreaksTheSignature()
    {
        using var user = Pki.IssueUser(BankData.NewIin());
        var cms = TestPki.Sign(Json, Now, user);
        var at = cms.AsSpan().IndexOf("\"17\""u8);
        cms[at + 2] = (byte)'8'; // number 17 → 18 inside the signed content
        Assert.Equal(SignatureFailures.Invalid, SignatureVerifier.Verify(cms, Trust(), Now, Options).Failure);
    }

    [Fact]
    public void DetachedSignature_IsRefused()
    {
        using var user = Pki.IssueUser(BankData.NewIin());
        var cms = TestPki.Sign(Encoding.UTF8.GetBytes(Json), Now, detached: true, user);
        Assert.Equal(SignatureFailures.Detached, SignatureVerifier.Verify(cms, Trust(), Now, Options).Failure);
    }

    [Fact]
    public void TwoSigners_AreRefused()
    {
        using var first = Pki.IssueUser(BankData.NewIin());
        using var second = Pki.IssueUser(BankData.NewIin());
        var cms = TestPki.Sign(Encoding.UTF8.GetBytes(Json), Now, false, first, second);
        Assert.Equal(SignatureFailures.MultipleSigners, SignatureVerifier.Verify(cms, Trust(), Now, Options).Failure);
    }

    [Fact]
    public void GostAlgorithmNamedOverAnRsaKey_IsUnsupported()
    {
        using var user = Pki.IssueUser(BankData.NewIin());
        var cms = TestPki.Sign(Json, Now, user);
        // The signer info names rsaEncryption last; GOST 34.310-2004 (1.2.398.3.10.1.1.1.2) has an OID of the same length.
        byte[] rsa = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
        byte[] gost = [0x06, 0x09, 0x2A, 0x83, 0x0E, 0x03, 0x0A, 0x01, 0x01, 0x01, 0x02];
        var at = cms.AsSpan().LastIndexOf(rsa);
        gost.CopyTo(cms.AsSpan(at));
        Assert.Equal(SignatureFailures.UnsupportedAlgorithm, SignatureVerifier.Verify(cms, Trust(), Now, Options).Failure);
    }

    [Fact]
    public void SigningTimeAfterReceipt_IsRefused() =>
        AssertFailure(SignatureFailures.SigningTimeInvalid, Pki.IssueUser(BankData.NewIin()), signedAt: Now.AddHours(1));

    [Fact]
    public void GarbageAndEmptyContent_AreMalformed()
    {
        Assert.Equal(SignatureFailures.Malformed, SignatureVerifier.Verify("not a cms"u8, Trust(), Now, Options).Failure);
    }

    [Fact]
    public void Identity_ReadsNcaSubjectLayout()
    {
        var name = new X500DistinguishedName("CN=ИВАНОВ ИВАН, SERIALNUMBER=IIN850101300011, C=KZ, O=ТОО Ромашка, OU=BIN123456789012");
        Assert.Equal(("850101300011", "123456789012"), SignatureVerifier.Identity(name));
        Assert.Equal((null, null), SignatureVerifier.Identity(new X500DistinguishedName("CN=X, SERIALNUMBER=850101300011")));
    }

    private void AssertFailure(string expected, X509Certificate2 user, DateTimeOffset? signedAt = null)
    {
        using (user)
        {
            Assert.Equal(expected, SignatureVerifier.Verify(TestPki.Sign(Json, signedAt ?? Now, user), Trust(), Now, Options).Failure);
        }
    }
}

using System.Security.Cryptography.X509Certificates;
using System.Text;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Tests.Accounts;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// GOST signatures against a GOST test PKI the tests build with BouncyCastle, and NCA RK's signing policy: each
/// breach is its own code. The verifier sees only bytes: certificates, CRLs, CMS and tokens.
/// </summary>
public sealed class GostSignatureTests : IClassFixture<GostSignatureTests.Pkis>
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 5, 0, 0, TimeSpan.Zero);
    private static readonly SignatureOptions Options = new();
    private static readonly byte[] Json = Encoding.UTF8.GetBytes("""{"type":"paymentOrder","number":"17"}""");

    private readonly Pkis _pkis;

    public GostSignatureTests(Pkis pkis) => _pkis = pkis;

    public sealed class Pkis
    {
        public GostPki Gost2015 { get; } = new();

        public GostPki Gost2004 { get; } = new(gost2015: false, name: "ҰКО 3.0 (GOST TEST)");

        /// <summary>An attacker's PKI whose CAs carry NCA RK's names.</summary>
        public GostPki Foreign { get; } = new();
    }

    private GostPki Pki => _pkis.Gost2015;

    private TrustMaterial Trust(GostPki? pki = null, params byte[][] crls)
    {
        pki ??= Pki;
        return new([pki.Root, pki.Intermediate], crls.Length > 0 ? crls : [pki.Crl(Now.AddHours(-1))]);
    }

    private static SignatureCheck Verify(byte[] cms, TrustMaterial trust, SignatureOptions? options = null, DateTimeOffset? at = null, byte[]? data = null) =>
        SignatureVerifier.Verify(SignedMessage.TryParse(cms), data, trust, at ?? Now, options ?? Options, checkRevocation: true);

    [Fact]
    public void Gost2015_AttachedAndDetached_Verify_AndNameTheSigner()
    {
        var iin = BankData.NewIin();
        var bin = BankData.NewBin();
        var user = Pki.IssueUser(iin, bin);
        var attached = Verify(TestCms.Sign(Json, user, new CmsOptions { SigningTime = Now.AddMinutes(-1) }), Trust());
        Assert.Null(attached.Failure);
        Assert.Equal("GOST 34.310-2015-512", attached.Facts!.Algorithm);
        Assert.Equal((iin, bin), (attached.Facts.SignerIin, attached.Facts.SignerBin));
        Assert.Equal(["firstHead", "legalEntityEmployee"], attached.Facts.Roles!.Order());
        Assert.Equal(Json, attached.Content);
        Assert.All(attached.Checks, c => Assert.True(c.Passed, c.Name));

        var detached = TestCms.Sign(Json, user, new CmsOptions { Detached = true });
        Assert.Equal(SignatureFailures.Detached, Verify(detached, Trust()).Failure);
        Assert.Null(Verify(detached, Trust(), data: Json).Failure);
        Assert.Equal(SignatureFailures.Invalid, Verify(detached, Trust(), data: [.. Json, (byte)' ']).Failure);
    }

    [Fact]
    public void Gost2004_ChainAndSignature_Verify()
    {
        var pki = _pkis.Gost2004;
        var user = pki.IssueUser(BankData.NewIin());
        var check = Verify(TestCms.Sign(Json, user), Trust(pki, pki.Crl(Now.AddHours(-1))));
        Assert.Null(check.Failure);
        Assert.Equal("GOST 34.310-2004", check.Facts!.Algorithm);
        Assert.Equal(3, check.Chain!.Elements.Count);
    }

    [Fact]
    public void KalkanWritingTheKeyOid_AsTheSignatureAlgorithm_AndAKeyIdentifierSid_Verify()
    {
        var user = Pki.IssueUser(BankData.NewIin());
        Assert.Null(Verify(TestCms.Sign(Json, user, new CmsOptions { KeyOidAsSignatureAlgorithm = true }), Trust()).Failure);
        Assert.Null(Verify(TestCms.Sign(Json, user, new CmsOptions { SubjectKeyIdentifier = true }), Trust()).Failure);
        Assert.Null(Verify(TestCms.Sign(Json, user, new CmsOptions { SignedAttributes = false }), Trust()).Failure);
    }

    [Fact]
    public void ContentAlteredAfterSigning_OrAnotherKey_IsInvalid()
    {
        var user = Pki.IssueUser(BankData.NewIin());
        var cms = TestCms.Sign(Json, user);
        var at = cms.AsSpan().IndexOf("17"u8);
        cms[at] = (byte)'8';
        Assert.Equal(SignatureFailures.Invalid, Verify(cms, Trust()).Failure);

        var impostor = new TestSigner(user.Certificate, new GostKey());
        Assert.Equal(SignatureFailures.Invalid, Verify(TestCms.Sign(Json, impostor), Trust()).Failure);
    }

    [Fact]
    public void AuthenticationKey_IsRefused_UnlessThePolicyIsSwitchedOff()
    {
        var gost = Pki.IssueUser(BankData.NewIin(), BankData.NewBin(), authentication: true);
        Assert.Equal(SignatureFailures.SigningKeyRequired, Verify(TestCms.Sign(Json, gost), Trust()).Failure);
        Assert.Null(Verify(TestCms.Sign(Json, gost), Trust(), new SignatureOptions { RequireSigningKey = false }).Failure);

        using var rsaPki = new TestPki();
        using var rsa = rsaPki.IssueUser(BankData.NewIin(), authentication: true);
        var trust = new TrustMaterial([rsaPki.Root, rsaPki.Intermediate], [rsaPki.Crl(Now.AddHours(-1))]);
        Assert.Equal(SignatureFailures.SigningKeyRequired, SignatureVerifier.Verify(TestPki.Sign(Json, Now, false, rsa), trust, Now, Options).Failure);
    }

    [Fact]
    public void ContentOtherThanData_IsRefused()
    {
        var user = Pki.IssueUser(BankData.NewIin());
        Assert.Equal(SignatureFailures.ContentTypeInvalid, Verify(TestCms.Sign(Json, user, new CmsOptions { ContentType = "1.2.840.113549.1.9.16.1.4" }), Trust()).Failure);
        Assert.Equal(SignatureFailures.ContentTypeInvalid, Verify(TestCms.Sign(Json, user, new CmsOptions { ContentTypeAttribute = "1.2.840.113549.1.7.5" }), Trust()).Failure);
    }

    [Fact]
    public void CertificatesInTheBag_AreNeverTrusted()
    {
        // The attacker's CAs carry NCA RK's names, and travel in the CMS with a certificate naming the victim.
        var victim = BankData.NewIin();
        var forged = _pkis.Foreign.IssueUser(victim);
        var cms = TestCms.Sign(Json, forged, new CmsOptions { ExtraCertificates = [_pkis.Foreign.Intermediate, _pkis.Foreign.Root] });
        var check = Verify(cms, Trust());
        Assert.Equal(SignatureFailures.Untrusted, check.Failure);

        // A bag without the certificate the SignerInfo names: another certificate there is not taken instead.
        var user = Pki.IssueUser(victim);
        var other = Pki.IssueUser(victim);
        Assert.Equal(SignatureFailures.SignerCertificateMissing,
            Verify(TestCms.Sign(Json, user, new CmsOptions { OmitSignerCertificate = true, ExtraCertificates = [other.Certificate] }), Trust()).Failure);
    }

    [Fact]
    public void DeltaCrl_RevokesWhatItsBaseDidNot_AndNeverReplacesIt()
    {
        var inBase = Pki.IssueUser(BankData.NewIin());
        var inDelta = Pki.IssueUser(BankData.NewIin());
        var good = Pki.IssueUser(BankData.NewIin());
        var baseCrl = Pki.Crl(Now.AddDays(-1), new Dictionary<X509Certificate2, DateTimeOffset> { [inBase.Certificate] = Now.AddDays(-2) }, number: 10, validFor: TimeSpan.FromDays(7));
        var delta = Pki.Crl(Now.AddHours(-1), new Dictionary<X509Certificate2, DateTimeOffset> { [inDelta.Certificate] = Now.AddHours(-2) }, number: 11, baseNumber: 10);
        var trust = Trust(Pki, baseCrl, delta);
        Assert.Equal(2, trust.Crls.Count);
        Assert.Equal(SignatureFailures.Revoked, Verify(TestCms.Sign(Json, inBase), trust).Failure);
        Assert.Equal(SignatureFailures.Revoked, Verify(TestCms.Sign(Json, inDelta), trust).Failure);
        Assert.Null(Verify(TestCms.Sign(Json, good), trust).Failure);

        // The delta's own next update counts too: a stale delta leaves revocation unknown.
        var staleDelta = Pki.Crl(Now.AddDays(-3), number: 9, baseNumber: 8);
        Assert.Equal(SignatureFailures.RevocationUnknown, Verify(TestCms.Sign(Json, good), Trust(Pki, baseCrl, staleDelta)).Failure);
    }

    [Fact]
    public void Timestamp_IsTheSigningTime_ForValidityAndRevocation()
    {
        var tsa = Pki.IssueTsa();
        var stampedAt = Now.AddDays(-3);
        // Expired since, and revoked since: the time-stamp proves the signature was made while all was well.
        var user = Pki.IssueUser(BankData.NewIin(), notBefore: Now.AddYears(-1), notAfter: Now.AddDays(-1));
        var cms = TestCms.Sign(Json, user, new CmsOptions { SigningTime = stampedAt, Timestamp = s => TestCms.Timestamp(s, stampedAt, tsa) });
        var revokedLater = Pki.Crl(Now.AddHours(-1), new Dictionary<X509Certificate2, DateTimeOffset> { [user.Certificate] = Now.AddDays(-2) });
        var check = Verify(cms, Trust(Pki, revokedLater));
        Assert.Null(check.Failure);
        Assert.Equal(stampedAt.ToUnixTimeSeconds(), check.Facts!.TimestampedAt!.Value.ToUnixTimeSeconds());
        Assert.Equal(stampedAt.ToUnixTimeSeconds(), check.EvaluatedAt.ToUnixTimeSeconds());

        // Without the time-stamp the same signature is judged at receipt: expired.
        Assert.Equal(SignatureFailures.CertificateExpired, Verify(TestCms.Sign(Json, user, new CmsOptions { SigningTime = stampedAt }), Trust(Pki, revokedLater)).Failure);
    }

    [Fact]
    public void Timestamp_OverAnotherSignature_ByANonTsa_OrMissingWhenRequired_IsRefused()
    {
        var user = Pki.IssueUser(BankData.NewIin());
        var tsa = Pki.IssueTsa();
        var wrongImprint = TestCms.Sign(Json, user, new CmsOptions { Timestamp = s => TestCms.Timestamp(s, Now, tsa, imprintOverride: new byte[32]) });
        Assert.Equal(SignatureFailures.TimestampInvalid, Verify(wrongImprint, Trust()).Failure);

        var notATsa = Pki.IssueUser(BankData.NewIin());
        var byUser = TestCms.Sign(Json, user, new CmsOptions { Timestamp = s => TestCms.Timestamp(s, Now, notATsa) });
        Assert.Equal(SignatureFailures.TimestampInvalid, Verify(byUser, Trust()).Failure);

        // A TSA the bank does not trust proves nothing: its token is ignored (judged at receipt), or refused when one is required.
        var foreignTsa = _pkis.Foreign.IssueTsa();
        var byForeign = TestCms.Sign(Json, user, new CmsOptions { Timestamp = s => TestCms.Timestamp(s, Now.AddDays(-1), foreignTsa) });
        var ignored = Verify(byForeign, Trust());
        Assert.Null(ignored.Failure);
        Assert.Null(ignored.Facts!.TimestampedAt);
        Assert.Equal(SignatureFailures.TimestampUntrusted, Verify(byForeign, Trust(), new SignatureOptions { RequireTimestamp = true }).Failure);

        Assert.Equal(SignatureFailures.TimestampMissing, Verify(TestCms.Sign(Json, user), Trust(), new SignatureOptions { RequireTimestamp = true }).Failure);
        Assert.Null(Verify(TestCms.Sign(Json, user, new CmsOptions { Timestamp = s => TestCms.Timestamp(s, Now, tsa) }), Trust(), new SignatureOptions { RequireTimestamp = true }).Failure);
    }

    [Fact]
    public void SignerPolicy_EachBreach_HasItsOwnCode()
    {
        var bin = BankData.NewBin();
        var iin = BankData.NewIin();
        var company = new Customer("c-1", "ТОО Тест", bin, CustomerStatus.Active, Now);
        var entrepreneur = company with { IsIndividualEntrepreneur = true, Bin = iin };
        SignatureFacts Facts(TestSigner signer) => Verify(TestCms.Sign(Json, signer), Trust()).Facts!;

        var head = Facts(Pki.IssueUser(iin, bin));
        Assert.Null(SignedInstructions.IdentityFailure(head, iin, company, Options));
        Assert.Null(SignedInstructions.RoleFailure(head, company, Options));

        var personal = Facts(Pki.IssueUser(iin));
        Assert.Equal(SignatureFailures.OrganisationBinMissing, SignedInstructions.IdentityFailure(personal, iin, company, Options));
        Assert.Null(SignedInstructions.IdentityFailure(personal, iin, entrepreneur, Options));
        Assert.Null(SignedInstructions.RoleFailure(personal, entrepreneur, Options));
        Assert.Null(SignedInstructions.IdentityFailure(personal, iin, company, new SignatureOptions { RequireOrganisationBin = false }));

        var employeeWithoutBin = Facts(Pki.IssueUser(iin, bin: null, roles: [TestPki.RoleEmployee, TestPki.RoleFirstHead]));
        Assert.Equal(SignatureFailures.OrganisationBinMissing, SignedInstructions.IdentityFailure(employeeWithoutBin, iin, entrepreneur, Options));

        var otherCompany = Facts(Pki.IssueUser(iin, BankData.NewBin()));
        Assert.Equal(SignatureFailures.OrganisationMismatch, SignedInstructions.IdentityFailure(otherCompany, iin, company, Options));
        Assert.Equal(SignatureFailures.SignerMismatch, SignedInstructions.IdentityFailure(head, BankData.NewIin(), company, Options));

        var clerk = Facts(Pki.IssueUser(iin, bin, roles: [TestPki.RoleEmployee, TestPki.RoleWithoutSigningRights]));
        Assert.Null(SignedInstructions.IdentityFailure(clerk, iin, company, Options));
        Assert.Equal(SignatureFailures.SigningRoleMissing, SignedInstructions.RoleFailure(clerk, company, Options));
        Assert.Null(SignedInstructions.RoleFailure(clerk, company, new SignatureOptions { RequireSigningRole = false }));
        foreach (var role in new[] { "1.2.398.3.3.4.1.2.2", "1.2.398.3.3.4.1.2.3" })
        {
            Assert.Null(SignedInstructions.RoleFailure(Facts(Pki.IssueUser(iin, bin, roles: [TestPki.RoleEmployee, role])), company, Options));
        }
    }
}

/// <summary>Every signature failure code reads in Russian, Kazakh and English (the document's refusal text).</summary>
public sealed class SignatureFailureTextsTests
{
    [Fact]
    public void EveryFailureCode_HasTextsInRuKkAndEn()
    {
        var codes = typeof(SignatureFailures).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Contains(SignatureFailures.SigningRoleMissing, codes);
        var resources = new System.Resources.ResourceManager("BusinessApi.Documents.Resources.DocumentTexts", typeof(SignatureFailures).Assembly);
        // Russian is the neutral resource; Kazakh and English are satellites, read without falling back to Russian.
        var sets = new[] { System.Globalization.CultureInfo.InvariantCulture, new System.Globalization.CultureInfo("kk"), new System.Globalization.CultureInfo("en") }
            .Select(c => (Culture: c.Name, Set: resources.GetResourceSet(c, true, false)!));
        foreach (var (culture, set) in sets)
        {
            Assert.All(codes, code => Assert.False(string.IsNullOrWhiteSpace(set.GetString("failure." + code)), $"'{culture}': failure.{code}"));
        }
    }
}

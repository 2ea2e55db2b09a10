using System.Security.Cryptography.X509Certificates;
using BusinessApi.Documents.Signatures;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// NCA RK's own test material (Documents/nca-test, made by KalkanCrypt and NCALayer): the GOST byte order, OIDs
/// and parameters proved on real signatures, certificates, CRLs, a time-stamp token and an OCSP response. The
/// user certificates have expired since, so each is judged at its signing time.
/// </summary>
public sealed class NcaMaterialTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Documents", "nca-test");
    private static readonly SignatureOptions NoCrlRequired = new() { RequireCrl = false };

    public static byte[] Read(string path) => File.ReadAllBytes(Path.Combine(Folder, path));

    public static X509Certificate2 Certificate(string path) => TrustStore.ParseCertificates(Read(path)).Single();

    /// <summary>Every NCA test CA and CRL in the folder, as the bank would configure them.</summary>
    public static TrustMaterial Trust(List<string>? warnings = null) => new(
        [.. Directory.EnumerateFiles(Path.Combine(Folder, "ca")).Select(f => TrustStore.ParseCertificates(File.ReadAllBytes(f)).Single())],
        [.. Directory.EnumerateFiles(Path.Combine(Folder, "crl")).Select(File.ReadAllBytes)],
        w => warnings?.Add(w));

    [Fact]
    public void TestRootsAndIntermediates_ChainWithGost2004_Gost2015_AndRsa()
    {
        var warnings = new List<string>();
        var trust = Trust(warnings);
        Assert.Empty(warnings);
        Assert.Equal(3, trust.Roots.Count);
        Assert.Equal(3, trust.Intermediates.Count);
        foreach (var (intermediate, root) in new[] { ("ca/nca_gost_test.crt", "ca/root_gost_test.crt"), ("ca/nca_gost2022_test.cer", "ca/root_test_gost_2022.cer"), ("ca/nca_rsa_test.crt", "ca/root_rsa_test.crt") })
        {
            var ca = NcaCertificate.From(Certificate(intermediate));
            Assert.True(ca.IsSignedBy(NcaCertificate.From(Certificate(root))), intermediate);
        }
    }

    [Fact]
    public void Crls_BaseAndDelta_LoadAgainstTheirIssuers_DespiteTheNullParameterQuirk()
    {
        var trust = Trust();
        Assert.Equal(4, trust.Crls.Count);
        var gost2022 = NcaCertificate.From(Certificate("ca/nca_gost2022_test.cer"));
        var (crl, delta) = trust.CrlsOf(gost2022.Thumbprint);
        Assert.NotNull(crl);
        Assert.Equal(54, crl.Revoked.Count);
        Assert.True(delta!.IsDelta);
        Assert.False(crl.IsDelta);
    }

    [Theory]
    [InlineData("cms/individual_attached.der", null)]
    [InlineData("cms/individual_detached.der", "cms/individual_document.txt")]
    public void IndividualGost2015Signature_Verifies_AtItsSigningTime(string cms, string? data)
    {
        var message = SignedMessage.TryParse(Read(cms))!;
        var signedAt = message.Signers[0].SigningTime!.Value;
        var check = SignatureVerifier.Verify(message, data is null ? null : Read(data), Trust(), signedAt, NoCrlRequired, checkRevocation: true);
        Assert.Null(check.Failure);
        Assert.Equal("123456789011", check.Facts!.SignerIin);
        Assert.Equal("GOST 34.310-2015-512", check.Facts.Algorithm);
        Assert.Equal(["individual"], check.Facts.Roles);
        Assert.Equal(3, check.Chain!.Elements.Count);
        Assert.Equal(Read("cms/individual_document.txt"), check.Content);
        Assert.True(NcaCertificate.From(Certificate("cms/individual_signer.cer")).Matches(message.Signers[0]));

        // NCALayer added a time-stamp of NCA's production TSA (Streebog-512 imprint over the signature value): its
        // signature and imprint hold, and its TSA chains to a production CA this test material lacks, so it is not relied on.
        Assert.Equal(new DateTimeOffset(2026, 7, 20, 9, 8, 7, TimeSpan.Zero), check.Timestamp!.Time);
        Assert.Equal(SignatureFailures.TimestampUntrusted, check.Timestamp.Failure);
        Assert.Null(check.Facts.TimestampedAt);

        // A year on, the certificate has expired; before it was issued, it was not yet valid.
        Assert.Equal(SignatureFailures.CertificateExpired, SignatureVerifier.Verify(message, data is null ? null : Read(data), Trust(), signedAt.AddYears(1), NoCrlRequired, true).Failure);
    }

    [Fact]
    public void TwoSigners_Gost2015AndRsa_EachVerify_AtTheirSigningTimes()
    {
        var message = SignedMessage.TryParse(Read("cms/two_signers_gost2015_rsa_detached.p7s"))!;
        var data = Read("cms/two_signers_data.txt");
        Assert.Equal(2, message.Signers.Count);
        var trust = Trust();
        var gost = message.Signers.Single(s => s.DigestAlgorithm == SignatureAlgorithms.Gost2015Digest);
        var rsa = message.Signers.Single(s => s.DigestAlgorithm == SignatureAlgorithms.Sha256);
        var atGost = SignatureVerifier.VerifyEach(message, data, trust, gost.SigningTime!.Value, NoCrlRequired);
        var gostCheck = atGost.Single(r => r.Certificate!.Matches(gost));
        Assert.True(gostCheck.Failure is null, string.Join(", ", gostCheck.Checks.Where(c => !c.Passed).Select(c => c.Name + "=" + c.Failure)));
        Assert.Equal("123456789012", gostCheck.Facts!.SignerIin);

        // NCA's sample signed with an RSA certificate that had expired (2022-01-18) before its own signing time: the
        // signature value and the chain hold, and the verifier says plainly that the certificate had expired.
        var rsaCheck = SignatureVerifier.VerifyEach(message, data, trust, rsa.SigningTime!.Value, NoCrlRequired).Single(r => r.Certificate!.Matches(rsa));
        Assert.Equal("sha256WithRSAEncryption", rsaCheck.Facts!.Algorithm);
        Assert.True(rsaCheck.Checks.Single(c => c.Name == "signature").Passed);
        Assert.True(rsaCheck.Checks.Single(c => c.Name == "chain").Passed);
        Assert.Equal(SignatureFailures.CertificateExpired, rsaCheck.Failure);
        Assert.True(rsa.SigningTime > rsaCheck.Certificate!.NotAfter);
        // As a document it is refused: one SignerInfo per signature.
        Assert.Equal(SignatureFailures.MultipleSigners, SignatureVerifier.Verify(message, data, trust, message.Signers[0].SigningTime!.Value, NoCrlRequired, true).Failure);
    }

    [Fact]
    public void TimestampToken_OfNcaTestTsa_VerifiesWithGost2004()
    {
        var (facts, imprint) = Timestamps.Read(Read("tsp-ocsp/tsp_token.bin"), Trust());
        Assert.Null(facts.Failure);
        Assert.Equal(new DateTimeOffset(2022, 9, 18, 13, 20, 14, TimeSpan.Zero), facts.Time);
        Assert.Contains("СЕРВИС МЕТКИ ВРЕМЕНИ", facts.Authority, StringComparison.Ordinal);
        Assert.Equal("1.3.14.3.2.26", imprint!.HashAlgorithm.Algorithm.Id);

        // The response around it carries the same token; over another signature value, its imprint does not hold.
        Assert.Equal(SignatureFailures.TimestampInvalid, Timestamps.Verify(Read("tsp-ocsp/tsp_token.bin"), new byte[64], Trust()).Failure);
    }

    [Fact]
    public void OcspResponse_OfNcaTestResponder_VerifiesThroughItsDelegatedCertificate()
    {
        var issuer = NcaCertificate.From(Certificate("ca/nca_gost2022_test.cer"));
        var producedAt = new DateTimeOffset(2022, 9, 2, 16, 58, 34, TimeSpan.Zero);
        var (answer, problem) = Ocsp.Read(Read("tsp-ocsp/ocsp_response_individual_2015.bin"), "0FF06211DC82BEB00253FFA000F1DE84ABEF454F".TrimStart('0'), issuer, null, producedAt, TimeSpan.FromMinutes(5));
        Assert.True(answer is not null, problem);
        Assert.Equal(OcspAnswer.Revoked, answer.Status);
        Assert.Contains("OCSP RESPONDER", answer.Responder, StringComparison.Ordinal);

        // Asked about another certificate, or by another issuer, the same response answers nothing.
        Assert.Null(Ocsp.Read(Read("tsp-ocsp/ocsp_response_individual_2015.bin"), "0102", issuer, null, producedAt, TimeSpan.FromMinutes(5)).Answer);
        Assert.Null(Ocsp.Read(Read("tsp-ocsp/ocsp_response_individual_2015.bin"), "FF06211DC82BEB00253FFA000F1DE84ABEF454F",
            NcaCertificate.From(Certificate("ca/nca_gost_test.crt")), null, producedAt, TimeSpan.FromMinutes(5)).Answer);
    }
}

/// <summary>NCA RK's test key stores (PKCS #12 with the Kazakh GOST key OID) sign, and the signatures verify.</summary>
public sealed class NcaKeyStoreTests
{
    [Theory]
    [InlineData("keys/gost2015_individual.p12", null)]
    [InlineData("keys/gost2015_legal_employee_signright.p12", "rightOfSignature")]
    public void GostKeyStore_Signs_AndTheSignatureVerifies_WithinItsValidity(string file, string? role)
    {
        var signer = NcaKeyStore.Open(NcaMaterialTests.Read(file), "Qwerty12");
        var at = signer.Certificate.NotBefore.ToUniversalTime().AddDays(30);
        var content = "{\"type\":\"paymentOrder\",\"number\":\"1\"}"u8.ToArray();
        var cms = TestCms.Sign(content, signer, new CmsOptions { SigningTime = at });
        var check = SignatureVerifier.Verify(SignedMessage.TryParse(cms), null, NcaMaterialTests.Trust(), at, new SignatureOptions { RequireCrl = false }, checkRevocation: true);
        Assert.True(check.IsValid, string.Join(", ", check.Checks.Where(c => !c.Passed).Select(c => c.Name + "=" + c.Failure)));
        Assert.Equal("GOST 34.310-2015-512", check.Facts!.Algorithm);
        if (role is not null)
        {
            Assert.Contains(role, check.Facts.Roles!);
            Assert.Equal("123456789021", check.Facts.SignerBin);
        }
    }
}

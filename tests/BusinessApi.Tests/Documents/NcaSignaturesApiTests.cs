using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// NCA RK signatures through the API: orders signed with RSA, GOST-2004 and GOST-2015 executed; NCA RK's policy
/// refusals; revocation by OCSP from a responder the test runs, with the fall-back to CRLs; the CRL job keeping a
/// served CRL current across its next update on a fake clock; and the support staff's verification report.
/// </summary>
public sealed class NcaSignaturesApiTests
{
    private static async Task TrustGostAsync(TestApp app, GostPki pki, byte[]? crl = null)
    {
        using var ops = app.OperatorClient();
        foreach (var certificate in new[] { pki.Root, pki.Intermediate })
        {
            Assert.Equal(HttpStatusCode.Created, (await ops.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { certificate = certificate.ExportCertificatePem() })).StatusCode);
        }

        if (crl is not null)
        {
            Assert.Equal(HttpStatusCode.Created, (await ops.PostAsJsonAsync("/api/v1/ops/crls", new { crl = Convert.ToBase64String(crl) })).StatusCode);
        }
    }

    private static Task<string> SubmitGostAsync(Payer payer, TestSigner signer) =>
        payer.SubmitSignedAsync(TestCms.Sign(System.Text.Encoding.UTF8.GetBytes(payer.Order(10m).ToJsonString()), signer,
            new CmsOptions { SigningTime = payer.App.Time.GetUtcNow() }));

    [Fact]
    public async Task OrdersSigned_WithRsa_Gost2004_AndGost2015_AreExecuted_AndPolicyBreaches_AreRefused()
    {
        await using var app = await TestApp.StartAsync();
        using var rsaPki = new TestPki();
        var gost2015 = new GostPki();
        var gost2004 = new GostPki(gost2015: false, name: "ҰКО 3.0 (GOST TEST)");
        await app.TrustAsync(rsaPki);
        await TrustGostAsync(app, gost2015, gost2015.Crl(app.Time.GetUtcNow().AddHours(-1)));
        await TrustGostAsync(app, gost2004, gost2004.Crl(app.Time.GetUtcNow().AddHours(-1)));
        using var payer = await app.PayerAsync(rsaPki);

        Assert.Equal("executed", (await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(10m)))).GetProperty("status").GetString());
        foreach (var pki in new[] { gost2015, gost2004 })
        {
            var document = await payer.FinishedAsync(await SubmitGostAsync(payer, pki.IssueUser(payer.Iin, payer.Bin)));
            Assert.Equal("executed", document.GetProperty("status").GetString());
            Assert.StartsWith("GOST 34.310-", document.GetProperty("signer").GetProperty("algorithm").GetString(), StringComparison.Ordinal);
        }

        var breaches = new (TestSigner Signer, string Failure)[]
        {
            (gost2015.IssueUser(payer.Iin, payer.Bin, authentication: true), "signing_key_required"),
            (gost2015.IssueUser(payer.Iin), "organisation_bin_missing"),
            (gost2015.IssueUser(payer.Iin, Accounts.BankData.NewBin()), "organisation_mismatch"),
            (gost2015.IssueUser(payer.Iin, payer.Bin, roles: [TestPki.RoleEmployee, TestPki.RoleWithoutSigningRights]), "signing_role_missing"),
            (new GostPki().IssueUser(payer.Iin, payer.Bin), "certificate_untrusted"),
        };
        foreach (var (signer, failure) in breaches)
        {
            var refused = await payer.FinishedAsync(await SubmitGostAsync(payer, signer));
            Assert.Equal(("refused", failure), (refused.GetProperty("status").GetString(), refused.GetProperty("failure").GetString()));
        }

        // Content that is not id-data is refused before anything else is read from it.
        var tstInfo = TestCms.Sign("{}"u8.ToArray(), gost2015.IssueUser(payer.Iin, payer.Bin), new CmsOptions { ContentType = "1.2.840.113549.1.9.16.1.4" });
        var wrongType = await payer.FinishedAsync(await payer.SubmitSignedAsync(tstInfo));
        Assert.Equal("content_type_invalid", wrongType.GetProperty("failure").GetString());
    }

    [Fact]
    public async Task Ocsp_IsAskedFirst_RevokesWhatTheCrlDoesNot_AndWhenDown_TheCrlsAnswer()
    {
        await using var pkiServer = await PkiServer.StartAsync();
        var pki = new GostPki();
        var responder = pki.IssueOcspResponder();
        var revoked = new Dictionary<string, DateTimeOffset>();
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Signatures:OcspUrl"] = pkiServer.OcspUrl.ToString() });
        pkiServer.Ocsp = request => TestCms.OcspResponse(request, responder, app.Time.GetUtcNow(), revoked);
        var now = app.Time.GetUtcNow();
        await TrustGostAsync(app, pki, pki.Crl(now.AddHours(-1), validFor: TimeSpan.FromMinutes(65)));
        using var payer = await app.PayerAsync(new TestPki());

        var good = pki.IssueUser(payer.Iin, payer.Bin);
        Assert.Equal("executed", (await payer.FinishedAsync(await SubmitGostAsync(payer, good))).GetProperty("status").GetString());
        Assert.True(pkiServer.OcspRequests >= 1);

        var compromised = pki.IssueUser(payer.Iin, payer.Bin);
        revoked[compromised.Certificate.SerialNumber.TrimStart('0')] = now.AddMinutes(-10);
        var refused = await payer.FinishedAsync(await SubmitGostAsync(payer, compromised));
        Assert.Equal("certificate_revoked", refused.GetProperty("failure").GetString());

        // A responder echoing another nonce is not believed: the CRL (which lists nothing) answers.
        var other = pki.IssueUser(payer.Iin, payer.Bin);
        revoked[other.Certificate.SerialNumber.TrimStart('0')] = now.AddMinutes(-10);
        pkiServer.Ocsp = request => TestCms.OcspResponse(request, responder, app.Time.GetUtcNow(), revoked, nonce: n => [.. n.Reverse()]);
        Assert.Equal("executed", (await payer.FinishedAsync(await SubmitGostAsync(payer, other))).GetProperty("status").GetString());

        // Nor is a responder the issuer never authorised (a certificate without OCSPSigning), however well it signs.
        var impostor = pki.IssueUser(Accounts.BankData.NewIin());
        var another = pki.IssueUser(payer.Iin, payer.Bin);
        revoked[another.Certificate.SerialNumber.TrimStart('0')] = now.AddMinutes(-10);
        pkiServer.Ocsp = request => TestCms.OcspResponse(request, impostor, app.Time.GetUtcNow(), revoked);
        Assert.Equal("executed", (await payer.FinishedAsync(await SubmitGostAsync(payer, another))).GetProperty("status").GetString());

        // The CRL goes stale and the responder goes down: nothing current answers, so nothing is accepted.
        pkiServer.Ocsp = _ => null;
        app.Time.Advance(TimeSpan.FromMinutes(6));
        await payer.RenewSessionAsync();
        var unknown = await payer.FinishedAsync(await SubmitGostAsync(payer, pki.IssueUser(payer.Iin, payer.Bin)));
        Assert.Equal("revocation_unknown", unknown.GetProperty("failure").GetString());

        // Right after a failure the responder is not asked (the CRLs answer at once); a minute on it is, and, back, its answer stands in for the stale CRL.
        pkiServer.Ocsp = request => TestCms.OcspResponse(request, responder, app.Time.GetUtcNow(), revoked);
        var asked = pkiServer.OcspRequests;
        Assert.Equal("revocation_unknown", (await payer.FinishedAsync(await SubmitGostAsync(payer, pki.IssueUser(payer.Iin, payer.Bin)))).GetProperty("failure").GetString());
        Assert.Equal(asked, pkiServer.OcspRequests);
        app.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("executed", (await payer.FinishedAsync(await SubmitGostAsync(payer, pki.IssueUser(payer.Iin, payer.Bin)))).GetProperty("status").GetString());

        // A revocation is final: a CRL that lists the certificate outweighs a responder that still says good.
        var listed = pki.IssueUser(payer.Iin, payer.Bin);
        var crl = pki.Crl(app.Time.GetUtcNow().AddMinutes(-1), new Dictionary<X509Certificate2, DateTimeOffset> { [listed.Certificate] = app.Time.GetUtcNow().AddMinutes(-5) }, number: 2);
        using var ops = app.OperatorClient();
        Assert.Equal(HttpStatusCode.Created, (await ops.PostAsJsonAsync("/api/v1/ops/crls", new { crl = Convert.ToBase64String(crl) })).StatusCode);
        Assert.Equal("certificate_revoked", (await payer.FinishedAsync(await SubmitGostAsync(payer, listed))).GetProperty("failure").GetString());
    }

    [Fact]
    public async Task CrlJob_KeepsAServedCrl_AndItsDelta_CurrentAcrossTheNextUpdate()
    {
        await using var pkiServer = await PkiServer.StartAsync();
        var pki = new GostPki();
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Signatures:CrlUrls:0"] = pkiServer.CrlUrl("nca_gost.crl").ToString(),
            ["Signatures:CrlUrls:1"] = pkiServer.CrlUrl("nca_gost_d.crl").ToString(),
        });
        await TrustGostAsync(app, pki);
        using var payer = await app.PayerAsync(new TestPki());
        var job = app.Services.GetServices<IScheduledJob>().OfType<CrlRefreshJob>().Single();
        Task RunJobAsync() => job.RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), default);

        // No CRL yet: revocation is unknown. The job fetches base and delta (each valid 20 minutes, to stay within a session).
        Assert.Equal("revocation_unknown", (await payer.FinishedAsync(await SubmitGostAsync(payer, pki.IssueUser(payer.Iin, payer.Bin)))).GetProperty("failure").GetString());
        var start = app.Time.GetUtcNow();
        var validity = TimeSpan.FromMinutes(20);
        pkiServer.Crls["nca_gost.crl"] = pki.Crl(start.AddMinutes(-5), number: 1, validFor: validity);
        pkiServer.Crls["nca_gost_d.crl"] = pki.Crl(start.AddMinutes(-5), number: 2, baseNumber: 1, validFor: validity);
        await RunJobAsync();
        Assert.Equal("executed", (await payer.FinishedAsync(await SubmitGostAsync(payer, pki.IssueUser(payer.Iin, payer.Bin)))).GetProperty("status").GetString());

        // Half way to the next update the job fetches again; NCA has published a new delta revoking a certificate.
        var revokedUser = pki.IssueUser(payer.Iin, payer.Bin);
        app.Time.Advance(TimeSpan.FromMinutes(6));
        pkiServer.Crls["nca_gost.crl"] = pki.Crl(app.Time.GetUtcNow().AddMinutes(-1), number: 3, validFor: validity);
        pkiServer.Crls["nca_gost_d.crl"] = pki.Crl(app.Time.GetUtcNow().AddMinutes(-1), new Dictionary<X509Certificate2, DateTimeOffset> { [revokedUser.Certificate] = app.Time.GetUtcNow().AddMinutes(-3) }, number: 4, baseNumber: 3, validFor: validity);
        await RunJobAsync();

        // Past the first CRLs' next update: the refreshed ones are in force, the base never replaced by its delta.
        app.Time.Advance(TimeSpan.FromMinutes(10));
        await payer.RenewSessionAsync();
        Assert.Equal("executed", (await payer.FinishedAsync(await SubmitGostAsync(payer, pki.IssueUser(payer.Iin, payer.Bin)))).GetProperty("status").GetString());
        Assert.Equal("certificate_revoked", (await payer.FinishedAsync(await SubmitGostAsync(payer, revokedUser))).GetProperty("failure").GetString());
        using var ops = app.OperatorClient();
        var crls = (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/trust-anchors")).GetProperty("crls").EnumerateArray().ToList();
        Assert.Equal(2, crls.Count);
        Assert.Contains(crls, c => c.GetProperty("delta").GetBoolean() && c.GetProperty("number").GetString() == "4");
        Assert.Contains(crls, c => !c.GetProperty("delta").GetBoolean() && c.GetProperty("number").GetString() == "3");

        // NCA stops publishing: the job keeps the CRLs on file and warns operators before they go stale.
        pkiServer.Crls.Clear();
        app.Time.Advance(TimeSpan.FromMinutes(8));
        await RunJobAsync();
        var today = BusinessApi.Calendar.KazakhstanTime.LocalDate(app.Time.GetUtcNow()).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var journal = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject=system&date={today}");
        Assert.Contains(journal.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "signatures.crl_expiring");
        Assert.Contains((await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/trust-anchors")).GetProperty("crls").EnumerateArray(), c => c.GetProperty("status").GetString() == "expiring");
    }

    [Fact]
    public async Task Sandbox_RunsARealNcaTestKey_EndToEnd_AndIsRefusedInProduction()
    {
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartAsync(new Dictionary<string, string> { ["Sandbox:AcceptTestIdentifiers"] = "true" }));
        Assert.Contains("Sandbox:AcceptTestIdentifiers", refused.ToString(), StringComparison.Ordinal);

        // NCA RK's test key of a legal entity's employee with the right of signature (GOST 2015-512, valid
        // 2026-06-16 .. 2027-06-16; the app's clock is 2026-11-25). Its IIN and BIN fail the control digit.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["environment"] = "Sandbox",
            ["Sandbox:AcceptTestIdentifiers"] = "true",
            ["Signatures:RequireCrl"] = "false", // the test CRL on file (2025) is stale; a sandbox points Signatures:CrlUrls at NCA's test CRLs
        });
        using var ops = app.OperatorClient();
        foreach (var file in new[] { "ca/root_test_gost_2022.cer", "ca/nca_gost2022_test.cer" })
        {
            Assert.Equal(HttpStatusCode.Created, (await ops.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { certificate = Convert.ToBase64String(NcaMaterialTests.Certificate(file).RawData) })).StatusCode);
        }

        var key = NcaKeyStore.Open(NcaMaterialTests.Read("keys/gost2015_legal_employee_signright.p12"), "Qwerty12");
        using var payer = await app.PayerAsync(new TestPki(), customerBin: "123456789021", iin: "123456789012");
        var document = await payer.FinishedAsync(await SubmitGostAsync(payer, key));
        Assert.Equal("executed", document.GetProperty("status").GetString());
        Assert.Contains("rightOfSignature", document.GetProperty("signer").GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        var ready = await app.NewClient().GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Contains("test identifiers", ready.GetProperty("checks").GetProperty("sandbox").GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SupportStaff_VerifyNcaSamples_AtTheirSigningTime_AndSeeWhy()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Signatures:RequireCrl"] = "false" });
        using var ops = app.OperatorClient();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Documents", "nca-test", "ca")).Order(StringComparer.Ordinal))
        {
            Assert.Equal(HttpStatusCode.Created, (await ops.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { certificate = Convert.ToBase64String(TrustStore.ParseCertificates(File.ReadAllBytes(file)).Single().RawData) })).StatusCode);
        }

        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "Documents", "nca-test", "crl")).Order(StringComparer.Ordinal))
        {
            Assert.Equal(HttpStatusCode.Created, (await ops.PostAsJsonAsync("/api/v1/ops/crls", new { crl = Convert.ToBase64String(File.ReadAllBytes(file)) })).StatusCode);
        }

        var attached = NcaMaterialTests.Read("cms/individual_attached.der");
        var signedAt = SignedMessage.TryParse(attached)!.Signers[0].SigningTime!.Value;
        var report = await (await ops.PostAsJsonAsync("/api/v1/ops/signatures/verify", new { cms = Convert.ToBase64String(attached), at = signedAt })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(report.GetProperty("valid").GetBoolean(), report.ToString());
        var signer = report.GetProperty("signers")[0];
        Assert.Equal("GOST 34.310-2015-512", signer.GetProperty("algorithm").GetString());
        Assert.Equal("123456789011", signer.GetProperty("iin").GetString());
        Assert.Equal(["individual"], signer.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(3, signer.GetProperty("chain").GetArrayLength());
        Assert.Equal("crl+delta", signer.GetProperty("revocation").GetProperty("source").GetString());
        Assert.Equal("timestamp_untrusted", signer.GetProperty("timestamp").GetProperty("failure").GetString());
        Assert.All(signer.GetProperty("checks").EnumerateArray(), c => Assert.True(c.GetProperty("passed").GetBoolean(), c.ToString()));

        var detached = new
        {
            cms = Convert.ToBase64String(NcaMaterialTests.Read("cms/individual_detached.der")),
            data = Convert.ToBase64String(NcaMaterialTests.Read("cms/individual_document.txt")),
            at = signedAt,
        };
        Assert.True((await (await ops.PostAsJsonAsync("/api/v1/ops/signatures/verify", detached)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("valid").GetBoolean());

        // Judged now, the same signature's certificate has expired (a year's validity), and the report says which check failed.
        var later = await (await ops.PostAsJsonAsync("/api/v1/ops/signatures/verify", new { cms = detached.cms, data = detached.data, at = signedAt.AddYears(2) })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("certificate_expired", later.GetProperty("failure").GetString());
        Assert.Contains(later.GetProperty("signers")[0].GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "validity" && !c.GetProperty("passed").GetBoolean());

        // Bad input: not base64 is 400; bytes that are no CMS are reported, not thrown.
        Assert.Equal(HttpStatusCode.BadRequest, (await ops.PostAsJsonAsync("/api/v1/ops/signatures/verify", new { cms = "***" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ops.PostAsJsonAsync("/api/v1/ops/signatures/verify", new { data = "AA==" })).StatusCode);
        var garbage = await (await ops.PostAsJsonAsync("/api/v1/ops/signatures/verify", new { cms = Convert.ToBase64String("hello"u8.ToArray()) })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("cms_malformed", garbage.GetProperty("failure").GetString());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// a user (or their admin) reports a signing certificate compromised. From that instant documents signed with
/// it and not yet executed are refused <c>credentials_compromised</c> — new ones, and one already waiting for the
/// operational day — the report is journaled and the customer notified; no one can report another person's key.
/// </summary>
public sealed class CertificateCompromiseTests
{
    private static Task<HttpResponseMessage> ReportAsync(HttpClient client, string userId, object body) =>
        client.PostAsJsonAsync($"/api/v1/users/{userId}/certificates/compromise", body);

    [Fact]
    public async Task ReportedCertificate_RefusesNewDocuments_AndOneWaitingForTheOperationalDay()
    {
        // 20:00 local: after operational hours, so a document accepted now waits for tomorrow's opening.
        await using var app = await TestApp.StartAsync(now: new DateTimeOffset(2026, 11, 25, 20, 0, 0, KazakhstanTime.Offset));
        using var pki = new TestPki();
        await app.TrustAsync(pki);
        using var payer = await app.PayerAsync(pki);
        var waiting = await payer.SubmitOrderAsync(payer.Order(10m));
        await Eventually.GetAsync(() => payer.DocumentAsync(waiting), d => d.TryGetProperty("waitingFor", out var w) && w.GetString() == "operationalDay");

        var reported = await ReportAsync(payer.Software, payer.UserId, new { certificate = payer.Certificate.ExportCertificatePem(), reference = "ключ утерян" });
        Assert.Equal(HttpStatusCode.Created, reported.StatusCode);
        var body = await reported.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("compromised", body.GetProperty("kind").GetString());
        Assert.Equal(HttpStatusCode.OK, (await ReportAsync(payer.Software, payer.UserId, new { certificate = payer.Certificate.ExportCertificatePem() })).StatusCode);

        var refusedNow = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(10m)));
        Assert.Equal(("credentials_compromised", "credentials_compromised"), (refusedNow.GetProperty("reasonCode").GetString(), refusedNow.GetProperty("failure").GetString()));

        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 9, 0, 1, KazakhstanTime.Offset));
        var refusedWaiting = await payer.FinishedAsync(waiting);
        Assert.Equal("credentials_compromised", refusedWaiting.GetProperty("failure").GetString());

        using var ops = app.OperatorClient();
        var notices = await Eventually.GetAsync(async () => (await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{payer.CustomerId}/notifications"))
            .GetProperty("items").EnumerateArray().Where(n => n.GetProperty("kind").GetString() == "certificate_compromised").ToList(), n => n.Count == 1, what: "notice");
        Assert.Single(notices);
        var listed = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{payer.CustomerId}/certificate-blocks");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), b => b.GetProperty("kind").GetString() == "compromised");
    }

    [Fact]
    public async Task ReportBySerial_ReachesOnlyTheUsersOwnCertificates_AndAnotherPersonsKeyCannotBeReported()
    {
        await using var app = await TestApp.StartAsync();
        using var pki = new TestPki();
        await app.TrustAsync(pki);
        using var victim = await app.PayerAsync(pki);
        using var attacker = await app.PayerAsync(pki);

        // The attacker names the victim's certificate: by the certificate, refused; by its serial, it reaches only the attacker's own.
        var byCertificate = await ReportAsync(attacker.Software, attacker.UserId, new { certificate = victim.Certificate.ExportCertificatePem() });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, byCertificate.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await ReportAsync(attacker.Software, attacker.UserId, new { serialNumber = victim.Certificate.SerialNumber })).StatusCode);
        Assert.Equal("executed", (await victim.FinishedAsync(await victim.SubmitOrderAsync(victim.Order(10m)))).GetProperty("status").GetString());

        // Another customer's user is not found.
        Assert.Equal(HttpStatusCode.NotFound, (await ReportAsync(attacker.Software, victim.UserId, new { serialNumber = "01" })).StatusCode);

        // The victim reports their own by serial: it reaches their certificate, whichever CA issued it.
        Assert.Equal(HttpStatusCode.Created, (await ReportAsync(victim.Software, victim.UserId, new { serialNumber = victim.Certificate.SerialNumber })).StatusCode);
        Assert.Equal("credentials_compromised", (await victim.FinishedAsync(await victim.SubmitOrderAsync(victim.Order(10m)))).GetProperty("failure").GetString());
    }

    [Fact]
    public async Task AnAdmin_ReportsForAUser_AndBadInput_IsAClearProblem()
    {
        await using var app = await TestApp.StartAsync();
        using var pki = new TestPki();
        await app.TrustAsync(pki);
        using var payer = await app.PayerAsync(pki);
        using var admin = await app.AdminClientAsync(payer.CustomerId);
        Assert.Equal(HttpStatusCode.Created, (await ReportAsync(admin, payer.UserId, new { certificate = Convert.ToBase64String(payer.Certificate.RawData) })).StatusCode);

        foreach (var bad in new object[] { new { }, new { certificate = "x", serialNumber = "01" }, new { serialNumber = "not hex" }, new { certificate = "AAAA" } })
        {
            var response = await ReportAsync(admin, payer.UserId, bad);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        using var other = await app.PayerAsync(pki);
        Assert.Equal(HttpStatusCode.NotFound, (await ReportAsync(other.Software, payer.UserId, new { serialNumber = "01" })).StatusCode);
    }
}

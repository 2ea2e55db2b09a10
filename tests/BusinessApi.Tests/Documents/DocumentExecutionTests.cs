using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Documents;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Documents;

/// <summary>The operational day, the order of refusals in clause 5.2.8, anti-money-laundering holds, R-33 deadlines, tariffs and trust material.</summary>
public sealed class DocumentExecutionTests : IDisposable
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    private static Dictionary<string, string> AmlSettings => new()
    {
        ["Payments:AmlRules:0:Name"] = "large-transfer",
        ["Payments:AmlRules:0:Currency"] = "KZT",
        ["Payments:AmlRules:0:MinAmount"] = "5000000",
    };

    private async Task<(TestApp App, Payer Payer)> StartAsync(DateTimeOffset? now = null, Dictionary<string, string>? settings = null, decimal funds = 10_000_000m)
    {
        var app = await TestApp.StartAsync(settings, now: now);
        await app.TrustAsync(_pki);
        return (app, await app.PayerAsync(_pki, funds));
    }

    [Fact]
    public async Task ReceivedFridayEvening_WaitsForMondaysOperationalDay()
    {
        var (app, payer) = await StartAsync(new DateTimeOffset(2026, 11, 27, 19, 30, 0, Kazakhstan));
        await using var _ = app;
        using var __ = payer;
        var id = await payer.SubmitOrderAsync(payer.Order(100m));
        var waiting = await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.GetProperty("status").GetString() == "processing");
        Assert.Equal("operationalDay", waiting.GetProperty("waitingFor").GetString());
        Assert.Equal("2026-11-30", waiting.GetProperty("operationalDate").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 18, 0, 0, Kazakhstan), waiting.GetProperty("refusalDeadline").GetDateTimeOffset());
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 18, 0, 0, Kazakhstan), waiting.GetProperty("deemedExecutedAt").GetDateTimeOffset());

        // A minute before the opening: the workflow waits for exactly 09:00, and a sweep made now leaves it waiting.
        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 30, 8, 59, 0, Kazakhstan));
        var wait = await app.Services.GetRequiredService<WorkflowEngine>().GetAsync(DocumentStore.Location(id));
        Assert.Equal((WorkflowStatus.Waiting, new DateTimeOffset(2026, 11, 30, 9, 0, 0, Kazakhstan)), (wait!.Status, wait.DueAt!.Value));
        await app.Services.GetRequiredService<WorkflowSweeper>().SweepOnceAsync(CancellationToken.None);
        Assert.Equal("processing", (await payer.DocumentAsync(id)).GetProperty("status").GetString());

        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 30, 9, 0, 1, Kazakhstan));
        var done = await payer.FinishedAsync(id);
        Assert.Equal("executed", done.GetProperty("status").GetString());
        var executedAt = done.GetProperty("statusHistory")[2].GetProperty("at").GetDateTimeOffset();
        Assert.True(executedAt >= new DateTimeOffset(2026, 11, 30, 9, 0, 0, Kazakhstan));
    }

    [Fact]
    public async Task ReceivedOnAHoliday_WaitsForTheNextWorkingDay()
    {
        var (app, payer) = await StartAsync(new DateTimeOffset(2026, 12, 16, 10, 0, 0, Kazakhstan)); // Independence Day
        await using var _ = app;
        using var __ = payer;
        var id = await payer.SubmitOrderAsync(payer.Order(100m));
        var waiting = await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.GetProperty("status").GetString() == "processing");
        Assert.Equal("2026-12-17", waiting.GetProperty("operationalDate").GetString());
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 17, 9, 0, 1, Kazakhstan));
        Assert.Equal("executed", (await payer.FinishedAsync(id)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task AmlHold_WaitsForTheOperator_ReleaseExecutes_RefusalRefuses()
    {
        var (app, payer) = await StartAsync(settings: AmlSettings, funds: 20_000_000m);
        await using var _ = app;
        using var __ = payer;
        using var ops = app.OperatorClient();
        var released = await payer.SubmitOrderAsync(payer.Order(6_000_000m));
        var refused = await payer.SubmitOrderAsync(payer.Order(5_000_000m));
        var small = await payer.SubmitOrderAsync(payer.Order(4_999_999.99m));
        var smallDocument = await payer.FinishedAsync(small);
        Assert.True(smallDocument.GetProperty("status").GetString() == "executed", smallDocument.ToString());
        foreach (var id in new[] { released, refused })
        {
            var held = await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.TryGetProperty("waitingFor", out var w) && w.GetString() == "amlReview");
            Assert.Equal("processing", held.GetProperty("status").GetString());
        }

        var alerts = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/documents/alerts?kind=aml");
        Assert.Equal(new[] { released, refused }.Order(StringComparer.Ordinal), alerts.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("documentId").GetString()!).Order(StringComparer.Ordinal));

        var bad = await ops.PostAsJsonAsync($"/api/v1/ops/documents/{refused}/refusal", new { reasonCode = "whim" });
        Assert.Equal("reasonCode", (await Problem.ReadAsync(bad)).Errors.Single().Field);
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsJsonAsync($"/api/v1/ops/documents/{refused}/refusal", new { reasonCode = "aml", comment = "источник средств не подтверждён" })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsJsonAsync($"/api/v1/ops/documents/{released}/release", new { comment = "проверено" })).StatusCode);

        var refusedDocument = await payer.FinishedAsync(refused);
        Assert.Equal(("refused", "aml"), (refusedDocument.GetProperty("status").GetString(), refusedDocument.GetProperty("reasonCode").GetString()));
        Assert.Equal("executed", (await payer.FinishedAsync(released)).GetProperty("status").GetString());
        var again = await ops.PostAsJsonAsync($"/api/v1/ops/documents/{released}/release", new { });
        Assert.Equal("document_not_held", (await Problem.ReadAsync(again)).Code);
        Assert.Equal("document_not_found", (await Problem.ReadAsync(await ops.PostAsJsonAsync("/api/v1/ops/documents/doc_x/release", new { }))).Code);
        Assert.Equal(0, (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/documents/alerts?kind=aml")).GetProperty("items").GetArrayLength());
        var journal = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject={payer.CustomerId}&date=2026-11-25");
        var actions = journal.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("document.aml_hold", actions);
        Assert.Contains("document.aml_released", actions);
        Assert.Contains("document.aml_refused", actions);
    }

    [Fact]
    public async Task NotFinishedByTheNextOperationalDay_CountsAsExecuted_AndIsEscalated()
    {
        var (app, payer) = await StartAsync(settings: AmlSettings);
        await using var _ = app;
        using var __ = payer;
        using var ops = app.OperatorClient();
        var id = await payer.SubmitOrderAsync(payer.Order(6_000_000m));
        await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.TryGetProperty("waitingFor", out var w) && w.GetString() == "amlReview");
        var job = app.Services.GetServices<IScheduledJob>().OfType<DocumentDeadlineJob>().Single();

        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 17, 59, 0, Kazakhstan)); // the next operational day, before its close
        await job.RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), default);
        Assert.False((await payer.DocumentAsync(id)).GetProperty("deemedExecuted").GetBoolean());

        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 18, 0, 1, Kazakhstan));
        await job.RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), default);
        var overdue = await payer.DocumentAsync(id);
        Assert.True(overdue.GetProperty("deemedExecuted").GetBoolean());
        Assert.Equal("processing", overdue.GetProperty("status").GetString());
        var alerts = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/documents/alerts?kind=overdue");
        Assert.Contains(alerts.GetProperty("items").EnumerateArray(), a => a.GetProperty("documentId").GetString() == id);

        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsJsonAsync($"/api/v1/ops/documents/{id}/release", new { })).StatusCode);
        var done = await payer.FinishedAsync(id);
        Assert.Equal("executed", done.GetProperty("status").GetString());
        Assert.False(done.GetProperty("deemedExecuted").GetBoolean());
        Assert.Equal(0, (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/documents/alerts?kind=overdue")).GetProperty("items").GetArrayLength());
        Assert.Equal("kind", (await Problem.ReadAsync(await ops.GetAsync("/api/v1/ops/documents/alerts?kind=other"))).Errors.Single().Field);
    }

    [Fact]
    public async Task SuspendedService_ThenRestrictedAccount_ThenFunds_RefuseInThatOrder()
    {
        var (app, payer) = await StartAsync(funds: 100m);
        await using var _ = app;
        using var __ = payer;
        using var ops = app.OperatorClient();
        var arrest = await ops.PostAsJsonAsync($"/api/v1/ops/accounts/{payer.Iban}/restrictions", new { kind = "debitSuspension", reference = "Распоряжение № 1" });
        Assert.Equal(HttpStatusCode.Created, arrest.StatusCode);
        await app.Services.GetRequiredService<CustomerStore>().SetStatusAsync(payer.CustomerId, CustomerStatus.Suspended, app.Time.GetUtcNow(), default);
        var suspended = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(1_000m)));
        Assert.Equal("service_suspended", suspended.GetProperty("reasonCode").GetString());

        await app.Services.GetRequiredService<CustomerStore>().SetStatusAsync(payer.CustomerId, CustomerStatus.Active, app.Time.GetUtcNow(), default);
        var restricted = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(1_000m)));
        Assert.Equal("account_restricted", restricted.GetProperty("reasonCode").GetString());

        var restriction = (await arrest.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("restrictionId").GetString();
        Assert.Equal(HttpStatusCode.OK, (await ops.DeleteAsync($"/api/v1/ops/accounts/{payer.Iban}/restrictions/{restriction}")).StatusCode);
        var poor = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(1_000m)));
        Assert.Equal("insufficient_funds", poor.GetProperty("reasonCode").GetString());
        Assert.Equal("100.00", (await app.AccountAsync(payer.Iban)).GetProperty("balance").GetString());

        // Every refusal reached the customer as a notice.
        var feed = await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/notifications");
        Assert.Equal(3, feed.GetProperty("items").EnumerateArray().Count(n => n.GetProperty("kind").GetString() == "document_refused"));
    }

    [Fact]
    public async Task Tariffs_AreValidated_AndApplyToTheNextDocument()
    {
        var (app, payer) = await StartAsync(funds: 100_000m);
        await using var _ = app;
        using var __ = payer;
        using var ops = app.OperatorClient();
        var bad = await ops.PutAsJsonAsync("/api/v1/ops/tariffs", new
        {
            tariffs = new object[]
            {
                new { documentType = "paymentOrder", currency = "KZT", route = "interbank", @fixed = -1m, percent = 101m, min = 10m, max = 5m },
                new { documentType = "paymentOrder", currency = "KZT", route = "interbank", @fixed = 0m, percent = 0m },
                new { documentType = "letter", currency = "XXX", route = "sideways", @fixed = 0.001m, percent = 0.00001m },
            },
        });
        var problem = await Problem.ReadAsync(bad);
        Assert.Equal(
            ["tariffs[0].fixed", "tariffs[0].max", "tariffs[0].percent", "tariffs[1]", "tariffs[2].currency", "tariffs[2].documentType", "tariffs[2].percent", "tariffs[2].route"],
            problem.Errors.Select(e => e.Field).Order(StringComparer.Ordinal));

        var put = await ops.PutAsJsonAsync("/api/v1/ops/tariffs", new
        {
            tariffs = new[] { new { documentType = "paymentOrder", currency = "KZT", route = "interbank", @fixed = 100m, percent = 0.5m, min = 150m, max = 1_000m } },
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var small = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(1_000m))); // 100 + 5 → min 150
        Assert.Equal("150.00", small.GetProperty("paymentOrder").GetProperty("commission").GetString());
        var large = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(90_000m))); // 100 + 450 = 550
        Assert.Equal("550.00", large.GetProperty("paymentOrder").GetProperty("commission").GetString());
        Assert.Equal("8300.00", (await app.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
        Assert.Equal(100m, (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/tariffs")).GetProperty("tariffs")[0].GetProperty("fixed").GetDecimal());
    }

    [Fact]
    public async Task TrustMaterial_BadUploads_AreRejected()
    {
        await using var app = await TestApp.StartAsync();
        using var ops = app.OperatorClient();
        using var user = _pki.IssueUser(Accounts.BankData.NewIin());
        Assert.Equal("not_a_ca_certificate", (await Problem.ReadAsync(await ops.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { certificate = user.ExportCertificatePem() }))).Body.GetProperty("detail").GetString()!.Split(' ')[^1].TrimEnd('.'));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await ops.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { certificate = "garbage" })).StatusCode);
        Assert.Equal("certificate", (await Problem.ReadAsync(await ops.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { }))).Errors.Single().Field);
        // A CRL of a CA that is not a trust anchor is refused.
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await ops.PostAsJsonAsync("/api/v1/ops/crls", new { crl = TestPki.CrlPem(_pki.Crl(app.Time.GetUtcNow())) })).StatusCode);
        await app.TrustAsync(_pki);
        var older = await ops.PostAsJsonAsync("/api/v1/ops/crls", new { crl = TestPki.CrlPem(_pki.Crl(app.Time.GetUtcNow().AddDays(-3))) });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, older.StatusCode);
        var listed = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/trust-anchors");
        Assert.Equal(2, listed.GetProperty("certificates").GetArrayLength());
        Assert.Equal(1, listed.GetProperty("crls").GetArrayLength());
    }

    [Fact]
    public async Task Archive_IsWriteOnce_AndDeletableOnlyAfterFiveYears()
    {
        await using var app = await TestApp.StartAsync(now: TimeProvider.System.GetUtcNow()); // the clock starts at the storage service's time
        var archive = app.Services.GetRequiredService<DocumentArchive>();
        var path = "cus_00000000000000000000/2026/11/25/doc_test/original.p7s";
        var (hash, existing) = await archive.WriteOnceAsync(path, [1, 2, 3], default);
        Assert.Null(existing);
        Assert.Equal(hash, (await archive.WriteOnceAsync(path, [1, 2, 3], default)).Sha256); // the same bytes again: nothing changes
        Assert.NotNull((await archive.WriteOnceAsync(path, [9], default)).Existing); // other bytes: the archived ones stand
        await Assert.ThrowsAsync<ArchiveRetentionException>(() => archive.OverwriteAsync(path, [9], default));
        await Assert.ThrowsAsync<ArchiveIntegrityException>(() => archive.ReadAsync(path, DocumentArchive.Sha256([9]), default));

        // Retention runs from the blob's creation time, which the storage service sets from the real clock:
        // the fake clock is placed relative to that instant, never to a fixed date, so the test holds on any day.
        var retainUntil = await archive.RetainUntilAsync(path, default);
        Assert.InRange(retainUntil - DocumentArchive.Retention, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1));
        Assert.True(DocumentArchive.Retention >= TimeSpan.FromDays((5 * 365) + 1), "five years, a leap day included");
        app.Time.SetUtcNow(retainUntil - TimeSpan.FromDays(1));
        await Assert.ThrowsAsync<ArchiveRetentionException>(() => archive.DeleteAsync(path, default));
        app.Time.SetUtcNow(retainUntil + TimeSpan.FromSeconds(1));
        await archive.DeleteAsync(path, default);
        Assert.Null(await archive.ReadAsync(path, hash, default));
    }
}

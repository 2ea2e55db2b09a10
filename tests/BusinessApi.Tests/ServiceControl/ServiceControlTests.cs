using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Notifications;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.ServiceControl;

/// <summary>Suspension and resumption, incident reports, maintenance, termination, and the deadlines of their notices.</summary>
public sealed class ServiceControlTests : IDisposable
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    private static async Task<JsonElement> NoticeAsync(TestApp app, string customerId, string kind)
    {
        using var ops = app.OperatorClient();
        var found = await Eventually.GetAsync(async () =>
        {
            var feed = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customerId}/notifications");
            return feed.GetProperty("items").EnumerateArray().Where(n => n.GetProperty("kind").GetString() == kind).ToList();
        }, n => n.Count > 0, what: $"notice {kind}");
        return found[^1];
    }

    private static async Task RunDeadlinesAsync(TestApp app) =>
        await app.Services.GetServices<IScheduledJob>().OfType<NoticeDeadlineJob>().Single().RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), default);

    private static async Task<IReadOnlyList<string>> OverdueAsync(TestApp app)
    {
        using var ops = app.OperatorClient();
        var alerts = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/notices/alerts?kind=overdue");
        return [.. alerts.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("noticeKind").GetString()!)];
    }

    [Fact]
    public async Task SuspensionForBreach_KeepsReads_RefusesDocuments_NoticeDueNextWorkingDay_AndResumes()
    {
        // Friday afternoon: the notice is due by the end of Monday (the next working day).
        await using var app = await TestApp.StartAsync(now: new DateTimeOffset(2026, 11, 27, 15, 0, 0, Kazakhstan));
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki);
        using var ops = app.OperatorClient();
        var suspended = await ops.PostAsJsonAsync($"/api/v1/ops/customers/{payer.CustomerId}/suspension", new { reason = "breach", comment = "п. 5.2.4 а" });
        Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        Assert.Equal("suspended", (await suspended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        var notice = await NoticeAsync(app, payer.CustomerId, "service_suspended");
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, Kazakhstan), notice.GetProperty("deliverBy").GetDateTimeOffset());

        // Reads go on; a payment is received and refused with service_suspended.
        Assert.Equal(HttpStatusCode.OK, (await payer.Software.GetAsync("/api/v1/accounts")).StatusCode);
        var refused = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(100m)));
        Assert.Equal("service_suspended", refused.GetProperty("statusHistory").EnumerateArray().Last().GetProperty("reasonCode").GetString());

        Assert.Equal("already_suspended", (await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/customers/{payer.CustomerId}/suspension", new { reason = "technicalFault" }))).Code);
        var bad = await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/customers/{payer.CustomerId}/suspension", new { reason = "whim" }));
        Assert.Contains(bad.Errors, e => e.Field == "reason" && e.Code == "unknown_suspension_reason");
        Assert.Equal(HttpStatusCode.NotFound, (await ops.PostAsJsonAsync("/api/v1/ops/customers/cus_00000000000000000000/suspension", new { reason = "breach" })).StatusCode);

        // Unread by Monday 24:00: escalated.
        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 30, 23, 59, 0, Kazakhstan));
        await RunDeadlinesAsync(app);
        Assert.DoesNotContain("service_suspended", await OverdueAsync(app));
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 0, 0, 1, Kazakhstan));
        await RunDeadlinesAsync(app);
        Assert.Contains("service_suspended", await OverdueAsync(app));

        // Resumed with a notice; payments run again.
        var resumed = await ops.DeleteAsync($"/api/v1/ops/customers/{payer.CustomerId}/suspension?comment=fixed");
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        Assert.Equal("active", (await resumed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await NoticeAsync(app, payer.CustomerId, "service_resumed");
        Assert.Equal("not_suspended", (await Problem.ReadAsync(await ops.DeleteAsync($"/api/v1/ops/customers/{payer.CustomerId}/suspension"))).Code);
    }

    [Fact]
    public async Task SuspensionForUnauthorizedAccess_StopsReadsToo_ButNotTheChannel()
    {
        await using var app = await TestApp.StartAsync();
        var customerId = await app.CreateCustomerAsync();
        using var client = await app.SoftwareClientAsync(customerId, ["accounts.read", "notifications.read"]);
        using var ops = app.OperatorClient();
        Assert.Equal(HttpStatusCode.OK, (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/suspension",
            new { reason = "unauthorizedAccess", discoveredAt = app.Time.GetUtcNow().AddHours(-1) })).StatusCode);
        var refused = await client.GetAsync("/api/v1/accounts");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("service_suspended", (await Problem.ReadAsync(refused)).Code);
        var feed = await client.GetFromJsonAsync<JsonElement>("/api/v1/notifications");
        Assert.Contains(feed.GetProperty("items").EnumerateArray(), n => n.GetProperty("kind").GetString() == "service_suspended");
        var future = await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/suspension", new { reason = "breach", discoveredAt = app.Time.GetUtcNow().AddHours(1) });
        Assert.Contains((await Problem.ReadAsync(future)).Errors, e => e.Field == "discoveredAt");
    }

    [Fact]
    public async Task IncidentReport_BlocksEveryPairAndSession_AtOnce_AndAlertsOperators()
    {
        await using var app = await TestApp.StartAsync();
        var customerId = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customerId, ["accounts.read", "notifications.read"]);
        var token = await app.TokenAsync(clientId, secret);
        using var software = app.BearerClient(token);
        var (login, _) = await app.CreateUserAsync(customerId, isAdmin: true, functions: ["view", "manageCredentials"]);
        using var admin = app.BearerClient(await app.SignInAsync(login, CustomerKit.AdminPassword));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/v1/credentials")).StatusCode);

        var bad = await software.PostAsJsonAsync("/api/v1/security-incidents", new { kind = "rumour" });
        Assert.Contains((await Problem.ReadAsync(bad)).Errors, e => e.Field == "kind");

        var reported = await software.PostAsJsonAsync("/api/v1/security-incidents", new { kind = "suspicion", description = "unknown logins at night" });
        Assert.Equal(HttpStatusCode.Accepted, reported.StatusCode);
        var incident = await reported.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, incident.GetProperty("credentialsBlocked").GetInt32());
        Assert.True(incident.GetProperty("usersSignedOut").GetInt32() >= 1);

        // At once: the token, the admin's session and the pair are all dead.
        Assert.Equal(HttpStatusCode.Unauthorized, (await software.GetAsync("/api/v1/accounts")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.GetAsync("/api/v1/credentials")).StatusCode);
        var again = await app.RequestTokenAsync(clientId, secret);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("unauthorized_client", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var ops = app.OperatorClient();
        var incidents = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/security-incidents");
        Assert.Contains(incidents.GetProperty("items").EnumerateArray(), i => i.GetProperty("incidentId").GetString() == incident.GetProperty("incidentId").GetString());
        var customer = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customerId}");
        Assert.Equal("suspended", customer.GetProperty("status").GetString());
        Assert.Equal("securityIncident", customer.GetProperty("suspension").GetProperty("reason").GetString());
        await NoticeAsync(app, customerId, "security_incident_received");

        // Signing in again works, but only the channel answers until the bank resumes the services.
        using var admin2 = app.BearerClient(await app.SignInAsync(login, CustomerKit.AdminPassword));
        Assert.Equal("service_suspended", (await Problem.ReadAsync(await admin2.GetAsync("/api/v1/credentials"))).Code);
        Assert.Equal(HttpStatusCode.OK, (await ops.DeleteAsync($"/api/v1/ops/customers/{customerId}/suspension")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin2.GetAsync("/api/v1/credentials")).StatusCode);
    }

    [Fact]
    public async Task PlannedMaintenance_NeedsNoticeByTheWorkingDayBefore_AndReachesEveryCustomer()
    {
        await using var app = await TestApp.StartAsync(now: new DateTimeOffset(2026, 11, 28, 11, 0, 0, Kazakhstan)); // Saturday
        var first = await app.CreateCustomerAsync();
        var second = await app.CreateCustomerAsync("ТОО Второй");
        using var ops = app.OperatorClient();

        // Monday's works: the working day before was Friday, already past.
        var late = await ops.PostAsJsonAsync("/api/v1/ops/maintenance", new
        {
            startsAt = new DateTimeOffset(2026, 11, 30, 2, 0, 0, Kazakhstan), endsAt = new DateTimeOffset(2026, 11, 30, 4, 0, 0, Kazakhstan), planned = true, message = "Обновление",
        });
        var problem = await Problem.ReadAsync(late);
        Assert.Equal("maintenance_notice_too_late", problem.Code);
        Assert.Equal("2026-12-01", problem.Body.GetProperty("earliestStartDate").GetString());

        var bad = await Problem.ReadAsync(await ops.PostAsJsonAsync("/api/v1/ops/maintenance", new
        {
            startsAt = new DateTimeOffset(2026, 12, 1, 4, 0, 0, Kazakhstan), endsAt = new DateTimeOffset(2026, 12, 1, 2, 0, 0, Kazakhstan), planned = true, message = "",
        }));
        Assert.Contains(bad.Errors, e => e.Field == "endsAt" && e.Code == "not_after_start");
        Assert.Contains(bad.Errors, e => e.Field == "message");

        // Tuesday's works announced on Saturday: due by the end of Monday.
        var ok = await ops.PostAsJsonAsync("/api/v1/ops/maintenance", new
        {
            startsAt = new DateTimeOffset(2026, 12, 1, 2, 0, 0, Kazakhstan), endsAt = new DateTimeOffset(2026, 12, 1, 4, 0, 0, Kazakhstan), planned = true, message = "Обновление",
        });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var window = await ok.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, Kazakhstan), window.GetProperty("noticeDeliverBy").GetDateTimeOffset());
        foreach (var customer in new[] { first, second })
        {
            var notice = await Eventually.GetAsync(async () =>
            {
                var feed = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customer}/notifications");
                return feed.GetProperty("items").EnumerateArray().Where(n => n.GetProperty("kind").GetString() == "maintenance_planned").ToList();
            }, n => n.Count == 1, what: "maintenance notice for " + customer);
            Assert.Equal(window.GetProperty("noticeDeliverBy").GetDateTimeOffset(), notice[0].GetProperty("deliverBy").GetDateTimeOffset());
        }

        // A retry with the same Idempotency-Key announces nothing twice.
        using (var firstTry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ops/maintenance"))
        using (var retry = new HttpRequestMessage(HttpMethod.Post, "/api/v1/ops/maintenance"))
        {
            var body = new { startsAt = new DateTimeOffset(2026, 12, 2, 2, 0, 0, Kazakhstan), endsAt = new DateTimeOffset(2026, 12, 2, 3, 0, 0, Kazakhstan), planned = true, message = "Второе окно" };
            firstTry.Content = JsonContent.Create(body);
            firstTry.Headers.Add("Idempotency-Key", "mnt-retry-1");
            retry.Content = JsonContent.Create(body);
            retry.Headers.Add("Idempotency-Key", "mnt-retry-1");
            var a = await (await ops.SendAsync(firstTry)).Content.ReadFromJsonAsync<JsonElement>();
            var b = await (await ops.SendAsync(retry)).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(a.GetProperty("maintenanceId").GetString(), b.GetProperty("maintenanceId").GetString());
        }

        var day = await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/operational-day");
        Assert.Equal(2, day.GetProperty("maintenance").GetArrayLength());
        var shown = day.GetProperty("maintenance")[0];
        Assert.True(shown.GetProperty("planned").GetBoolean());
        Assert.False(day.GetProperty("underMaintenance").GetBoolean());

        // Emergency works: announced after the fact, no deadline.
        var emergency = await ops.PostAsJsonAsync("/api/v1/ops/maintenance", new
        {
            startsAt = app.Time.GetUtcNow().AddHours(-1), endsAt = app.Time.GetUtcNow().AddHours(1), planned = false, message = "Восстановление",
        });
        Assert.Equal(HttpStatusCode.Created, emergency.StatusCode);
        var emergencyNotice = await Eventually.GetAsync(async () =>
        {
            var feed = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{first}/notifications");
            return feed.GetProperty("items").EnumerateArray().Where(n => n.GetProperty("kind").GetString() == "maintenance_emergency").ToList();
        }, n => n.Count == 1, what: "emergency notice");
        Assert.False(emergencyNotice[0].TryGetProperty("deliverBy", out var none) && none.ValueKind != JsonValueKind.Null);
        Assert.True((await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/operational-day")).GetProperty("underMaintenance").GetBoolean());

        // Nobody read the planned notice by Monday 24:00: escalated for both customers.
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 0, 0, 1, Kazakhstan));
        await RunDeadlinesAsync(app);
        Assert.Equal(2, (await OverdueAsync(app)).Count(k => k == "maintenance_planned"));
    }

    [Fact]
    public async Task Termination_NeedsThreeWorkingDays_StopsClientSoftwareFromItsDate_AndKeepsPortalReads()
    {
        await using var app = await TestApp.StartAsync(); // Wednesday 25 November
        var customerId = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customerId, ["accounts.read", "documents.read"]);
        var (login, _) = await app.CreateUserAsync(customerId, isAdmin: true, functions: ["view", "manageCredentials"]);
        using var admin = app.BearerClient(await app.SignInAsync(login, CustomerKit.AdminPassword));

        // the request is signed with the admin's EDS; plain JSON, or a user who is not an admin, changes nothing.
        await app.TrustAsync(_pki);
        using var ops0 = app.OperatorClient();
        var bin = (await ops0.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customerId}")).GetProperty("bin").GetString()!;
        using var certificate = _pki.IssueUser("061211600012", bin);
        HttpContent Signed(object request) => SignedInstructionKit.SignedBody(SignedInstructionKit.Merge(request, "terminationRequest", null), certificate, app.Time.GetUtcNow());
        Assert.Equal("signature_required", (await Problem.ReadAsync(await admin.PostAsJsonAsync("/api/v1/termination", new { effectiveDate = "2026-11-30" }))).Code);
        var (clerkLogin, _) = await app.CreateUserAsync(customerId, functions: ["view", "sign"]);
        using var clerk = app.BearerClient(await app.SignInAsync(clerkLogin, CustomerKit.AdminPassword));
        Assert.Equal(HttpStatusCode.Forbidden, (await clerk.PostAsync("/api/v1/termination", Signed(new { effectiveDate = "2026-11-30" }))).StatusCode);

        var early = await Problem.ReadAsync(await admin.PostAsync("/api/v1/termination", Signed(new { effectiveDate = "2026-11-27" })));
        Assert.Equal("termination_notice_too_short", early.Code);
        Assert.Equal("2026-11-30", early.Body.GetProperty("earliestEffectiveDate").GetString()); // Thu, Fri, Mon
        Assert.Contains((await Problem.ReadAsync(await admin.PostAsync("/api/v1/termination", Signed(new { })))).Errors, e => e.Field == "effectiveDate");

        var scheduled = await admin.PostAsync("/api/v1/termination", Signed(new { effectiveDate = "2026-11-30", reason = "переходим на другой банк" }));
        Assert.Equal(HttpStatusCode.OK, scheduled.StatusCode);
        Assert.Equal("scheduled", (await scheduled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal("termination_scheduled", (await Problem.ReadAsync(await admin.PostAsync("/api/v1/termination", Signed(new { effectiveDate = "2026-12-01" })))).Code);
        await NoticeAsync(app, customerId, "termination_scheduled");

        // The last minute before: client software still served.
        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 29, 23, 59, 0, Kazakhstan));
        using (var software = app.BearerClient(await app.TokenAsync(clientId, secret)))
        {
            Assert.Equal(HttpStatusCode.OK, (await software.GetAsync("/api/v1/accounts")).StatusCode);
            app.Time.Advance(TimeSpan.FromMinutes(1));
            var refused = await software.GetAsync("/api/v1/accounts");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var problem = await Problem.ReadAsync(refused);
            Assert.Equal("service_terminated", problem.Code);
            Assert.Equal("2026-11-30", problem.Body.GetProperty("effectiveDate").GetString());
        }

        // The workflow makes it final: pairs revoked, customer terminated, notice sent.
        using var ops = app.OperatorClient();
        await Eventually.GetAsync(() => ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customerId}"),
            c => c.GetProperty("status").GetString() == "terminated", what: "terminated");
        await Eventually.GetAsync(async () => (await app.RequestTokenAsync(clientId, secret)).StatusCode, s => s == HttpStatusCode.BadRequest, what: "pair revoked");
        await NoticeAsync(app, customerId, "service_terminated");

        // People still read in Internet-banking (the archive period), but change nothing.
        using var reader = app.BearerClient(await app.SignInAsync(login, CustomerKit.AdminPassword));
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/v1/credentials")).StatusCode);
        Assert.Equal("service_terminated", (await Problem.ReadAsync(await reader.PostAsJsonAsync("/api/v1/credentials", new { name = "X", scopes = new[] { "accounts.read" } }))).Code);
        Assert.Equal("termination_effective", (await Problem.ReadAsync(await reader.DeleteAsync("/api/v1/termination"))).Code);
    }

    [Fact]
    public async Task BankTermination_CountsWorkingDaysAcrossTheHoliday_AndCanBeWithdrawn()
    {
        await using var app = await TestApp.StartAsync(now: new DateTimeOffset(2026, 12, 14, 12, 0, 0, Kazakhstan)); // Monday
        var customerId = await app.CreateCustomerAsync();
        using var ops = app.OperatorClient();
        var early = await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/termination", new { effectiveDate = "2026-12-17" }));
        Assert.Equal("2026-12-18", early.Body.GetProperty("earliestEffectiveDate").GetString()); // Tue 15, (Wed 16 holiday), Thu 17, Fri 18

        Assert.Equal(HttpStatusCode.OK, (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/termination", new { effectiveDate = "2026-12-18", reason = "5.2.7" })).StatusCode);
        var notice = await NoticeAsync(app, customerId, "termination_scheduled");
        Assert.Equal(new DateTimeOffset(2026, 12, 15, 0, 0, 0, Kazakhstan), notice.GetProperty("deliverBy").GetDateTimeOffset()); // 3 working days ahead: by Monday's end

        var withdrawn = await ops.DeleteAsync($"/api/v1/ops/customers/{customerId}/termination");
        Assert.Equal("withdrawn", (await withdrawn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await NoticeAsync(app, customerId, "termination_cancelled");
        Assert.Equal(HttpStatusCode.NotFound, (await ops.DeleteAsync($"/api/v1/ops/customers/{customerId}/termination")).StatusCode);

        // The withdrawn workflow ends without terminating anything.
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 18, 0, 0, 1, Kazakhstan));
        var customer = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customerId}");
        Assert.Equal("active", customer.GetProperty("status").GetString());
    }

    [Fact]
    public async Task RefusalNotice_UnreadByTheEndOfTheOperationalDay_IsEscalated()
    {
        await using var app = await TestApp.StartAsync();
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, funds: 10m);
        var refused = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(100m)));
        Assert.Equal("insufficient_funds", refused.GetProperty("statusHistory").EnumerateArray().Last().GetProperty("reasonCode").GetString());
        var notice = await NoticeAsync(app, payer.CustomerId, "document_refused");
        Assert.Equal(refused.GetProperty("refusalDeadline").GetDateTimeOffset(), notice.GetProperty("deliverBy").GetDateTimeOffset());

        app.Time.SetUtcNow(refused.GetProperty("refusalDeadline").GetDateTimeOffset().AddSeconds(1));
        await RunDeadlinesAsync(app);
        Assert.Contains("document_refused", await OverdueAsync(app));
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Platform.Approvals;
using BusinessApi.Platform.Security;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform.Approvals;

/// <summary>
/// Four eyes: an action that moves money or trust waits as a pending approval until another person holding
/// the role approves it; it then happens exactly once, whoever races and whatever crashes.
/// </summary>
public sealed class FourEyesTests : IAsyncLifetime
{
    private TestIdentityProvider _idp = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync();
        _app = await TestApp.StartAsync(new Dictionary<string, string>(_idp.Settings) { ["Operations:FourEyes"] = "true" });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public void TheActionsTheTermsNameNeedFourEyes()
    {
        var gated = _app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.Metadata.GetMetadata<FourEyesMetadata>() is not null)
            .Select(e => e.Metadata.GetMetadata<FourEyesMetadata>()!.Action)
            .Order(StringComparer.Ordinal);

        Assert.Equal(
            ["account.cash_in", "account.restriction_lift", "customer.resume", "customer.termination_by_bank", "exchange_rates.publish", "penalty.decision", "refund.decision", "trust.anchor_add", "trust.anchor_remove"],
            gated);
    }

    [Fact]
    public async Task CashIn_WaitsForASecondPerson_ThenHappensOnce()
    {
        var iban = await AccountAsync();
        using var maker = Person("oid-maker", "Maker", OperatorRoles.Payments, OperatorRoles.Read);
        using var checker = Person("oid-checker", "Checker", OperatorRoles.Payments, OperatorRoles.Read);
        using var reader = Person("oid-reader", "Reader", OperatorRoles.Read);
        using var breakGlass = _app.OperatorClient();

        var requested = await CreditAsync(maker, iban, 2500m, "cash-order-1");

        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var pending = await requested.Content.ReadFromJsonAsync<JsonElement>();
        var approvalId = pending.GetProperty("approvalId").GetString()!;
        Assert.Equal(("pending", "account.cash_in", "staff:oid-maker"),
            (pending.GetProperty("status").GetString(), pending.GetProperty("action").GetString(), pending.GetProperty("requestedBy").GetString()));
        Assert.Equal($"/api/v1/ops/approvals/{approvalId}", requested.Headers.Location!.OriginalString);
        Assert.Equal(2500m, pending.GetProperty("request").GetProperty("amount").GetDecimal()); // the checker sees what they approve
        Assert.Equal("0.00", await BalanceAsync(iban));
        var listed = await reader.GetFromJsonAsync<JsonElement>("/api/v1/ops/approvals?status=pending");
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), a => a.GetProperty("approvalId").GetString() == approvalId);

        Assert.Equal("four_eyes_required", (await ProblemOf(maker.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null))).Code);
        Assert.Equal("break_glass_cannot_approve", (await ProblemOf(breakGlass.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null))).Code);
        var noRole = await ProblemOf(reader.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null));
        Assert.Equal(("role_required", OperatorRoles.Payments), (noRole.Code, noRole.Body.GetProperty("role").GetString()));
        Assert.Equal("0.00", await BalanceAsync(iban));

        var approved = await checker.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null);

        Assert.Equal(HttpStatusCode.Accepted, approved.StatusCode);
        var done = await ExecutedAsync(reader, approvalId);
        Assert.Equal(("executed", "staff:oid-checker", 201), (done.GetProperty("status").GetString(), done.GetProperty("decidedBy").GetString(),
            done.GetProperty("result").GetProperty("status").GetInt32()));
        Assert.Equal("2500.00", done.GetProperty("result").GetProperty("body").GetProperty("amount").GetString());
        Assert.Equal("2500.00", await BalanceAsync(iban));

        // The approver's retry answers the same; nobody can approve it again.
        Assert.Equal(HttpStatusCode.OK, (await checker.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null)).StatusCode);
        using var third = Person("oid-third", "Third", OperatorRoles.Payments, OperatorRoles.Read);
        Assert.Equal("approval_not_pending", (await ProblemOf(third.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null))).Code);
        Assert.Equal("2500.00", await BalanceAsync(iban));

        // The journal names both people: the request, the approval, and the credit as the requester's with the approval's id.
        var actions = await JournalAsync(reader, "system");
        Assert.Contains(actions, e => e.Action == "approval.requested" && e.Actor == "staff:oid-maker" && e.ActorName == "Maker");
        Assert.Contains(actions, e => e.Action == "approval.approved" && e.Actor == "staff:oid-checker" && e.ActorName == "Checker");
        Assert.Contains(actions, e => e.Action == "approval.executed" && e.Actor == "staff:oid-checker");
    }

    [Fact]
    public async Task TheEffectRunTwice_ChangesNothingTheSecondTime()
    {
        // A crash after the effect and before the step's commit runs the step again: the replay must be a no-op.
        var iban = await AccountAsync();
        using var maker = Person("oid-m", "M", OperatorRoles.Payments);
        using var checker = Person("oid-c", "C", OperatorRoles.Payments, OperatorRoles.Read);
        var approvalId = (await (await CreditAsync(maker, iban, 700m, "k-twice")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;
        await checker.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null);
        await ExecutedAsync(checker, approvalId);
        var approval = (await _app.Services.GetRequiredService<ApprovalStore>().GetAsync(approvalId, CancellationToken.None))!;
        Assert.True(approval.Body.Length > 0, $"stored body {approval.Body.Length}, content type {approval.ContentType}, result {approval.ResultBody}");

        var (status, body) = await _app.Services.GetRequiredService<ApprovedRequestExecutor>().ExecuteAsync(approval with { Status = ApprovalStatus.Approved }, CancellationToken.None);

        Assert.True(status == StatusCodes.Status200OK, body);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("alreadyPosted").GetBoolean());
        Assert.Equal("700.00", await BalanceAsync(iban));
    }

    [Fact]
    public async Task TwoApproversRace_TheEffectHappensOnce()
    {
        var iban = await AccountAsync();
        using var maker = Person("oid-maker", "Maker", OperatorRoles.Payments);
        var approvers = Enumerable.Range(0, 6).Select(i => Person($"oid-approver-{i}", $"Approver {i}", OperatorRoles.Payments, OperatorRoles.Read)).ToList();
        var approvalId = (await (await CreditAsync(maker, iban, 1000m, "race")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;

        var answers = await Task.WhenAll(approvers.SelectMany(a => new[] { a, a }).Select(a => a.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null)));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Accepted, HttpStatusCode.OK, HttpStatusCode.Conflict }));
        await ExecutedAsync(approvers[0], approvalId);
        Assert.Equal("1000.00", await BalanceAsync(iban));
        approvers.ForEach(a => a.Dispose());
    }

    [Fact]
    public async Task Rejected_OrExpired_NothingHappens()
    {
        var iban = await AccountAsync();
        using var maker = Person("oid-maker", "Maker", OperatorRoles.Payments);
        using var checker = Person("oid-checker", "Checker", OperatorRoles.Payments, OperatorRoles.Read);
        var rejectedId = (await (await CreditAsync(maker, iban, 10m, "rej")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;
        var expiringId = (await (await CreditAsync(maker, iban, 20m, "exp")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;

        var rejected = await checker.PostAsJsonAsync($"/api/v1/ops/approvals/{rejectedId}/reject", new { reason = "no cash order" });
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        var rejection = await rejected.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("rejected", "no cash order"), (rejection.GetProperty("status").GetString(), rejection.GetProperty("reason").GetString()));
        Assert.Equal("approval_not_pending", (await ProblemOf(checker.PostAsync($"/api/v1/ops/approvals/{rejectedId}/approve", null))).Code);

        _app.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        using var fresh = Person("oid-checker", "Checker", OperatorRoles.Payments, OperatorRoles.Read); // a token of the new hour
        var expired = await ProblemOf(fresh.PostAsync($"/api/v1/ops/approvals/{expiringId}/approve", null));
        Assert.Equal((HttpStatusCode.Conflict, "approval_expired"), (expired.Status, expired.Code));
        var pending = await fresh.GetFromJsonAsync<JsonElement>("/api/v1/ops/approvals?status=pending");
        Assert.DoesNotContain(pending.GetProperty("items").EnumerateArray(), a => a.GetProperty("approvalId").GetString() is var id && (id == expiringId || id == rejectedId));
        Assert.Equal("expired", (await fresh.GetFromJsonAsync<JsonElement>($"/api/v1/ops/approvals/{expiringId}")).GetProperty("status").GetString());
        Assert.Equal("0.00", await BalanceAsync(iban));
    }

    [Fact]
    public async Task BadInput_IsRefusedAtOnce_AndNoApprovalIsMade()
    {
        var iban = await AccountAsync();
        using var maker = Person("oid-maker", "Maker", OperatorRoles.Payments, OperatorRoles.Read);

        var invalid = await ProblemOf(CreditAsync(maker, iban, -5m, "neg"));
        var unknownApproval = await ProblemOf(maker.PostAsync("/api/v1/ops/approvals/apr_202612_00000000000000000000/approve", null));
        var malformedId = await ProblemOf(maker.GetAsync("/api/v1/ops/approvals/not-an-id"));
        var badStatus = await ProblemOf(maker.GetAsync("/api/v1/ops/approvals?status=maybe"));

        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (invalid.Status, invalid.Code));
        Assert.Equal(HttpStatusCode.NotFound, unknownApproval.Status);
        Assert.Equal(HttpStatusCode.NotFound, malformedId.Status);
        Assert.Equal("validation_failed", badStatus.Code);
        var all = await maker.GetFromJsonAsync<JsonElement>("/api/v1/ops/approvals");
        Assert.Empty(all.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task TheRequesterMayWithdraw_ButNotApprove()
    {
        var iban = await AccountAsync();
        using var maker = Person("oid-maker", "Maker", OperatorRoles.Payments, OperatorRoles.Read);
        var approvalId = (await (await CreditAsync(maker, iban, 10m, "withdraw")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;

        var withdrawn = await maker.PostAsJsonAsync($"/api/v1/ops/approvals/{approvalId}/reject", new { reason = "typo in amount" });

        Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        Assert.Equal("staff:oid-maker", (await withdrawn.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("decidedBy").GetString());
    }

    [Fact]
    public async Task TrustAnchors_AreAddedAndRemoved_OnlyWithASecondPerson()
    {
        using var pki = new TestPki();
        using var maker = Person("oid-trust-maker", "Trust Maker", OperatorRoles.Trust, OperatorRoles.Read);
        using var checker = Person("oid-trust-checker", "Trust Checker", OperatorRoles.Trust, OperatorRoles.Read);
        using var payments = Person("oid-payments", "Payments", OperatorRoles.Payments, OperatorRoles.Read);
        async Task<bool> TrustedAsync() => (await checker.GetFromJsonAsync<JsonElement>("/api/v1/ops/trust-anchors"))
            .GetProperty("certificates").EnumerateArray().Any(a => a.GetProperty("thumbprint").GetString() == pki.Root.Thumbprint);

        var add = await maker.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { certificate = pki.Root.ExportCertificatePem() });
        var addId = (await add.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;
        Assert.False(await TrustedAsync());
        Assert.Equal("role_required", (await ProblemOf(payments.PostAsync($"/api/v1/ops/approvals/{addId}/approve", null))).Code);
        await checker.PostAsync($"/api/v1/ops/approvals/{addId}/approve", null);
        Assert.Equal(201, (await ExecutedAsync(checker, addId)).GetProperty("result").GetProperty("status").GetInt32());
        Assert.True(await TrustedAsync());

        var remove = await checker.DeleteAsync($"/api/v1/ops/trust-anchors/{pki.Root.Thumbprint}");
        Assert.Equal(HttpStatusCode.Accepted, remove.StatusCode);
        var removeId = (await remove.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;
        Assert.True(await TrustedAsync());
        await maker.PostAsync($"/api/v1/ops/approvals/{removeId}/approve", null);
        Assert.Equal(200, (await ExecutedAsync(maker, removeId)).GetProperty("result").GetProperty("status").GetInt32());
        Assert.False(await TrustedAsync());
    }

    private HttpClient Person(string oid, string name, params string[] roles) => _idp.Client(_app, oid, name, roles);

    private async Task<string> AccountAsync()
    {
        var customer = await _app.CreateCustomerAsync();
        return await _app.OpenAccountAsync(customer, 0m);
    }

    private static Task<HttpResponseMessage> CreditAsync(HttpClient client, string iban, decimal amount, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/accounts/{iban}/credits") { Content = JsonContent.Create(new { amount, reference = "cash order" }) };
        request.Headers.Add("Idempotency-Key", key + "-" + iban);
        return client.SendAsync(request);
    }

    private async Task<string> BalanceAsync(string iban) => (await _app.AccountAsync(iban)).GetProperty("balance").GetString()!;

    private static Task<JsonElement> ExecutedAsync(HttpClient client, string approvalId) =>
        Eventually.GetAsync(() => client.GetFromJsonAsync<JsonElement>($"/api/v1/ops/approvals/{approvalId}"),
            a => a.GetProperty("status").GetString() is "executed" or "failed", what: "approval carried out");

    private static async Task<Problem> ProblemOf(Task<HttpResponseMessage> call) => await Problem.ReadAsync(await call);

    private async Task<IReadOnlyList<(string Action, string Actor, string? ActorName)>> JournalAsync(HttpClient client, string subject)
    {
        var day = KazakhstanTime.LocalDate(_app.Time.GetUtcNow());
        var page = await client.GetFromJsonAsync<JsonElement>(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/api/v1/ops/audit?subject={subject}&date={day:yyyy-MM-dd}&pageSize=500"));
        return [.. page.GetProperty("entries").EnumerateArray().Select(e => (e.GetProperty("action").GetString()!, e.GetProperty("actor").GetString()!,
            e.TryGetProperty("actorName", out var n) ? n.GetString() : null))];
    }
}

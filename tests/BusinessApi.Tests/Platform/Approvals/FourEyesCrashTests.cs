using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Platform.Security;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform.Approvals;

/// <summary>
/// Four eyes under the fault harness: the app that takes the approval dies between the approval and the
/// effect; the approver retries on another instance, which finishes the approved workflow. The cash-in
/// happens exactly once.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class FourEyesCrashTests
{
    [Fact]
    public async Task AppDiesBetweenApprovalAndEffect_ApproveIsRetried_AndTheCreditHappensOnce()
    {
        await using var idp = await TestIdentityProvider.StartAsync();
        var settings = new Dictionary<string, string>(idp.Settings)
        {
            ["Operations:FourEyes"] = "true",
            ["Workflows:Worker"] = "false", // this instance sets up and reads; the processes do the work
        };
        await using var setup = await TestApp.StartAsync(settings, realTime: true);
        var customer = await setup.CreateCustomerAsync();
        var iban = await setup.OpenAccountAsync(customer, 0m);

        // The maker asks for the credit (any instance; it only stores the request).
        using var maker = Staff(setup.BaseAddress, idp, "oid-maker", "Maker", OperatorRoles.Payments, OperatorRoles.Read);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/accounts/{iban}/credits") { Content = JsonContent.Create(new { amount = 4200m, reference = "cash order 7" }) };
        request.Headers.Add("Idempotency-Key", "crash-" + iban);
        var requested = await maker.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var approvalId = (await requested.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("approvalId").GetString()!;

        (string, string)[] processSettings =
        [
            .. idp.Settings.Select(s => (s.Key, s.Value)),
            ("Operations:FourEyes", "true"),
            ("Operations:ApiKeys", setup.OperatorKey),
            ("Secrets:LocalPath", Path.Combine(Path.GetTempPath(), "business-api-tests", setup.TablePrefix, "secrets.json")),
            ("Workflows:OrphanGraceSeconds", "5"),
        ];

        // The first instance dies at its first storage call that names the account: after the approval and the
        // workflow's start committed, before the credit's first read.
        Assert.True(Iban.TryParse(iban, out var parsed));
        var ledgerAccount = LedgerAccountId.ForIban(parsed).Value;
        using var doomed = HostProcess.Start(setup.TablePrefix, [.. processSettings, ("Faults:Enabled", "true"), ("Faults:UriContains", ledgerAccount), ("Faults:KillAfterCalls", "1")]);
        await doomed.WaitUntilHealthyAsync();
        using var checkerOnDoomed = Staff(doomed.BaseAddress, idp, "oid-checker", "Checker", OperatorRoles.Payments, OperatorRoles.Read);
        string? answer = null;
        try
        {
            var approve = await checkerOnDoomed.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null);
            answer = $"{approve.StatusCode} {await approve.Content.ReadAsStringAsync()}";
        }
        catch (HttpRequestException)
        {
            // the answer may be lost with the process
        }

        await Eventually.GetAsync(() => Task.FromResult(doomed.HasExited), exited => exited, what: $"the first instance dies (approve answered {answer})");
        Assert.Equal("0.00", await BalanceAsync(setup, iban));

        // The approver retries on a healthy instance: their own approval answers as it stands; that instance's
        // sweep takes over the approved workflow whose lease ran out, and carries it out.
        using var healthy = HostProcess.StartFunctions(setup.TablePrefix, processSettings);
        await healthy.WaitUntilHealthyAsync();
        using var checker = Staff(healthy.BaseAddress, idp, "oid-checker", "Checker", OperatorRoles.Payments, OperatorRoles.Read);
        var retried = await checker.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null);
        Assert.Contains(retried.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Accepted });

        var done = await Eventually.GetAsync(() => checker.GetFromJsonAsync<JsonElement>($"/api/v1/ops/approvals/{approvalId}"),
            a => a.GetProperty("status").GetString() is "executed" or "failed", timeout: TimeSpan.FromSeconds(60), what: "approval carried out after the crash");
        Assert.Equal(("executed", 201), (done.GetProperty("status").GetString(), done.GetProperty("result").GetProperty("status").GetInt32()));
        Assert.Equal("4200.00", await BalanceAsync(setup, iban));

        // A second person's approval now changes nothing.
        using var another = Staff(healthy.BaseAddress, idp, "oid-other", "Other", OperatorRoles.Payments, OperatorRoles.Read);
        Assert.Equal(HttpStatusCode.Conflict, (await another.PostAsync($"/api/v1/ops/approvals/{approvalId}/approve", null)).StatusCode);
        using var ops = setup.OperatorClient();
        var today = KazakhstanTime.LocalDate(DateTimeOffset.UtcNow);
        var statement = await ops.GetFromJsonAsync<JsonElement>(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"/api/v1/ops/accounts/{iban}/statement?from={today.AddDays(-1):yyyy-MM-dd}&to={today:yyyy-MM-dd}")); // around midnight too
        Assert.Single(statement.GetProperty("entries").EnumerateArray());
        Assert.Equal("4200.00", await BalanceAsync(setup, iban));
    }

    // The processes run on the real clock, so their tokens are minted on it.
    private static HttpClient Staff(Uri address, TestIdentityProvider idp, string oid, string name, params string[] roles) =>
        idp.Client(address, DateTimeOffset.UtcNow, oid, name, roles);

    private static async Task<string> BalanceAsync(TestApp app, string iban) => (await app.AccountAsync(iban)).GetProperty("balance").GetString()!;
}

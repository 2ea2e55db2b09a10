using BusinessApi.Accounts.Settlement;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Platform.Storage;
using BusinessApi.Refunds;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Refunds;

/// <summary>Error reports and refund notices (R-50..R-52) and penalty claims .</summary>
public sealed class RefundsTests : IDisposable
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    private static async Task<decimal> BalanceAsync(TestApp app, string iban) =>
        decimal.Parse((await app.AccountAsync(iban)).GetProperty("balance").GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    private static BankCalendar Calendar() => new(CalendarRules.Default, DefaultCalendars.All, []);

    [Theory]
    [InlineData("2026-11-25", "2026-11-30", false)] // Wednesday: Thu, Fri, Mon
    [InlineData("2026-11-25", "2026-12-01", true)]
    [InlineData("2026-12-14", "2026-12-18", false)] // Monday: Tue, (Wed 16 holiday), Thu, Fri
    [InlineData("2026-12-14", "2026-12-19", true)]
    public void ThreeOperationalDaysAfterDiscovery(string discovered, string today, bool tooLate)
    {
        var code = ErrorReportRules.Check(Calendar(), DateOnly.Parse("2026-11-20", System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(discovered, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(tooLate ? RefundRefusals.ReportTooLate : null, code);
    }

    [Theory]
    [InlineData("2023-11-25", "2026-11-25", false)]
    [InlineData("2023-11-24", "2026-11-25", true)]
    [InlineData("2024-02-29", "2027-02-28", false)]
    [InlineData("2024-02-29", "2027-03-01", true)]
    public void ThreeYearsAfterExecution(string executed, string today, bool expired)
    {
        var code = ErrorReportRules.Check(Calendar(), DateOnly.Parse(executed, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture).AddDays(-1), DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expired ? RefundRefusals.ReportPeriodExpired : null, code);
    }

    [Theory]
    [InlineData("150000.00", 1, "15.00")]
    [InlineData("150000.00", 3, "45.00")]
    [InlineData("50.00", 1, "0.01")]     // 0.005 rounds half away from zero
    [InlineData("49.99", 1, "0.00")]     // 0.004999 rounds to nothing
    [InlineData("999999999999999.99", 30, "3000000000000.00")] // 2,999,999,999,999.9999997
    [InlineData("123.45", 10, "0.12")]   // 0.12345
    public void PenaltyArithmetic(string amount, int days, string penalty) =>
        Assert.Equal(decimal.Parse(penalty, System.Globalization.CultureInfo.InvariantCulture),
            PenaltyRules.Compute(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), days));

    [Fact]
    public async Task ErrorReport_OnAnInternalPayment_NotifiesTheBeneficiary_AndReturnsTheMoney()
    {
        await using var app = await TestApp.StartAsync();
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, funds: 1_000m);
        var beneficiaryCustomer = await app.CreateCustomerAsync("ТОО Получатель");
        var beneficiaryIban = await app.OpenAccountAsync(beneficiaryCustomer, 0m);
        var executed = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(300m, beneficiaryIban)));
        Assert.Equal("executed", executed.GetProperty("status").GetString());
        var documentId = executed.GetProperty("documentId").GetString()!;

        // Bad input first: nothing is started.
        foreach (var (body, field) in new (object Body, string Field)[]
        {
            (new { kind = "typo", discoveredOn = "2026-11-25", details = new[] { new { field = "amount" } } }, "kind"),
            (new { kind = "erroneous", discoveredOn = "2026-11-26", details = new[] { new { field = "amount" } } }, "discoveredOn"),
            (new { kind = "erroneous", discoveredOn = "2026-11-24", details = new[] { new { field = "amount" } } }, "discoveredOn"),
            (new { kind = "erroneous", discoveredOn = "2026-11-25", details = Array.Empty<object>() }, "details"),
        })
        {
            var bad = await payer.ReportErrorAsync(documentId, body);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains((await Problem.ReadAsync(bad)).Errors, e => e.Field == field);
        }

        var reported = await payer.ReportErrorAsync(documentId, new
        {
            kind = "erroneous",
            discoveredOn = "2026-11-25",
            details = new[] { new { field = "beneficiary.iban", expected = "KZ00…", actual = beneficiaryIban } },
        });
        Assert.Equal(HttpStatusCode.Accepted, reported.StatusCode);
        var report = await reported.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 18, 0, 0, Kazakhstan), report.GetProperty("noticeDeliverBy").GetDateTimeOffset());

        // Clause 8.2: the beneficiary is notified; its money stays until the bank decides (8.2.1: "in the order provided by law").
        var waiting = await Eventually.GetAsync(async () => (await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{documentId}/error-reports")).GetProperty("items")[0],
            r => r.GetProperty("status").GetString() == "awaitingDecision", what: "awaiting the bank's decision");
        Assert.Equal(300m, await BalanceAsync(app, beneficiaryIban));
        using var ops = app.OperatorClient();
        var beneficiaryFeed = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{beneficiaryCustomer}/notifications");
        var notice = beneficiaryFeed.GetProperty("items").EnumerateArray().Single(n => n.GetProperty("kind").GetString() == "refund_requested");
        Assert.Equal(report.GetProperty("noticeDeliverBy").GetDateTimeOffset(), notice.GetProperty("deliverBy").GetDateTimeOffset());
        var pending = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/refunds?status=pending");
        var refundId = pending.GetProperty("items").EnumerateArray().Single(r => r.GetProperty("documentId").GetString() == documentId).GetProperty("refundId").GetString();

        Assert.Equal(HttpStatusCode.BadRequest, (await ops.PostAsJsonAsync($"/api/v1/ops/refunds/{refundId}/decision", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsJsonAsync($"/api/v1/ops/refunds/{refundId}/decision", new { approve = true, comment = "решение банка" })).StatusCode);
        var final = await Eventually.GetAsync(async () => (await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{documentId}/error-reports")).GetProperty("items")[0],
            r => r.GetProperty("status").GetString() == "returned", what: "returned");
        Assert.Equal(["received", "noticeSent", "awaitingDecision", "returned"], final.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status").GetString()));
        Assert.Equal("300.00", final.GetProperty("returnedAmount").GetString());
        Assert.Equal(0m, await BalanceAsync(app, beneficiaryIban));
        Assert.Equal(1_000m, await BalanceAsync(app, payer.Iban)); // the default tariff for internal payments is free
        var decided = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{beneficiaryCustomer}/notifications");
        Assert.Contains(decided.GetProperty("items").EnumerateArray(), n => n.GetProperty("kind").GetString() == "refund_decided");

        // The signed report is archived beside its document, byte for byte.
        Assert.Matches("^[0-9a-f]{64}$", final.GetProperty("reportSha256").GetString());

        var again = await payer.ReportErrorAsync(documentId, new { kind = "erroneous", discoveredOn = "2026-11-25", details = new[] { new { field = "amount" } } });
        Assert.Equal("error_report_exists", (await Problem.ReadAsync(again)).Code);
    }

    [Fact]
    public async Task ErrorReport_RejectedByTheBank_MovesNoMoney_AndUnsignedOrForeignReportsChangeNothing()
    {
        await using var app = await TestApp.StartAsync();
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, funds: 1_000m);
        var beneficiaryCustomer = await app.CreateCustomerAsync("ТОО Получатель");
        var beneficiaryIban = await app.OpenAccountAsync(beneficiaryCustomer, 0m);
        var documentId = (await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(300m, beneficiaryIban)))).GetProperty("documentId").GetString()!;
        var report = new { kind = "unauthorized", discoveredOn = "2026-11-25", details = new[] { new { field = "document" } } };

        // Plain JSON, as before R-12: refused, nothing started.
        var plain = await Problem.ReadAsync(await payer.Software.PostAsJsonAsync($"/api/v1/documents/{documentId}/error-reports", report));
        Assert.Equal((HttpStatusCode.BadRequest, "signature_required"), (plain.Status, plain.Code));

        // Signed by someone else's certificate, or signed for another document or another kind of instruction.
        var stranger = _pki.IssueUser(Accounts.BankData.NewIin());
        var foreign = await Problem.ReadAsync(await payer.Software.PostAsync($"/api/v1/documents/{documentId}/error-reports",
            SignedInstructionKit.SignedBody(SignedInstructionKit.Merge(report, "errorReport", documentId), stranger, app.Time.GetUtcNow())));
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "signature_rejected"), (foreign.Status, foreign.Code));
        Assert.Equal("signer_mismatch", foreign.Body.GetProperty("failure").GetString());
        var otherDocument = await Problem.ReadAsync(await payer.Software.PostAsync($"/api/v1/documents/{documentId}/error-reports",
            payer.SignedBody(SignedInstructionKit.Merge(report, "errorReport", "doc_somethingelse"))));
        Assert.Contains(otherDocument.Errors, e => e.Field == "documentId" && e.Code == "instruction_document_mismatch");
        var otherType = await Problem.ReadAsync(await payer.Software.PostAsync($"/api/v1/documents/{documentId}/error-reports",
            payer.SignedBody(SignedInstructionKit.Merge(report, "penaltyClaim", documentId))));
        Assert.Contains(otherType.Errors, e => e.Field == "type" && e.Code == "instruction_type_mismatch");
        using var ops = app.OperatorClient();
        Assert.DoesNotContain((await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/refunds")).GetProperty("items").EnumerateArray(),
            r => r.GetProperty("documentId").GetString() == documentId);

        // A signed report the bank rejects: nothing moves, both parties learn it.
        Assert.Equal(HttpStatusCode.Accepted, (await payer.ReportErrorAsync(documentId, report)).StatusCode);
        await Eventually.GetAsync(() => ErrorReports.GetCaseAsync(app.Services.GetRequiredService<BusinessApi.Platform.Workflows.WorkflowEngine>(), documentId, default),
            r => r?.Status == RefundStatuses.AwaitingDecision, what: "awaiting the bank's decision");
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsJsonAsync($"/api/v1/ops/refunds/{documentId}/decision", new { approve = false, comment = "санкция подтверждена" })).StatusCode);
        var closed = await Eventually.GetAsync(() => ErrorReports.GetCaseAsync(app.Services.GetRequiredService<BusinessApi.Platform.Workflows.WorkflowEngine>(), documentId, default),
            r => r?.Status == RefundStatuses.NotReturned, what: "not returned");
        Assert.Null(closed!.ReturnedAmount);
        Assert.Equal(300m, await BalanceAsync(app, beneficiaryIban));
        Assert.Equal(700m, await BalanceAsync(app, payer.Iban));
        Assert.Contains((await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{beneficiaryCustomer}/notifications")).GetProperty("items").EnumerateArray(),
            n => n.GetProperty("kind").GetString() == "refund_decided");
        var journal = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject={payer.CustomerId}&date=2026-11-25");
        Assert.Contains(journal.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "refund.decided");
    }

    [Fact]
    public async Task ErrorReport_RefusedForUnexecutedDocuments_AndAfterThreeOperationalDays()
    {
        await using var app = await TestApp.StartAsync();
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, funds: 1_000m);
        var refused = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(5_000m)));
        var body = new { kind = "unauthorized", discoveredOn = "2026-11-25", details = new[] { new { field = "amount" } } };
        Assert.Equal("document_not_executed", (await Problem.ReadAsync(await payer.ReportErrorAsync(refused.GetProperty("documentId").GetString()!, body))).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await payer.ReportErrorAsync("doc_00000000000000000000000000000000000000000", body)).StatusCode);

        var executed = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(10m)));
        var documentId = executed.GetProperty("documentId").GetString()!;

        // Discovered Wednesday: Monday is the last day (Thu, Fri, Mon); Tuesday is too late.
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 0, 0, Kazakhstan));
        using var late = app.BearerClient(await app.SignInAsync(payer.Login, CustomerKit.AdminPassword, await app.TokenAsync(payer.ClientId, payer.Secret)));
        var tooLate = await Problem.ReadAsync(await payer.ReportErrorAsync(documentId, body, late));
        Assert.Equal("report_too_late", tooLate.Code);
        Assert.Equal("2026-11-30", tooLate.Body.GetProperty("lastDay").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await payer.ReportErrorAsync(documentId, body with { discoveredOn = "2026-11-26" }, late)).StatusCode);
    }

    [Theory]
    [InlineData("2026-11-27T19:30:00+05:00", "2026-11-30T09:00:00+05:00", "2026-11-30T18:00:00+05:00")] // Friday evening → Monday
    [InlineData("2026-12-15T19:00:00+05:00", "2026-12-17T09:00:00+05:00", "2026-12-17T18:00:00+05:00")] // Tuesday evening → Thursday (16th a holiday)
    public async Task ErrorReport_ToAnotherBank_SendsTheReturnNotice_OnTheNextOperationalDay(string reportAt, string sentAt, string deliverBy)
    {
        var executedAt = DateTimeOffset.Parse(reportAt, System.Globalization.CultureInfo.InvariantCulture).Date.AddHours(10);
        await using var app = await TestApp.StartAsync(now: new DateTimeOffset(executedAt, Kazakhstan));
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, funds: 1_000m);
        var executed = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(200m)));
        var documentId = executed.GetProperty("documentId").GetString()!;
        var day = DateOnly.FromDateTime(executedAt).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        app.Time.SetUtcNow(DateTimeOffset.Parse(reportAt, System.Globalization.CultureInfo.InvariantCulture));
        using var client = app.BearerClient(await app.SignInAsync(payer.Login, CustomerKit.AdminPassword, await app.TokenAsync(payer.ClientId, payer.Secret)));
        var reported = await payer.ReportErrorAsync(documentId, new { kind = "unauthorized", discoveredOn = day, details = new[] { new { field = "document" } } }, client);
        Assert.Equal(HttpStatusCode.Accepted, reported.StatusCode);
        Assert.Equal(DateTimeOffset.Parse(deliverBy, System.Globalization.CultureInfo.InvariantCulture),
            (await reported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("noticeDeliverBy").GetDateTimeOffset());
        await Eventually.GetAsync(() => ErrorReports.GetCaseAsync(app.Services.GetRequiredService<BusinessApi.Platform.Workflows.WorkflowEngine>(), documentId, default),
            r => r?.Status == RefundStatuses.WaitingForOperationalDay, what: "waiting for the operational day");

        app.Time.Advance(DateTimeOffset.Parse(sentAt, System.Globalization.CultureInfo.InvariantCulture) - app.Time.GetUtcNow());
        using var ops = app.OperatorClient();
        var sent = await Eventually.GetAsync(async () => (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/error-reports?status=noticeSent")).GetProperty("items")
            .EnumerateArray().Where(r => r.GetProperty("documentId").GetString() == documentId).ToList(), r => r.Count == 1, what: "notice sent");
        Assert.Equal(DateTimeOffset.Parse(sentAt, System.Globalization.CultureInfo.InvariantCulture), sent[0].GetProperty("noticeSentAt").GetDateTimeOffset());

        // The settlement adapter's file: one message to the beneficiary's bank.
        var container = app.Services.GetRequiredService<StorageResources>().Container(BlobSettlementGateway.ContainerName);
        var blobs = new List<string>();
        await foreach (var blob in container.GetBlobsAsync())
        {
            blobs.Add(blob.Name);
        }

        var messageId = sent[0].GetProperty("settlementMessageId").GetString();
        var path = Assert.Single(blobs, b => b.EndsWith(messageId + ".json", StringComparison.Ordinal));
        var message = JsonDocument.Parse((await container.GetBlobClient(path).DownloadContentAsync()).Value.Content.ToString()).RootElement;
        Assert.Equal("HSBKKZKX", message.GetProperty("beneficiaryBic").GetString());
        Assert.Equal("200.00", message.GetProperty("amount").GetDecimal().ToString("F2", System.Globalization.CultureInfo.InvariantCulture));

        // The other bank returns the money: the payer is credited from the settlement account.
        var before = await BalanceAsync(app, payer.Iban);
        Assert.Equal(HttpStatusCode.BadRequest, (await ops.PostAsJsonAsync($"/api/v1/ops/error-reports/{documentId}/outcome", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsJsonAsync($"/api/v1/ops/error-reports/{documentId}/outcome", new { returned = true, comment = "MT return" })).StatusCode);
        var closed = await Eventually.GetAsync(() => ErrorReports.GetCaseAsync(app.Services.GetRequiredService<BusinessApi.Platform.Workflows.WorkflowEngine>(), documentId, default),
            r => r?.Status == RefundStatuses.Returned, what: "returned");
        Assert.Equal(200m, closed!.ReturnedAmount);
        Assert.Equal(before + 200m, await BalanceAsync(app, payer.Iban));
        Assert.Equal("error_report_not_awaiting_outcome", (await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/error-reports/{documentId}/outcome", new { returned = true }))).Code);
    }

    [Fact]
    public async Task PenaltyClaim_ForALateExecution_IsComputedApprovedAndCredited()
    {
        await using var late = await LateExecution.StartAsync(_pki);
        var (nextDay, payer, documentId) = (late.NextDay, late.Payer, late.DocumentId);
        Assert.Equal("2026-11-25", late.Executed.GetProperty("operationalDate").GetString());

        var claimed = await payer.ClaimPenaltyAsync(documentId);
        Assert.Equal(HttpStatusCode.Created, claimed.StatusCode);
        var claim = await claimed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, claim.GetProperty("daysLate").GetInt32());
        Assert.Equal("15.00", claim.GetProperty("penalty").GetString());
        Assert.Equal("pending", claim.GetProperty("status").GetString());
        Assert.Equal("penalty_claim_exists", (await Problem.ReadAsync(await payer.ClaimPenaltyAsync(documentId))).Code);

        using var ops = nextDay.OperatorClient();
        var pending = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/penalty-claims?status=pending");
        Assert.Contains(pending.GetProperty("items").EnumerateArray(), c => c.GetProperty("documentId").GetString() == documentId);
        var before = await BalanceAsync(nextDay, payer.Iban);
        Assert.Equal(HttpStatusCode.BadRequest, (await ops.PostAsJsonAsync($"/api/v1/ops/penalty-claims/{documentId}/decision", new { })).StatusCode);
        var paid = await ops.PostAsJsonAsync($"/api/v1/ops/penalty-claims/{documentId}/decision", new { approve = true, comment = "п. 7.4" });
        Assert.Equal(HttpStatusCode.OK, paid.StatusCode);
        Assert.Equal("paid", (await paid.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(before + 15m, await BalanceAsync(nextDay, payer.Iban));
        Assert.Equal("penalty_claim_decided", (await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/penalty-claims/{documentId}/decision", new { approve = true }))).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await ops.PostAsJsonAsync("/api/v1/ops/penalty-claims/doc_x/decision", new { approve = true })).StatusCode);
    }

    [Fact]
    public async Task PenaltyClaim_ApprovedAndRejectedAtOnce_EndsOneWay_AndTheLedgerAgrees()
    {
        await using var late = await LateExecution.StartAsync(_pki);
        var (nextDay, payer, documentId) = (late.NextDay, late.Payer, late.DocumentId);
        using var ops = nextDay.OperatorClient();
        Assert.Equal(HttpStatusCode.Created, (await payer.ClaimPenaltyAsync(documentId)).StatusCode);
        var before = await BalanceAsync(nextDay, payer.Iban);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            ops.PostAsJsonAsync($"/api/v1/ops/penalty-claims/{documentId}/decision", new { approve = i % 2 == 0 })));

        Assert.Single(decisions, d => d.StatusCode == HttpStatusCode.OK);
        Assert.All(decisions.Where(d => d.StatusCode != HttpStatusCode.OK), d => Assert.Equal(HttpStatusCode.Conflict, d.StatusCode));
        var claim = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{documentId}/penalty-claims");
        var status = claim.GetProperty("status").GetString();
        Assert.Equal(status == "paid" ? before + 15m : before, await BalanceAsync(nextDay, payer.Iban));
        Assert.Contains(status, new[] { "paid", "rejected" });
    }

    [Fact]
    public async Task PenaltyClaim_IsRefused_ForOnTimeAndRefusedDocuments()
    {
        await using var app = await TestApp.StartAsync();
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, funds: 100m);
        var onTime = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(10m)));
        var refused = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(500m)));
        foreach (var (document, reason) in new[] { (onTime, "execution_not_late"), (refused, "document_not_executed") })
        {
            var problem = await Problem.ReadAsync(await payer.ClaimPenaltyAsync(document.GetProperty("documentId").GetString()!));
            Assert.Equal("penalty_not_applicable", problem.Code);
            Assert.Equal(reason, problem.Body.GetProperty("reasonCode").GetString());
        }
    }

    /// <summary>
    /// A document executed one calendar day late: the first instance takes it in but processes nothing (its worker
    /// is off); a second instance started the next day executes it, with money enough all along.
    /// </summary>
    private sealed class LateExecution : IAsyncDisposable
    {
        private TestApp _app = null!;

        public TestApp NextDay { get; private set; } = null!;

        public Payer Payer { get; private set; } = null!;

        public string DocumentId { get; private set; } = null!;

        public JsonElement Executed { get; private set; }

        public static async Task<LateExecution> StartAsync(TestPki pki)
        {
            var late = new LateExecution { _app = await TestApp.StartAsync(new Dictionary<string, string> { ["Workflows:Worker"] = "false" }) };
            await late._app.TrustAsync(pki);
            late.Payer = await late._app.PayerAsync(pki, funds: 1_000_000m);
            late.DocumentId = await late.Payer.SubmitOrderAsync(late.Payer.Order(150_000m));
            late.NextDay = await TestApp.StartAsync(new Dictionary<string, string>
            {
                ["Storage:TablePrefix"] = late._app.TablePrefix,
                ["Operations:ApiKeys"] = late._app.OperatorKey,
                ["Secrets:LocalPath"] = Path.Combine(Path.GetTempPath(), "business-api-tests", late._app.TablePrefix, "secrets.json"),
            }, now: new DateTimeOffset(2026, 11, 26, 10, 0, 0, Kazakhstan));
            using var ops = late.NextDay.OperatorClient();
            late.Executed = await Eventually.GetAsync(async () => await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/documents/{late.DocumentId}"),
                d => d.GetProperty("status").GetString() == "executed", TimeSpan.FromSeconds(60), "executed the next day");
            return late;
        }

        public async ValueTask DisposeAsync()
        {
            Payer?.Dispose();
            if (NextDay is not null)
            {
                await NextDay.DisposeAsync();
            }

            await _app.DisposeAsync();
        }
    }
}

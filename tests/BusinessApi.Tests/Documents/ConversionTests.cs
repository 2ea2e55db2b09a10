using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using BusinessApi.Calendar;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using BusinessApi.Tests.Accounts;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Documents;

/// <summary>Exchange rates and conversion orders through HTTP, on the bank's rates of the operation date.</summary>
public sealed class ConversionTests(PaymentAppFixture fixture) : IClassFixture<PaymentAppFixture>
{
    private TestApp App => fixture.App;

    private string Today => KazakhstanTime.LocalDate(App.Time.GetUtcNow()).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Rates_ArePublishedInVersions_ReadByClients_AndACorrectionIsJournaledBesideWhatItReplaced()
    {
        using var ops = App.OperatorClient("en");
        var date = "2026-10-01";
        Assert.Equal(HttpStatusCode.NotFound, (await ops.GetAsync($"/api/v1/ops/exchange-rates/{date}/versions")).StatusCode);
        var first = await ops.PutAsJsonAsync($"/api/v1/ops/exchange-rates/{date}", new { rates = new[] { new { currency = "USD", buy = 470.5m, sell = 475.25m } } });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var corrected = await ops.PutAsJsonAsync($"/api/v1/ops/exchange-rates/{date}",
            new { rates = new object[] { new { currency = "USD", buy = "471.00", sell = "476.00" }, new { currency = "EUR", buy = 510m, sell = 520m } } });
        var sheet = await corrected.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, sheet.GetProperty("version").GetInt32());

        using var payer = await App.PayerAsync(fixture.Pki);
        var read = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/exchange-rates?date={date}");
        Assert.Equal(2, read.GetProperty("version").GetInt32());
        var rates = read.GetProperty("rates").EnumerateArray().ToDictionary(r => r.GetProperty("currency").GetString()!);
        Assert.Equal("471.00", rates["USD"].GetProperty("buy").GetString());
        Assert.Equal("520.00", rates["EUR"].GetProperty("sell").GetString());
        var missing = await payer.Software.GetAsync("/api/v1/exchange-rates?date=2026-01-02");
        Assert.Equal("rate_unavailable", (await ProblemAsync(missing, HttpStatusCode.NotFound)).Code);

        // Both versions stay readable, and the journal shows the correction with what it replaced.
        var versions = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/exchange-rates/{date}/versions");
        Assert.Equal(2, versions.GetProperty("versions").GetArrayLength());
        var journal = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject=system&date={Today}&pageSize=1000");
        var entry = journal.GetProperty("entries").EnumerateArray()
            .Single(e => e.GetProperty("action").GetString() == "exchange_rates.corrected" && e.GetProperty("target").GetString() == "exchange-rates/" + date);
        Assert.Equal("1", entry.GetProperty("details").GetProperty("supersedes").GetString());
        Assert.Contains("475.25", entry.GetProperty("details").GetProperty("previousRates").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"rates":[]}""", "rates", "required")]
    [InlineData("""{"rates":[{"currency":"KZT","buy":1,"sell":1}]}""", "rates[0].currency", "rate_currency_invalid")]
    [InlineData("""{"rates":[{"currency":"USD","buy":480,"sell":475}]}""", "rates[0].buy", "rate_buy_above_sell")]
    [InlineData("""{"rates":[{"currency":"USD","buy":470.12345,"sell":475}]}""", "rates[0].buy", "rate_invalid")]
    [InlineData("""{"rates":[{"currency":"USD","buy":-1,"sell":475}]}""", "rates[0].buy", "rate_invalid")]
    [InlineData("""{"rates":[{"currency":"USD","buy":470,"sell":475},{"currency":"USD","buy":470,"sell":475}]}""", "rates[1].currency", "rate_duplicate")]
    public async Task Rates_BadInput_IsAProblem_AndPublishesNothing(string body, string field, string code)
    {
        using var ops = App.OperatorClient("en");
        var response = await ops.PutAsync("/api/v1/ops/exchange-rates/2026-09-01", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(problem.Errors, e => e.Field == field && e.Code == code);
        Assert.Equal(HttpStatusCode.NotFound, (await ops.GetAsync("/api/v1/ops/exchange-rates/2026-09-01/versions")).StatusCode);
    }

    [Fact]
    public async Task Conversions_OnEitherSide_AtTheRateOfTheDay_WithTheFee_RoundedHalfAwayFromZero_AndBalancedPerCurrency()
    {
        var version = await PublishTodayAsync(("USD", 470.25m, 475m), ("EUR", 510m, 520m));
        await TariffsAsync();
        using var payer = await App.PayerAsync(fixture.Pki, funds: 1_000_000m);
        var usd = await App.OpenAccountAsync(payer.CustomerId, 500m, "USD");
        var eur = await App.OpenAccountAsync(payer.CustomerId, 0m, "EUR");

        // Buy 1,000.00 USD (the credit side fixed): 475,000.00 KZT at the sell rate, and 0.2% fee on that, 950.00 KZT.
        var bought = await payer.FinishedAsync(await payer.SubmitOrderAsync(Conversion(payer.Iban, usd, "1000.00", "USD")));
        Assert.Equal("executed", bought.GetProperty("status").GetString());
        var sides = bought.GetProperty("conversionOrder").GetProperty("conversion");
        Assert.Equal("475000.00", sides.GetProperty("debitAmount").GetString());
        Assert.Equal("1000.00", sides.GetProperty("creditAmount").GetString());
        Assert.Equal(version, sides.GetProperty("rateVersion").GetInt32());
        Assert.Equal("950.00", bought.GetProperty("conversionOrder").GetProperty("commission").GetString());
        Assert.Equal(1_000_000m - 475_000m - 950m, await BalanceAsync(payer.Iban));
        Assert.Equal(1_500m, await BalanceAsync(usd));

        // Sell 0.10 USD (the debit side fixed) at 470.25: 47.025 KZT, half away from zero → 47.03 (banker's rounding would give 47.02).
        var sold = await payer.FinishedAsync(await payer.SubmitOrderAsync(Conversion(usd, payer.Iban, "0.10", "USD")));
        Assert.Equal("47.03", sold.GetProperty("conversionOrder").GetProperty("conversion").GetProperty("creditAmount").GetString());
        Assert.Equal("0.01", sold.GetProperty("conversionOrder").GetProperty("commission").GetString()); // the USD tariff's minimum

        // Cross: 100.00 USD → EUR through the tenge: 100 × 470.25 / 520 = 90.4326… → 90.43 EUR.
        var cross = await payer.FinishedAsync(await payer.SubmitOrderAsync(Conversion(usd, eur, "100.00", "USD")));
        Assert.Equal("90.43", cross.GetProperty("conversionOrder").GetProperty("conversion").GetProperty("creditAmount").GetString());
        Assert.Equal("233", cross.GetProperty("conversionOrder").GetProperty("purposeCode").GetString());
        Assert.Equal(90.43m, await BalanceAsync(eur));
        Assert.Equal(1_500m - 0.10m - 0.01m - 100m - 0.20m, await BalanceAsync(usd));

        // More than the account holds (with the fee): refused, nothing moved.
        var refused = await payer.FinishedAsync(await payer.SubmitOrderAsync(Conversion(eur, payer.Iban, "90.44", "EUR")));
        Assert.Equal("insufficient_funds", refused.GetProperty("reasonCode").GetString());
        Assert.Equal(90.43m, await BalanceAsync(eur));

        // Every currency's books balance on their own.
        await AssertTrialBalanceAsync();

        // The statement of the USD account names the conversion's KNP, number and counterparty (the customer itself).
        var statement = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{usd}/statement?from={Today}&to={Today}");
        var line = statement.GetProperty("entries").EnumerateArray().First(e => e.GetProperty("kind").GetString() == "conversion");
        Assert.Equal("213", line.GetProperty("purposeCode").GetString());
        Assert.Equal(payer.Bin, line.GetProperty("counterparty").GetProperty("idn").GetString());
        Assert.Equal(payer.Iban, line.GetProperty("counterparty").GetProperty("iban").GetString());
    }

    [Fact]
    public async Task Conversion_BadInput_IsRefusedWithItsFields_AndADraftGetsThemAtOnce()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        var usd = await App.OpenAccountAsync(payer.CustomerId, 0m, "USD");
        var kzt2 = await App.OpenAccountAsync(payer.CustomerId, 0m);
        var stranger = BankData.NewIban().Value;
        async Task<Problem> DraftAsync(JsonObject order)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents") { Content = JsonContent.Create(new { document = order }) };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            return await ProblemAsync(await payer.Software.SendAsync(request), HttpStatusCode.UnprocessableEntity);
        }

        Assert.Contains((await DraftAsync(Conversion(payer.Iban, kzt2, "10.00", "KZT"))).Errors, e => e.Field == "creditIban" && e.Code == "conversion_same_currency");
        Assert.Contains((await DraftAsync(Conversion(payer.Iban, usd, "10.00", "EUR"))).Errors, e => e.Field == "amountCurrency" && e.Code == "amount_currency_invalid");
        Assert.Contains((await DraftAsync(Conversion(payer.Iban, stranger, "10.00", "KZT"))).Errors, e => e.Field == "creditIban" && e.Code == "credit_account_unknown");
        Assert.Contains((await DraftAsync(Conversion(payer.Iban, usd, "10.001", "USD"))).Errors, e => e.Field == "amount" && e.Code == "amount_scale");
        Assert.Contains((await DraftAsync(Conversion(payer.Iban, usd, "10.00", "USD", o => o["rate"] = "1"))).Errors, e => e.Field == "rate" && e.Code == "unknown_field");

        // Signed, the same faults refuse the document with its fields.
        var refused = await payer.FinishedAsync(await payer.SubmitOrderAsync(Conversion(payer.Iban, kzt2, "10.00", "KZT")));
        Assert.Equal("invalid_document", refused.GetProperty("reasonCode").GetString());
        Assert.Equal("conversion_same_currency", refused.GetProperty("failure").GetString());
        Assert.Equal(1_000_000m, await BalanceAsync(payer.Iban));
    }

    [Fact]
    public async Task ForeignCurrencyPayment_ToABankAbroad_NamesItsContract_AndLeavesThroughTheSettlementAdapterOnce()
    {
        await PublishTodayAsync(("USD", 470.25m, 475m), ("EUR", 510m, 520m));
        using var payer = await App.PayerAsync(fixture.Pki);
        var usd = await App.OpenAccountAsync(payer.CustomerId, 100_000m, "USD");
        JsonObject Abroad(string amount, JsonObject? control, Action<JsonObject>? edit = null) => payer.Order(0m, edit: o =>
        {
            o["amount"] = amount;
            o["currency"] = "USD";
            o["payer"]!["iban"] = usd;
            o["beneficiary"] = new JsonObject
            {
                ["name"] = "Muster Maschinenbau GmbH", ["iban"] = "DE89370400440532013000", ["bic"] = "DEUTDEFF", ["country"] = "DE", ["code"] = "27",
            };
            o["purposeCode"] = "710";
            if (control is not null)
            {
                o["currencyControl"] = control.DeepClone();
            }

            edit?.Invoke(o);
        });

        // 60,000 USD for goods to a non-resident: the contract and its registration number (from USD 50,000) are required.
        var missing = await payer.FinishedAsync(await payer.SubmitOrderAsync(Abroad("60000.00", null)));
        Assert.Equal("invalid_document", missing.GetProperty("reasonCode").GetString());
        var fields = missing.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("field").GetString(), e.GetProperty("code").GetString())).ToList();
        Assert.Contains(("currencyControl.contractNumber", "currency_control_required"), fields);
        Assert.Contains(("currencyControl.contractDate", "currency_control_required"), fields);
        Assert.Contains(("currencyControl.registrationNumber", "registration_number_required"), fields);

        var contract = new JsonObject { ["contractNumber"] = "DE-2026/14", ["contractDate"] = "2026-03-01", ["registrationNumber"] = "1/123456789012/01/1/1/0/1" };
        var id = await payer.SubmitOrderAsync(Abroad("60000.00", contract));
        var paid = await payer.FinishedAsync(id);
        Assert.Equal("executed", paid.GetProperty("status").GetString());
        Assert.Equal(40_000m, await BalanceAsync(usd));

        // Under USD 50,000 the contract is enough.
        Assert.Equal("executed", (await payer.FinishedAsync(await payer.SubmitOrderAsync(Abroad("1000.00", new JsonObject { ["contractNumber"] = "7", ["contractDate"] = "2026-01-10" }))))
            .GetProperty("status").GetString());

        // The adapter got the payment once, with its contract; a repeated step writes nothing new.
        var outbox = App.Services.GetRequiredService<BusinessApi.Platform.Storage.StorageResources>().Container(BusinessApi.Accounts.Settlement.BlobSettlementGateway.ContainerName);
        var blobs = new List<string>();
        await foreach (var blob in outbox.GetBlobsAsync())
        {
            blobs.Add(blob.Name);
        }

        var name = Assert.Single(blobs, b => b.Contains(id[4..], StringComparison.Ordinal));
        var message = JsonDocument.Parse((await outbox.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToString()).RootElement;
        Assert.Equal("foreignCurrencyPayment", message.GetProperty("type").GetString());
        Assert.Equal("DE89370400440532013000", message.GetProperty("beneficiaryIban").GetString());
        Assert.Equal("1/123456789012/01/1/1/0/1", message.GetProperty("contract").GetProperty("registrationNumber").GetString());

        // Bad input: tenge to a bank abroad (its BIC is not of Kazakhstan), an IBAN abroad whose check digits fail, no country.
        using var draft = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents")
        {
            Content = JsonContent.Create(new
            {
                document = Abroad("10.00", contract, o =>
                {
                    o["beneficiary"]!["iban"] = "DE89370400440532013001";
                    o["beneficiary"]!.AsObject().Remove("country");
                }),
            }),
        };
        draft.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var problem = await ProblemAsync(await payer.Software.SendAsync(draft), HttpStatusCode.UnprocessableEntity);
        Assert.Contains(problem.Errors, e => e.Field == "beneficiary.iban" && e.Code == "account_invalid");
        Assert.Contains(problem.Errors, e => e.Field == "beneficiary.country" && e.Code == "required");
        using var tenge = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents")
        {
            Content = JsonContent.Create(new { document = Abroad("10.00", contract, o => (o["currency"], o["payer"]!["iban"]) = ("KZT", payer.Iban)) }),
        };
        tenge.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        Assert.Contains((await ProblemAsync(await payer.Software.SendAsync(tenge), HttpStatusCode.UnprocessableEntity)).Errors,
            e => e.Field == "beneficiary.bic" && e.Code == "bic_invalid");
    }

    [Fact]
    public async Task CrashAtAnyStorageCall_MidConversion_EndsOnceAfterRecovery_AndEveryCurrencyBalances()
    {
        await PublishTodayAsync(("USD", 470.25m, 475m), ("EUR", 510m, 520m));
        await TariffsAsync();
        using var payer = await App.PayerAsync(fixture.Pki, funds: 10_000_000m);
        var usd = await App.OpenAccountAsync(payer.CustomerId, 0m, "USD");
        var monitor = App.Services.GetRequiredService<StorageCallMonitor>();
        var executed = 0;
        for (var n = 1; n <= 24; n += 2)
        {
            var cms = payer.SignOrder(Conversion(payer.Iban, usd, "10.00", "USD"));
            var start = monitor.Calls;
            var injected = 0;
            monitor.Plan = call => call.Number >= start + n && Interlocked.CompareExchange(ref injected, 1, 0) == 0 ? StorageFault.Throw : StorageFault.None;
            string id;
            try
            {
                var response = await payer.SubmitAsync(cms, key: $"crash-{n}-{payer.CustomerId}");
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    // The fault hit intake itself: the client retries with the same key.
                    monitor.Plan = null;
                    response = await payer.SubmitAsync(cms, key: $"crash-{n}-{payer.CustomerId}");
                }

                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!;
            }
            finally
            {
                monitor.Plan = null;
            }

            var done = await Eventually.GetAsync(async () =>
            {
                App.Time.Advance(TimeSpan.FromSeconds(30));
                await App.Services.GetRequiredService<WorkflowSweeper>().SweepOnceAsync(CancellationToken.None);
                return await payer.DocumentAsync(id);
            }, d => d.GetProperty("status").GetString() is "executed" or "refused", TimeSpan.FromSeconds(60), $"conversion with a fault at call {n} recovered", describe: d => d.ToString());
            Assert.Equal("executed", done.GetProperty("status").GetString());
            executed++;
            await payer.RenewSessionAsync();
        }

        // Each executed once: 10.00 USD each, at 475.00 KZT, fee 0.2% (9.50 KZT) each.
        Assert.Equal(10m * executed, await BalanceAsync(usd));
        Assert.Equal(10_000_000m - (executed * (4_750m + 9.50m)), await BalanceAsync(payer.Iban));
        await Eventually.GetAsync(async () =>
        {
            await App.Services.GetServices<BusinessApi.Platform.Timers.IScheduledJob>().OfType<BusinessApi.Accounts.Ledger.LedgerOutboxSweep>().Single()
                .RunAsync(new BusinessApi.Platform.Timers.ScheduledRun(App.Time.GetUtcNow(), false, null), CancellationToken.None);
            return await TrialBalanceAsync();
        }, t => t.GetProperty("currencies").EnumerateArray().All(c => c.GetProperty("inTransit").GetString() == "0.00"), TimeSpan.FromSeconds(30), "every leg booked");
        await AssertTrialBalanceAsync();
    }

    private static async Task<Problem> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        return await Problem.ReadAsync(response);
    }

    internal static JsonObject ConversionOn(string date, string debitIban, string creditIban, string amount, string amountCurrency, Action<JsonObject>? edit = null)
    {
        var order = new JsonObject
        {
            ["type"] = "conversionOrder",
            ["number"] = "C" + RandomNumber(),
            ["date"] = date,
            ["debitIban"] = debitIban,
            ["creditIban"] = creditIban,
            ["amount"] = amount,
            ["amountCurrency"] = amountCurrency,
            ["purpose"] = "Покупка валюты для оплаты по контракту № 12",
        };
        edit?.Invoke(order);
        return order;
    }

    private JsonObject Conversion(string debitIban, string creditIban, string amount, string amountCurrency, Action<JsonObject>? edit = null) =>
        ConversionOn(Today, debitIban, creditIban, amount, amountCurrency, edit);

    internal static string RandomNumber() => System.Security.Cryptography.RandomNumberGenerator.GetInt32(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture);

    private async Task<int> PublishTodayAsync(params (string Currency, decimal Buy, decimal Sell)[] rates)
    {
        using var ops = App.OperatorClient();
        var response = await ops.PutAsJsonAsync($"/api/v1/ops/exchange-rates/{Today}",
            new { rates = rates.Select(r => new { currency = r.Currency, buy = r.Buy, sell = r.Sell }) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32();
    }

    private async Task TariffsAsync()
    {
        using var ops = App.OperatorClient();
        var response = await ops.PutAsJsonAsync("/api/v1/ops/tariffs", new
        {
            tariffs = new object[]
            {
                new { documentType = "conversionOrder", currency = "KZT", route = "internal", @fixed = 0m, percent = 0.2m, min = 5m },
                new { documentType = "conversionOrder", currency = "USD", route = "internal", @fixed = 0m, percent = 0.2m, min = 0.01m },
            },
        });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<decimal> BalanceAsync(string iban) =>
        decimal.Parse((await App.AccountAsync(iban)).GetProperty("balance").GetString()!, CultureInfo.InvariantCulture);

    private async Task<JsonElement> TrialBalanceAsync()
    {
        using var ops = App.OperatorClient();
        return await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/ledger/trial-balance");
    }

    private async Task AssertTrialBalanceAsync()
    {
        var trial = await TrialBalanceAsync();
        Assert.True(trial.GetProperty("balanced").GetBoolean(), trial.ToString());
        Assert.Contains(trial.GetProperty("currencies").EnumerateArray(), c => c.GetProperty("currency").GetString() == "USD");
    }
}

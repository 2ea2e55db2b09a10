using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Documents;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Documents;

/// <summary>The API support fee (clause 3.9), charged monthly exactly once, and fees owed debited as money arrives, in order (5.2.9).</summary>
public sealed class FeeTests(PaymentAppFixture fixture) : IClassFixture<PaymentAppFixture>
{
    private static readonly DateTimeOffset December = new(2026, 12, 1, 3, 0, 0, KazakhstanTime.Offset);

    private TestApp App => fixture.App;

    [Fact]
    public async Task ApiSupportFee_IsChargedOncePerMonth_InPartWhenMoneyIsShort_AndDebtsAreSettledInOrder_NeverPastAnArrest()
    {
        using (var ops = App.OperatorClient())
        {
            var put = await ops.PutAsJsonAsync("/api/v1/ops/tariffs", new { tariffs = Array.Empty<object>(), apiSupportFee = new { amount = "5000.00", currency = "KZT" } });
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
            var bad = await ops.PutAsJsonAsync("/api/v1/ops/tariffs", new { tariffs = Array.Empty<object>(), apiSupportFee = new { amount = "0.001", currency = "KZT" } });
            Assert.Contains((await Problem.ReadAsync(bad)).Errors, e => e.Field == "apiSupportFee.amount");
        }

        using var rich = await App.PayerAsync(fixture.Pki, funds: 1_000_000m);
        using var scant = await App.PayerAsync(fixture.Pki, funds: 3_000m);
        using var empty = await App.PayerAsync(fixture.Pki, funds: 0m);

        // The job for December, then a catch-up rerun of the same occurrence and a run of a later one the same month (a restart).
        await FeeJobAsync(December);
        await FeeJobAsync(December, pastDue: true);
        await FeeJobAsync(December.AddDays(2));
        Assert.Equal(995_000m, await BalanceAsync(rich.Iban));
        Assert.Equal(0m, await BalanceAsync(scant.Iban));
        Assert.Equal(0m, await BalanceAsync(empty.Iban));
        var fees = App.Services.GetRequiredService<FeeCollector>();
        var partial = await fees.GetAsync(scant.CustomerId, "api-support|2026-12", CancellationToken.None);
        Assert.Equal((3_000m, 2_000m, FeeStatus.Owed), (partial!.Paid, partial.Owed, partial.Status));
        Assert.Single(await fees.ListAsync(rich.CustomerId, CancellationToken.None));
        Assert.Contains(await NoticesAsync(empty), n => n.GetProperty("kind").GetString() == "fee_owed");
        Assert.Contains(await NoticesAsync(rich), n => n.GetProperty("kind").GetString() == "fee_debited");

        // January too: the empty customer owes two months. 7,000 arrives: December is paid first, January in part.
        await FeeJobAsync(new DateTimeOffset(2027, 1, 1, 3, 0, 0, KazakhstanTime.Offset));
        await CashInAsync(empty.Iban, 7_000m);
        await SettlementJobAsync();
        var owed = await fees.ListAsync(empty.CustomerId, CancellationToken.None);
        Assert.Equal(["api-support|2026-12", "api-support|2027-01"], owed.Select(f => f.FeeId));
        Assert.Equal((FeeStatus.Paid, 2_000m), (owed[0].Status, owed[1].Paid));
        Assert.Equal(0m, await BalanceAsync(empty.Iban));

        // An arrest of 1,000 on the short customer's account: of 1,500 arriving only 500 is free, and only that is taken.
        using (var ops = App.OperatorClient())
        {
            using var arrest = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/accounts/{scant.Iban}/restrictions")
            {
                Content = JsonContent.Create(new { kind = "arrest", amount = 1_000m, reference = "Постановление № 1", authority = "ЧСИ" }),
            };
            arrest.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            Assert.True((await ops.SendAsync(arrest)).IsSuccessStatusCode);
        }

        await CashInAsync(scant.Iban, 1_500m);
        await SettlementJobAsync();
        var arrested = await fees.GetAsync(scant.CustomerId, "api-support|2026-12", CancellationToken.None);
        Assert.Equal(3_500m, arrested!.Paid);
        Assert.Equal(1_000m, await BalanceAsync(scant.Iban));
        var account = await App.AccountAsync(scant.Iban);
        Assert.Equal("0.00", account.GetProperty("available").GetString());

        // Income took exactly what customers paid, and the books balance.
        using var reader = App.OperatorClient();
        var trial = await reader.GetFromJsonAsync<JsonElement>("/api/v1/ops/ledger/trial-balance");
        Assert.True(trial.GetProperty("balanced").GetBoolean());
    }

    private async Task FeeJobAsync(DateTimeOffset at, bool pastDue = false) =>
        await App.Services.GetServices<IScheduledJob>().OfType<ApiSupportFeeJob>().Single().RunAsync(new ScheduledRun(at, pastDue, null), CancellationToken.None);

    private async Task SettlementJobAsync() =>
        await App.Services.GetServices<IScheduledJob>().OfType<FeeDebtSettlementJob>().Single().RunAsync(new ScheduledRun(App.Time.GetUtcNow(), false, null), CancellationToken.None);

    private async Task CashInAsync(string iban, decimal amount)
    {
        using var ops = App.OperatorClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/accounts/{iban}/credits") { Content = JsonContent.Create(new { amount, reference = "test" }) };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Created, (await ops.SendAsync(request)).StatusCode);
    }

    private async Task<decimal> BalanceAsync(string iban) =>
        decimal.Parse((await App.AccountAsync(iban)).GetProperty("balance").GetString()!, CultureInfo.InvariantCulture);

    private static async Task<List<JsonElement>> NoticesAsync(Payer payer) =>
        [.. (await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetProperty("items").EnumerateArray()];
}

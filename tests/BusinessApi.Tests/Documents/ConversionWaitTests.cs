using System.Net;
using System.Net.Http.Json;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// The rate of the operation date: an order that waits for the operational day is converted at the rates of the
/// day it executes, never those of the day it was signed; no rates for that day refuse it.
/// </summary>
public sealed class ConversionWaitTests : IDisposable
{
    private static readonly TimeSpan Kazakhstan = TimeSpan.FromHours(5);
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    [Fact]
    public async Task SignedFridayEvening_IsConvertedAtMondaysRate_AndWithoutMondaysRatesIsRefused()
    {
        await using var app = await TestApp.StartAsync(now: new DateTimeOffset(2026, 11, 27, 19, 30, 0, Kazakhstan));
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, funds: 1_000_000m);
        var usd = await app.OpenAccountAsync(payer.CustomerId, 0m, "USD");
        await RatesAsync(app, "2026-11-27", 470m, 475m);
        await RatesAsync(app, "2026-11-30", 480m, 500m);

        var id = await payer.SubmitOrderAsync(ConversionTests.ConversionOn("2026-11-27", payer.Iban, usd, "100.00", "USD"));
        var waiting = await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.GetProperty("status").GetString() == "processing");
        Assert.Equal("operationalDay", waiting.GetProperty("waitingFor").GetString());

        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 30, 9, 0, 1, Kazakhstan));
        var done = await payer.FinishedAsync(id);
        Assert.Equal("executed", done.GetProperty("status").GetString());
        var sides = done.GetProperty("conversionOrder").GetProperty("conversion");
        Assert.Equal("50000.00", sides.GetProperty("debitAmount").GetString()); // Monday's sell rate 500, not Friday's 475
        Assert.Equal("2026-11-30", sides.GetProperty("rateDate").GetString());

        // Signed on a holiday eve, executed on the next working day whose rates were never published: refused, nothing moved.
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 15, 19, 0, 0, Kazakhstan));
        await payer.RenewSessionAsync();
        var refusedId = await payer.SubmitOrderAsync(ConversionTests.ConversionOn("2026-12-15", payer.Iban, usd, "10.00", "USD"));
        await Eventually.GetAsync(() => payer.DocumentAsync(refusedId), d => d.GetProperty("status").GetString() == "processing");
        app.Time.SetUtcNow(new DateTimeOffset(2026, 12, 17, 9, 0, 1, Kazakhstan)); // 16 December is Independence Day
        var refused = await payer.FinishedAsync(refusedId);
        Assert.Equal("rate_unavailable", refused.GetProperty("reasonCode").GetString());
        Assert.Equal("950000.00", (await app.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    private static async Task RatesAsync(TestApp app, string date, decimal buy, decimal sell)
    {
        using var ops = app.OperatorClient();
        var response = await ops.PutAsJsonAsync($"/api/v1/ops/exchange-rates/{date}", new { rates = new[] { new { currency = "USD", buy, sell } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

using System.ComponentModel.DataAnnotations;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace BusinessApi.Tests.Platform;

/// <summary>Settings are typed and checked at start-up: a value outside its range stops the app instead of being clamped at use.</summary>
public sealed class SettingsValidationTests
{
    [Theory]
    [InlineData("Workflows:MaxAttempts", "0")]
    [InlineData("Workflows:LeaseSeconds", "0")]
    [InlineData("Workflows:IndexShards", "1000")]
    [InlineData("Notifications:DeliveryTimeoutSeconds", "600")]
    [InlineData("Notifications:RetryHours", "1")] // the terms' channel retries a day at least
    [InlineData("Ledger:ViewCacheMilliseconds", "-1")]
    [InlineData("Payments:MaxDocumentAgeDays", "30")]
    [InlineData("Signatures:MaxCmsBytes", "10000000")] // beyond what one table property holds
    [InlineData("Http:Idempotency:RetentionHours", "1")]
    [InlineData("Refunds:OutcomeWaitDays", "0")]
    [InlineData("Timers:LeaseSeconds", "0")]
    public async Task OutOfRange_StopsTheAppAtStartUp(string key, string value)
    {
        var failure = await Record.ExceptionAsync(async () => await (await TestApp.StartAsync(new Dictionary<string, string> { [key] = value })).DisposeAsync());
        var validation = Assert.IsType<OptionsValidationException>(failure);
        Assert.Contains(key[(key.LastIndexOf(':') + 1)..], validation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASamplingRatioAboveOne_StopsTheAppWhileItIsBuilt()
    {
        var failure = await Record.ExceptionAsync(async () => await (await TestApp.StartAsync(new Dictionary<string, string> { ["Telemetry:SamplingRatio"] = "2" })).DisposeAsync());
        Assert.IsType<ValidationException>(failure);
    }
}

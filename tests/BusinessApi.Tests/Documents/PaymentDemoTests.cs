using System.Diagnostics;
using BusinessApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace BusinessApi.Tests.Documents;

/// <summary>The README's demo (scripts/payment-demo.sh) as a smoke test: OpenSSL's signatures verify and the order is executed.</summary>
public sealed class PaymentDemoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DemoScript_SignsWithOpenSsl_AndTheOrderIsExecuted()
    {
        // The script signs with the real clock, so the app runs on it too, open round the clock.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Calendar:OperationalHours"] = "00:00-24:00",
            ["Calendar:Weekend"] = "",
            ["Calendar:ApplyPublicHolidays"] = "false",
        }, realTime: true);
        var script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scripts", "payment-demo.sh"));
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(app.BaseAddress.ToString().TrimEnd('/'));
        start.Environment["OPS_KEY"] = app.OperatorKey;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        output.WriteLine(await stdout);
        output.WriteLine(await stderr);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("executed", await stdout, StringComparison.Ordinal);
        Assert.Contains("The archive returns the signed bytes exactly", await stderr, StringComparison.Ordinal);
    }
}

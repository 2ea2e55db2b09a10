using BusinessApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace BusinessApi.Tests.Documents;

/// <summary>The README's demo (scripts/payment-demo.sh) as a smoke test: OpenSSL's signatures verify and the order is executed.</summary>
public sealed class PaymentDemoTests(ITestOutputHelper output)
{
    [Fact]
    public async Task DemoScript_SignsWithOpenSsl_AndTheOrderIsExecuted()
    {
        var run = await RunAsync();
        Assert.Contains("The archive returns the signed bytes exactly", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoScript_TwoSignatures_TheDirectorFirst_TheAccountantSecond_AndOpenSslVerifiesTheArchive()
    {
        var run = await RunAsync("--two-signatures");
        Assert.Contains("one CMS with both signatures", run.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoScript_Conversion_BuysUsdAtTodaysRate_AndDownloadsTheStatementInEveryFormat()
    {
        var run = await RunAsync("--conversion");
        Assert.Contains("converted 47500.00 KZT -> 100.00 USD at 0.002105 (rates of", run.Output, StringComparison.Ordinal);
        foreach (var extension in new[] { ".sta", ".xml", ".txt" })
        {
            Assert.Contains(extension, run.Output, StringComparison.Ordinal);
        }

        Assert.Contains("/KNP/213", run.Output, StringComparison.Ordinal);
    }

    private async Task<ChildProcessResult> RunAsync(params string[] options)
    {
        // The script signs with the real clock, so the app runs on it too, open round the clock.
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Calendar:OperationalHours"] = "00:00-24:00",
            ["Calendar:Weekend"] = "",
            ["Calendar:ApplyPublicHolidays"] = "false",
        }, realTime: true);
        var script = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "scripts", "payment-demo.sh"));
        var run = await ChildProcess.RunAsync("bash", [script, .. options, app.BaseAddress.ToString().TrimEnd('/')], TimeSpan.FromMinutes(2),
            new Dictionary<string, string> { ["OPS_KEY"] = app.OperatorKey });
        output.WriteLine(run.Output);
        output.WriteLine(run.Errors);
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("executed", run.Output, StringComparison.Ordinal);
        return run;
    }
}

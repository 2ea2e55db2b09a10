using System.Net;
using System.Text;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.AspNetCore.Builder;

namespace BusinessApi.Tests.Platform;

/// <summary>Failures that need their own app settings: body limits, bugs, storage outages.</summary>
public sealed class ErrorHandlingTests
{
    [Theory]
    [InlineData("ru", "Слишком большой запрос")]
    [InlineData("kk", "Сұрау тым үлкен")]
    [InlineData("en", "Payload too large")]
    public async Task BodyOverLimit_Is413Problem(string language, string title)
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Http:MaxRequestBodyBytes"] = "1024" });
        using var client = app.OperatorClient(language);
        var body = "{\"holidays\": [" + string.Join(",", Enumerable.Repeat("{\"date\":\"2026-05-01\",\"name\":\"x\"}", 100)) + "]}";

        var response = await client.PutAsync("/api/v1/ops/calendar/2026", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, problem.Status);
        Assert.Equal("payload_too_large", problem.Code);
        Assert.Equal(title, problem.Title);
    }

    [Theory]
    [InlineData("ru", "Внутренняя ошибка")]
    [InlineData("kk", "Ішкі қате")]
    [InlineData("en", "Internal error")]
    public async Task UnhandledException_Is500ProblemWithoutInternals(string language, string title)
    {
        await using var app = await TestApp.StartAsync(map: a => a.MapGet("/test/bug", string () => throw new InvalidOperationException("secret internals")));
        using var client = app.NewClient(language);

        var response = await client.GetAsync("/test/bug");

        var raw = await response.Content.ReadAsStringAsync();
        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.InternalServerError, problem.Status);
        Assert.Equal("internal_error", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.DoesNotContain("secret internals", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", raw, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailureLogs_NameTheRoute_NeverTheRawPath()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = await TestApp.StartAsync(
            map: a => a.MapGet("/test/accounts/{iban}", string (string iban) => throw new InvalidOperationException("bug")),
            services: s => s.AddSingleton<ILoggerProvider>(logs));

        await app.Client.GetAsync("/test/accounts/KZ86125KZT5004100100");

        Assert.Contains(logs.Messages, m => m.Contains("/test/accounts/{iban}", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Messages, m => m.Contains("KZ86125KZT5004100100", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ru", "Сервис временно недоступен")]
    [InlineData("kk", "Қызмет уақытша қолжетімсіз")]
    [InlineData("en", "Service temporarily unavailable")]
    public async Task StorageDown_ReadyzIs503_AndRequestsAre503ProblemsWithRetryAfter(string language, string title)
    {
        var deadPort = ChildProcess.FreePort();
        var deadStorage = Azurite.ConnectionString.Split(';')
            .Select(part => part.Contains("Endpoint=", StringComparison.Ordinal)
                ? part[..(part.IndexOf('=', StringComparison.Ordinal) + 1)] + $"http://127.0.0.1:{deadPort}/devstoreaccount1"
                : part);
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = string.Join(';', deadStorage),
            ["AzureClients:Retry:MaxRetries"] = "0",
        });
        using var client = app.OperatorClient(language);

        var ready = await client.GetAsync("/readyz");
        var health = await client.GetAsync("/healthz");
        var response = await client.GetAsync("/api/v1/operational-day");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, problem.Status);
        Assert.Equal("storage_unavailable", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.NotNull(response.Headers.RetryAfter);
    }
}

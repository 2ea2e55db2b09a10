using System.Net;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform;

public sealed class RateLimitingTests
{
    [Theory]
    [InlineData("ru", "Слишком много запросов")]
    [InlineData("kk", "Сұраулар тым көп")]
    [InlineData("en", "Too many requests")]
    public async Task CallerOverLimit_Gets429ProblemWithRetryAfter_HealthStaysReachable(string language, string title)
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Http:RateLimiting:PermitsPerSecond"] = "1",
            ["Http:RateLimiting:Burst"] = "2",
        });
        using var client = app.NewClient(language);

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 10; i++)
        {
            responses.Add(await client.GetAsync("/api/v1/operational-day"));
        }

        var limited = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        var problem = await Problem.ReadAsync(limited);
        Assert.Equal("rate_limited", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
    }
}

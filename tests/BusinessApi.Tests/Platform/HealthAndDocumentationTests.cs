using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform;

public sealed class HealthAndDocumentationTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    [Fact]
    public async Task Healthz_AnswersWhileTheProcessRuns()
    {
        var body = await fixture.App.Client.GetFromJsonAsync<JsonElement>("/healthz");

        Assert.Equal("healthy", body.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Readyz_ChecksStorage()
    {
        var body = await fixture.App.Client.GetFromJsonAsync<JsonElement>("/readyz");

        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApi_DescribesEveryEndpoint_AndTheOperatorScheme()
    {
        var document = await fixture.App.Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "/api/v1/operational-day",
            "/api/v1/ops/calendar/{year}",
            "/api/v1/ops/audit",
            "/api/v1/ops/audit/verification",
            "/api/v1/oauth/token",
            "/api/v1/credentials",
            "/api/v1/credentials/{clientId}/compromise",
            "/api/v1/notifications",
        }, paths);
        Assert.DoesNotContain("/healthz", paths);
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Operator", out _));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("ClientToken", out _));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Session", out _));
        Assert.Contains("/api/v1/users/me/password", paths);
        Assert.Contains("/api/v1/ops/customers/{customerId}/users", paths);
        var tokenBody = document.GetProperty("paths").GetProperty("/api/v1/oauth/token").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.True(tokenBody.TryGetProperty("application/x-www-form-urlencoded", out _));
        Assert.True(document.GetProperty("components").GetProperty("schemas").TryGetProperty("OperationalDayResponse", out _));
    }

    [Fact]
    public async Task Docs_IsAnInteractivePage_ServedWithItsOwnScripts()
    {
        var page = await fixture.App.Client.GetAsync("/docs/");
        var html = await page.Content.ReadAsStringAsync();
        var script = await fixture.App.Client.GetAsync("/docs/scalar.js");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("scalar", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }
}

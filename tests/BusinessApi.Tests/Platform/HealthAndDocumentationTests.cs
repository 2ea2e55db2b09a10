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
    public async Task OpenApi_ThePublicDocumentListsCustomerEndpoints_TheSecondOneOperatorEndpoints()
    {
        var document = await fixture.App.Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var operators = await fixture.App.Client.GetFromJsonAsync<JsonElement>("/openapi/ops.json");

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "/api/v1/operational-day",
            "/api/v1/oauth/token",
            "/api/v1/credentials",
            "/api/v1/credentials/{clientId}/compromise",
            "/api/v1/notifications",
            "/api/v1/users/me/password",
        }, paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("/api/v1/ops", StringComparison.Ordinal));
        Assert.DoesNotContain("/healthz", paths);
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("ClientToken", out _));
        Assert.True(document.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Session", out _));
        var tokenBody = document.GetProperty("paths").GetProperty("/api/v1/oauth/token").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.True(tokenBody.TryGetProperty("application/x-www-form-urlencoded", out _));
        Assert.True(document.GetProperty("components").GetProperty("schemas").TryGetProperty("OperationalDayResponse", out _));

        var operatorPaths = operators.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.All(operatorPaths, p => Assert.StartsWith("/api/v1/ops/", p, StringComparison.Ordinal));
        Assert.Superset(new HashSet<string>
        {
            "/api/v1/ops/calendar/{year}",
            "/api/v1/ops/audit",
            "/api/v1/ops/audit/verification",
            "/api/v1/ops/audit/anchors/{date}",
            "/api/v1/ops/approvals",
            "/api/v1/ops/approvals/{approvalId}/approve",
            "/api/v1/ops/customers/{customerId}/users",
        }, operatorPaths.ToHashSet());
        Assert.True(operators.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("OperatorJwt", out _));
        Assert.True(operators.GetProperty("components").GetProperty("securitySchemes").TryGetProperty("Operator", out _));
        Assert.True(operators.GetProperty("paths").GetProperty("/api/v1/ops/accounts/{iban}/credits").GetProperty("post").GetProperty("responses").TryGetProperty("202", out _));
    }

    [Fact]
    public async Task WithOperatorEndpointsOff_TheirPathsAndDocumentAreNotThere()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Operations:Endpoints"] = "false" });
        using var ops = app.OperatorClient();

        Assert.Equal(HttpStatusCode.NotFound, (await ops.GetAsync("/api/v1/ops/calendar/2026")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client.GetAsync("/openapi/ops.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client.GetAsync("/api/v1/operational-day")).StatusCode);
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

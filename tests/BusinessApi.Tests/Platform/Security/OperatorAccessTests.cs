using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BusinessApi.Calendar;
using BusinessApi.Platform;
using BusinessApi.Platform.Security;
using BusinessApi.Tests.Accounts;
using BusinessApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform.Security;

/// <summary>
/// Bank staff sign in with tokens from the bank's identity provider (a test issuer on loopback here): the
/// token must be the issuer's, for this audience, in date, and the person's roles decide each /ops route.
/// </summary>
public sealed partial class OperatorAccessTests : IAsyncLifetime
{
    private TestIdentityProvider _idp = null!;
    private TestApp _app = null!;

    public async Task InitializeAsync()
    {
        _idp = await TestIdentityProvider.StartAsync();
        _app = await TestApp.StartAsync(new Dictionary<string, string>(_idp.Settings));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _idp.DisposeAsync();
    }

    [Fact]
    public async Task PersonWithRole_IsServed_AndTheJournalNamesThePerson()
    {
        using var staff = _idp.Client(_app, "oid-aliya", "Aliya Nurlanovna", OperatorRoles.Read, OperatorRoles.Customers);

        var created = await staff.PostAsJsonAsync("/api/v1/ops/customers", new { bin = BankData.NewBin(), name = "ТОО Тест" });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var customerId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("customerId").GetString()!;
        var day = KazakhstanTime.LocalDate(_app.Time.GetUtcNow());
        var journal = await staff.GetFromJsonAsync<JsonElement>(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"/api/v1/ops/audit?subject={customerId}&date={day:yyyy-MM-dd}"));
        var entry = journal.GetProperty("entries").EnumerateArray().First(e => e.GetProperty("action").GetString() == "customer.created");
        Assert.Equal("staff:oid-aliya", entry.GetProperty("actor").GetString());
        Assert.Equal("Aliya Nurlanovna", entry.GetProperty("actorName").GetString());
    }

    [Fact]
    public async Task WrongAudience_ExpiredToken_ForeignSignature_AreRefused401()
    {
        var now = _app.Time.GetUtcNow();
        string[] roles = [OperatorRoles.Read];
        var tokens = new Dictionary<string, string>
        {
            ["wrong audience"] = _idp.Token("oid-1", "A", roles, now, audience: "api://someone-else"),
            ["expired"] = _idp.Token("oid-1", "A", roles, now, lifetime: TimeSpan.FromMinutes(-10)),
            ["foreign signature"] = _idp.Token("oid-1", "A", roles, now, foreignKey: true),
            ["not a token"] = "eyJhbGciOiJub25lIn0.eyJvaWQiOiJ4In0.",
        };

        foreach (var (what, token) in tokens)
        {
            using var client = _app.NewClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var response = await client.GetAsync("/api/v1/ops/calendar/2026");
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{what}: {response.StatusCode}");
            Assert.Equal("unauthorized", (await Problem.ReadAsync(response)).Code);
        }
    }

    [Fact]
    public async Task ExpiryFollowsTheAppsClock()
    {
        using var staff = _idp.Client(_app, "oid-1", "A", OperatorRoles.Read);
        Assert.Equal(HttpStatusCode.OK, (await staff.GetAsync("/api/v1/ops/calendar/2026")).StatusCode);

        _app.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(3)); // past the token's hour and the 2-minute skew

        Assert.Equal(HttpStatusCode.Unauthorized, (await staff.GetAsync("/api/v1/ops/calendar/2026")).StatusCode);
    }

    [Fact]
    public async Task TokenWithoutRole_Is403_NamingTheRole()
    {
        using var staff = _idp.Client(_app, "oid-2", "B");

        var response = await staff.GetAsync("/api/v1/ops/calendar/2026");

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.Forbidden, problem.Status);
        Assert.Equal("role_required", problem.Code);
        Assert.Equal(OperatorRoles.Read, problem.Body.GetProperty("role").GetString());
        Assert.Contains(OperatorRoles.Read, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CustomerTokensAreNotOperators()
    {
        var customer = await _app.CreateCustomerAsync();
        var software = await _app.SoftwareClientAsync(customer);

        var response = await software.GetAsync("/api/v1/ops/calendar/2026");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    /// <summary>
    /// The route table, enumerated: every /ops endpoint declares exactly one role; a person holding only that role
    /// gets past authorization, a person holding any other single role gets 403 naming it. A new route without
    /// a role stops the app at start-up; one with a role no person holds would fail here.
    /// </summary>
    [Fact]
    public async Task EveryOpsRoute_HasOneRole_ThatDecidesWhoGetsThrough()
    {
        var routes = OpsRoutes(_app.Services);
        Assert.True(routes.Count >= 45, $"only {routes.Count} /ops routes found");
        Assert.Equal(OperatorRoles.All.Order(), routes.Select(r => r.Role).Distinct().Order());
        var clients = OperatorRoles.All.ToDictionary(role => role, role => _idp.Client(_app, "oid-" + role, role, role));
        var failures = new List<string>();
        foreach (var (method, pattern, role) in routes)
        {
            var path = FillRouteValues(pattern);
            foreach (var (held, client) in clients)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                    request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
                }

                var response = await client.SendAsync(request);
                if (held == role)
                {
                    if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                    {
                        failures.Add($"{method} {pattern} with {held}: {response.StatusCode}");
                    }
                }
                else
                {
                    var body = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.Forbidden || !body.Contains($"\"role\":\"{role}\"", StringComparison.Ordinal))
                    {
                        failures.Add($"{method} {pattern} with {held}: {response.StatusCode} {body[..Math.Min(body.Length, 120)]}");
                    }
                }
            }
        }

        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task AnOpsRouteWithoutARole_StopsTheApp()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestApp.StartAsync(map: web => web.MapApi().MapOperations().MapPost("/planted", () => "no role")));

        Assert.Contains("declares no operator role", error.Message, StringComparison.Ordinal);
    }

    internal static IReadOnlyList<(string Method, string Pattern, string Role)> OpsRoutes(IServiceProvider services) =>
        [.. services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1/ops", StringComparison.Ordinal) == true)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m =>
                (m, e.RoutePattern.RawText!, Assert.Single(e.Metadata.GetOrderedMetadata<OperatorRoleMetadata>()).Role)))];

    private static string FillRouteValues(string pattern) =>
        RouteParameter().Replace(pattern, m => m.Groups[1].Value == "year" ? "2026" : "x-" + m.Groups[1].Value);

    [GeneratedRegex(@"\{([a-zA-Z]+)(:[a-z]+)?\}")]
    private static partial Regex RouteParameter();
}

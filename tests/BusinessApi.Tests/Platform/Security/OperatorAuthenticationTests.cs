using System.Net;
using System.Net.Http.Headers;
using Azure.Data.Tables;
using BusinessApi.Platform.Audit;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform.Security;

public sealed class OperatorAuthenticationTests
{
    [Fact]
    public async Task ConfiguredKey_IsAccepted()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.OperatorClient();

        var response = await client.GetAsync("/api/v1/ops/calendar/2026");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AnyOfSeveralKeys_IsAccepted_SoKeysRotateWithoutDowntime()
    {
        var oldKey = new string('a', 40);
        var newKey = new string('b', 40);
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Operations:ApiKeys"] = $"{oldKey},{newKey}" });

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, oldKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, newKey)).StatusCode);
    }

    [Fact]
    public async Task WrongKey_Is401_AndIsJournaledWithoutTheKey()
    {
        await using var app = await TestApp.StartAsync();
        var wrongKey = "wrong-" + new string('x', 40);

        var response = await GetAsync(app, wrongKey);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("unauthorized", (await Problem.ReadAsync(response)).Code);
        var entries = await ReadJournalTableAsync(app);
        var denied = Assert.Single(entries, e => e.GetString("Action") == "operator.authentication");
        Assert.Equal("denied", denied.GetString("Outcome"));
        Assert.DoesNotContain(entries.SelectMany(e => ((IDictionary<string, object>)e).Values).OfType<string>(), value => value.Contains(wrongKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task KeyShorterThanMinimum_IsIgnored()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Operations:ApiKeys"] = "short-key" });

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, "short-key")).StatusCode);
    }

    [Fact]
    public async Task KeyWithDifferentLengthOrPrefix_IsRejected()
    {
        await using var app = await TestApp.StartAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, app.OperatorKey + "x")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, app.OperatorKey[..^1])).StatusCode);
    }

    [Fact]
    public async Task NonBearerScheme_Is401()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", app.OperatorKey);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/ops/calendar/2026")).StatusCode);
    }

    [Fact]
    public async Task StaticKeyInProduction_IsRefused_AndJournaledAsBreakGlass()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Operations:AllowStaticKeys"] = "false" });

        var response = await GetAsync(app, app.OperatorKey);

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.Unauthorized, problem.Status);
        Assert.Equal("static_keys_disabled", problem.Code);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(app, app.OperatorKey)).StatusCode);
        var refused = Assert.Single(await ReadJournalTableAsync(app), e => e.GetString("Action") == "operator.break_glass_refused"); // aggregated: one a minute
        Assert.Equal("denied", refused.GetString("Outcome"));
        Assert.Contains("\"key\":", refused.GetString("Details"), StringComparison.Ordinal); // the key's fingerprint, never the key
        Assert.DoesNotContain(app.OperatorKey, refused.GetString("Details"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaticKeyInDevelopment_IsBreakGlass_HoldingEveryRole_AndEachUseIsJournaled()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["environment"] = "Development",
            ["Operations:AllowStaticKeys"] = "false",
        });

        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, app.OperatorKey)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(app, app.OperatorKey)).StatusCode);

        var uses = (await ReadJournalTableAsync(app)).Where(e => e.GetString("Action") == "operator.break_glass_used").ToList();
        Assert.Equal(2, uses.Count);
        Assert.All(uses, use => Assert.Equal("/api/v1/ops/calendar/2026", use.GetString("Target")));
    }

    private static async Task<HttpResponseMessage> GetAsync(TestApp app, string key)
    {
        using var client = app.NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await client.GetAsync("/api/v1/ops/calendar/2026");
    }

    private static async Task<List<TableEntity>> ReadJournalTableAsync(TestApp app)
    {
        var entities = new List<TableEntity>();
        await foreach (var entity in Azurite.Table(app.TablePrefix, AuditJournal.TableName).QueryAsync<TableEntity>())
        {
            entities.Add(entity);
        }

        return entities;
    }
}

using System.Net;
using System.Net.Http.Headers;
using Azure.Data.Tables;
using BusinessApi.Credentials;
using BusinessApi.Platform.Audit;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BusinessApi.Tests.Platform;

/// <summary>Cheap denial of service, closed: floods of bad tokens, of anonymous sign-ins, of new addresses.</summary>
public sealed class AuthenticationFloodTests
{
    [Fact]
    public async Task HundredUnrecognisedBearerTokens_AreJournaledAsOneEntryThenOneCount()
    {
        await using var app = await TestApp.StartAsync();
        using var client = app.NewClient();
        for (var i = 0; i < 100; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ops/workflows?status=faulted");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "junk-" + i); // replaces the client's own
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(request)).StatusCode);
        }

        Assert.Single(await DeniedAsync(app, "operator.authentication")); // the first at once, the rest counted
        app.Time.Advance(FailedAuthenticationJournal.Window);
        await app.Services.GetRequiredService<FailedAuthenticationJournal>().FlushAsync(all: false, default);
        var entries = await DeniedAsync(app, "operator.authentication");
        Assert.Equal(2, entries.Count);
        Assert.Contains(entries, e => e.GetString("Details")?.Contains("\"count\":\"99\"", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task AnonymousSignInFlood_BeyondTheHashQueue_Is503WithRetryAfter_AndHashesNoMore()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Users:PasswordHashIterations"] = "300000", // real cost, so the queue fills
            ["Users:MaxQueuedHashes"] = "0",
            ["Credentials:AddressFreeFailures"] = "100000",
        });
        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => app.RequestSessionAsync("nobody" + i, "Wrong-Passw0rd!")));

        var busy = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.All(answers, a => Assert.True(a.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.ServiceUnavailable, a.StatusCode.ToString()));
        Assert.Equal("service_busy", (await Problem.ReadAsync(busy[0])).Code);
        Assert.Equal(TimeSpan.FromSeconds(1), busy[0].Headers.RetryAfter?.Delta);
    }

    [Fact]
    public async Task RepeatedWrongSignIns_FromOneAddress_AreRefusedBeforeAnyHash()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Credentials:AddressFreeFailures"] = "3" });
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.RequestSessionAsync("nobody" + i, "Wrong-Passw0rd!")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await app.RequestSessionAsync("nobody", "Wrong-Passw0rd!")).StatusCode); // the 4th is answered, then locks
        var refused = await app.RequestSessionAsync("nobody", "Wrong-Passw0rd!");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("rate_limited", (await Problem.ReadAsync(refused)).Code);
        Assert.NotNull(refused.Headers.RetryAfter);
    }

    [Fact]
    public void Throttle_UnderAFloodOfNewAddresses_KeepsItsMemoryBounded_AndStillRefuses()
    {
        var time = new FakeTimeProvider(TestApp.DefaultNow);
        var throttle = new AuthenticationThrottle(time, Options.Create(new CredentialOptions { AddressFreeFailures = 1, MaxLockSeconds = 60 }));
        for (var i = 0; i < AuthenticationThrottle.MaxTracked + 5_000; i++)
        {
            var address = $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";
            throttle.RecordFailure(address);
            throttle.RecordFailure(address);
        }

        Assert.InRange(throttle.Tracked, 1, AuthenticationThrottle.MaxTracked + 1);
        Assert.NotNull(throttle.RetryAfter("10.250.250.250")); // a new address in the flood shares the overflow lock
    }

    [Fact]
    public void Throttle_CountsAnIpv6SubscriberByItsPrefix()
    {
        Assert.Equal(AuthenticationThrottle.Key("2001:db8:1:2:aaaa::1"), AuthenticationThrottle.Key("2001:db8:1:2:bbbb::9"));
        Assert.NotEqual(AuthenticationThrottle.Key("2001:db8:1:2::1"), AuthenticationThrottle.Key("2001:db8:1:3::1"));
        Assert.Equal("192.0.2.7", AuthenticationThrottle.Key("192.0.2.7"));
    }

    [Theory]
    [InlineData("Credentials:AccessTokenLifetimeSeconds", "86400")]
    [InlineData("Credentials:AccessTokenLifetimeSeconds", "10")]
    [InlineData("Users:IdleTimeoutSeconds", "3600")]
    [InlineData("Users:AbsoluteLifetimeHours", "240")]
    public async Task TokenAndSessionLifetimes_BeyondTheirCaps_StopTheAppAtStartUp(string key, string value)
    {
        var failure = await Record.ExceptionAsync(async () => await (await TestApp.StartAsync(new Dictionary<string, string> { [key] = value })).DisposeAsync());
        Assert.IsType<OptionsValidationException>(failure);
    }

    private static async Task<List<TableEntity>> DeniedAsync(TestApp app, string action)
    {
        var entities = new List<TableEntity>();
        await foreach (var entity in Azurite.Table(app.TablePrefix, AuditJournal.TableName).QueryAsync<TableEntity>(e => e.PartitionKey.CompareTo("system") >= 0))
        {
            if (entity.GetString("Action") == action)
            {
                entities.Add(entity);
            }
        }

        return entities;
    }
}

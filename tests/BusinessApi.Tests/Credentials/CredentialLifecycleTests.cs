using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Platform.Secrets;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BusinessApi.Tests.Credentials;

/// <summary>Credentials over time (a fake clock), across instances, under attack, through key rotation; each test has its own app.</summary>
public sealed class CredentialLifecycleTests
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;

    [Fact]
    public async Task APairUnusedFor89DaysWorks_On_The90thDayItIsBlocked_WithJournalAndNotice()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (used, usedSecret) = await app.GenerateCredentialAsync(customer, name: "Used on day 89");
        var (idle, idleSecret) = await app.GenerateCredentialAsync(customer, name: "Idle");
        var (untouched, _) = await app.GenerateCredentialAsync(customer, name: "Never used");

        // Generated on 2026-11-25: day 89 is 2027-02-22, the last second of which still works.
        app.Time.SetUtcNow(new DateTimeOffset(2027, 2, 22, 23, 59, 59, Kazakhstan));
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(used, usedSecret)).StatusCode);

        app.Time.SetUtcNow(new DateTimeOffset(2027, 2, 23, 0, 0, 0, Kazakhstan));
        var refused = await OAuthError.ReadAsync(await app.RequestTokenAsync(idle, idleSecret));
        Assert.Equal((HttpStatusCode.BadRequest, "unauthorized_client"), (refused.Status, refused.Error));
        Assert.Contains("blockedInactive", refused.Description, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(used, usedSecret)).StatusCode); // its 90 days restarted on day 89

        // The job records the block of a pair nobody asked about: status, journal, notice.
        await RunInactivityJobAsync(app);
        var stored = await app.Services.GetRequiredService<CredentialStore>().GetAsync(untouched, CancellationToken.None);
        Assert.Equal(CredentialStatus.BlockedInactive, stored!.Credential.Status);
        Assert.Equal("system", stored.Credential.StatusChangedBy);
        using var admin = await app.AdminClientAsync(customer);
        Assert.Equal("blockedInactive", (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{untouched}")).GetProperty("status").GetString());
        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{untouched}/history")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["credential.generated", "credential.blocked_inactive"], history.Select(e => e.GetProperty("action").GetString()));
        Assert.Equal("2026-11-25", history[1].GetProperty("details").GetProperty("lastUsedDay").GetString());

        using var reader = await app.SoftwareClientAsync(customer, ["notifications.read"], language: "en");
        var feed = await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications");
        var notices = feed.GetProperty("items").EnumerateArray().Where(n => n.GetProperty("kind").GetString() == "credential_blocked_inactive").ToList();
        Assert.Equal(new[] { idle, untouched }.Order(StringComparer.Ordinal), notices.Select(n => n.GetProperty("subject").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(notices, n => Assert.Contains("90 calendar days", n.GetProperty("text").GetString(), StringComparison.Ordinal));
        Assert.All(notices, n => Assert.Contains("календарных дней", n.GetProperty("texts").GetProperty("ru").GetString(), StringComparison.Ordinal));

        // Running again changes nothing and adds no notice; a new generation under the same name restores access.
        await RunInactivityJobAsync(app);
        var again = await reader.GetFromJsonAsync<JsonElement>($"/api/v1/notifications?after={feed.GetProperty("after").GetString()}");
        Assert.Empty(again.GetProperty("items").EnumerateArray());
        var regenerated = await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "Idle", scopes = new[] { "accounts.read" } });
        Assert.Equal(HttpStatusCode.Created, regenerated.StatusCode);
    }

    [Fact]
    public async Task LastUse_IsWrittenAtMostHourly_AndTheFirstUseOfEachDayIsJournaled()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customer);
        var pairs = app.Services.GetRequiredService<CredentialStore>();
        async Task<DateTimeOffset> LastUsedAsync() => (await pairs.GetAsync(clientId, CancellationToken.None))!.Credential.LastUsedAt;
        var created = await LastUsedAsync();

        app.Time.Advance(TimeSpan.FromMinutes(59));
        using var software = app.BearerClient(await app.TokenAsync(clientId, secret));
        await software.GetAsync("/api/v1/accounts");
        Assert.Equal(created, await LastUsedAsync());

        app.Time.Advance(TimeSpan.FromMinutes(2));
        await software.GetAsync("/api/v1/accounts");
        Assert.Equal(app.Time.GetUtcNow(), await LastUsedAsync());

        app.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode);
        using var admin = await app.AdminClientAsync(customer);
        var view = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{clientId}");
        Assert.Equal("2027-02-24", view.GetProperty("blockedInactiveFrom").GetString());
        var used = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{clientId}/history")).GetProperty("items").EnumerateArray()
            .Where(e => e.GetProperty("action").GetString() == "credential.used").ToList();
        Assert.Equal("2026-11-26", Assert.Single(used).GetProperty("details").GetProperty("day").GetString());

        // The due index follows the pair: only the newest day holds it.
        var store = app.Services.GetRequiredService<CredentialStore>();
        var dueIn89Days = await store.DueAsync(new DateOnly(2027, 2, 23), CancellationToken.None).ToListAsync();
        Assert.DoesNotContain(dueIn89Days, d => d.Key == clientId);
        Assert.Contains(await store.DueAsync(new DateOnly(2027, 2, 24), CancellationToken.None).ToListAsync(), d => d.Key == clientId);
    }

    [Fact]
    public async Task APairBlockedThroughAnotherInstance_StopsWorkingHereWithinTheStatusCacheTime()
    {
        await using var first = await TestApp.StartAsync();
        await using var second = await first.StartSiblingAsync();
        var customer = await first.CreateCustomerAsync();
        var (clientId, secret) = await first.GenerateCredentialAsync(customer);
        using var atSecond = second.BearerClient(await first.TokenAsync(clientId, secret));
        Assert.Equal(HttpStatusCode.OK, (await atSecond.GetAsync("/api/v1/accounts")).StatusCode);

        using var admin = await first.AdminClientAsync(customer);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/credentials/{clientId}/compromise", null)).StatusCode);

        second.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(HttpStatusCode.OK, (await atSecond.GetAsync("/api/v1/accounts")).StatusCode); // still trusted here, for under 5 s
        second.Time.Advance(TimeSpan.FromSeconds(0.1));
        var refused = await Problem.ReadAsync(await atSecond.GetAsync("/api/v1/accounts"));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_token"), (refused.Status, refused.Code));
    }

    [Fact]
    public async Task RepeatedFailures_LockTheClientIdForUnknownAddresses_WithoutRevealingTheSecret_AndTheLockIsBounded()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Credentials:ClientFreeFailures"] = "3",
            ["Credentials:AddressFreeFailures"] = "1000",
            ["Credentials:MaxLockSeconds"] = "60",
        });
        var customer = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customer);
        var wrong = CredentialRules.NewSecret();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("invalid_client", (await OAuthError.ReadAsync(await app.RequestTokenAsync(clientId, wrong))).Error);
        }

        Assert.Equal("invalid_client", (await OAuthError.ReadAsync(await app.RequestTokenAsync(clientId, wrong))).Error); // the 4th locks for 1 s
        var lockedRight = await app.RequestTokenAsync(clientId, secret);
        var lockedWrong = await app.RequestTokenAsync(clientId, wrong);
        Assert.Equal(HttpStatusCode.TooManyRequests, lockedRight.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, lockedWrong.StatusCode);
        Assert.Equal(await lockedWrong.Content.ReadAsStringAsync(), await lockedRight.Content.ReadAsStringAsync()); // the answer tells nothing
        Assert.Equal(TimeSpan.FromSeconds(1), lockedRight.Headers.RetryAfter?.Delta);

        // Each further failure doubles the wait, up to the cap; after the cap the right secret always gets through.
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 10; i++)
        {
            app.Time.Advance(waits.LastOrDefault(TimeSpan.FromSeconds(1)));
            var response = await app.RequestTokenAsync(clientId, wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var next = await app.RequestTokenAsync(clientId, wrong);
            waits.Add(next.Headers.RetryAfter!.Delta!.Value);
        }

        Assert.Equal([2, 4, 8, 16, 32, 60, 60, 60, 60, 60], waits.Select(w => (int)w.TotalSeconds));
        app.Time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode);
        using var admin = await app.AdminClientAsync(customer);
        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{clientId}/history")).GetProperty("items").EnumerateArray();
        Assert.Contains(history, e => e.GetProperty("details").TryGetProperty("lockedForSeconds", out var s) && s.GetString() == "60");
    }

    [Fact]
    public async Task AnAddressThatAuthenticatedBefore_PassesALockOthersCaused()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Credentials:ClientFreeFailures"] = "2",
            ["Credentials:AddressFreeFailures"] = "1000",
        });
        var customer = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customer);
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode); // this address is now known

        for (var i = 0; i < 6; i++)
        {
            await app.RequestTokenAsync(clientId, CredentialRules.NewSecret());
        }

        var pair = (await app.Services.GetRequiredService<CredentialStore>().GetAsync(clientId, CancellationToken.None))!.Credential;
        Assert.True(pair.LockedUntil > app.Time.GetUtcNow());
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode);
    }

    [Fact]
    public async Task AnAddressThatKeepsFailing_IsSlowedThenRefused_ForEveryClientId()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Credentials:AddressFreeFailures"] = "2" });
        var customer = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customer);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await app.RequestTokenAsync(CredentialRules.NewClientId(customer), secret)).StatusCode);
        }

        var refused = await app.RequestTokenAsync(clientId, secret);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("temporarily_unavailable", (await OAuthError.ReadAsync(refused)).Error);
        app.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode);
    }

    [Fact]
    public async Task RotatedKeys_KeepOldTokensAndSecretsValid_AndUpgradeTheStoredDigest()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customer);
        var oldToken = await app.TokenAsync(clientId, secret);
        var store = app.Services.GetRequiredService<CredentialStore>();
        var before = (await store.GetAsync(clientId, CancellationToken.None))!.Credential.SecretKeyVersion;

        var secrets = app.Services.GetRequiredService<LocalSecretStore>();
        var signing = await secrets.RotateAsync(AccessTokens.KeyName, CancellationToken.None);
        var hashing = await secrets.RotateAsync(SecretHasher.KeyName, CancellationToken.None);

        using var old = app.BearerClient(oldToken);
        Assert.Equal(HttpStatusCode.OK, (await old.GetAsync("/api/v1/accounts")).StatusCode);
        var newToken = await app.TokenAsync(clientId, secret);
        Assert.Contains(signing.Version, Header(newToken), StringComparison.Ordinal);
        Assert.DoesNotContain(signing.Version, Header(oldToken), StringComparison.Ordinal);
        var after = (await store.GetAsync(clientId, CancellationToken.None))!.Credential.SecretKeyVersion;
        Assert.NotEqual(before, after);
        Assert.Equal(hashing.Version, after);
        Assert.Equal(HttpStatusCode.OK, (await app.RequestTokenAsync(clientId, secret)).StatusCode);

        static string Header(string token) => System.Text.Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.Split('.')[0]));
    }

    [Fact]
    public async Task Secrets_AndTokens_NeverReachATable_OrALog()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Trace" },
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var customer = await app.CreateCustomerAsync();
        var (clientId, secret) = await app.GenerateCredentialAsync(customer);
        var token = await app.TokenAsync(clientId, secret);
        using var software = app.BearerClient(token);
        await software.GetAsync("/api/v1/accounts");
        var typo = secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A');
        await app.RequestTokenAsync(clientId, typo);
        await app.RequestTokenAsync(secret, secret); // a secret pasted as the Client ID
        using var admin = await app.AdminClientAsync(customer);
        var reissued = await (await admin.PostAsJsonAsync($"/api/v1/credentials/{clientId}/reissue", new { })).Content.ReadFromJsonAsync<JsonElement>();
        var secondSecret = reissued.GetProperty("clientSecret").GetString()!;
        var secondToken = await app.TokenAsync(reissued.GetProperty("clientId").GetString()!, secondSecret);
        await admin.PostAsync($"/api/v1/credentials/{clientId}/compromise", null);

        string[] forbidden = [secret, secret[8..], typo, secondSecret, token, token.Split('.')[2], secondToken];
        var service = new TableServiceClient(Azurite.ConnectionString);
        var scanned = 0;
        await foreach (var table in service.QueryAsync(t => t.Name.CompareTo(app.TablePrefix) >= 0 && t.Name.CompareTo(app.TablePrefix + "~") < 0))
        {
            await foreach (var entity in service.GetTableClient(table.Name).QueryAsync<TableEntity>())
            {
                scanned++;
                var text = string.Join("\n", entity.Select(p => p.Key + "=" + Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture)));
                Assert.All(forbidden, f => Assert.DoesNotContain(f, text, StringComparison.Ordinal));
            }
        }

        Assert.True(scanned > 10, $"only {scanned} entities scanned");
        Assert.NotEmpty(logs.Messages);
        Assert.All(logs.Messages, m => Assert.All(forbidden, f => Assert.DoesNotContain(f, m, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TwoInstancesRunningTheJobAtOnce_BlockEachDuePairOnce_WithOneJournalEntryAndOneNotice()
    {
        await using var first = await TestApp.StartAsync();
        await using var second = await first.StartSiblingAsync();
        var customer = await first.CreateCustomerAsync();
        var now = first.Time.GetUtcNow();
        var today = BusinessApi.Calendar.KazakhstanTime.LocalDate(now);
        var pairs = Enumerable.Range(0, 12).Select(i => new ClientCredential(customer, CredentialRules.NewClientId(customer), $"Product {i}", ["accounts.read"], "v1", CredentialStatus.Active, now.AddDays(-120))
        {
            SecretHash = Convert.ToBase64String(new byte[32]),
            SecretKeyVersion = "seeded",
            LastUsedAt = now.AddDays(-95 + i),
            LastUsedDay = today.AddDays(-95 + i), // the first 6 are due (90 days or more), the others not yet
        }).ToList();
        await first.Services.GetRequiredService<CredentialStore>().BulkInsertAsync(pairs, CancellationToken.None);

        await Task.WhenAll(RunInactivityJobAsync(first), RunInactivityJobAsync(second));

        using var admin = await first.AdminClientAsync(customer);
        foreach (var (pair, index) in pairs.Select((p, i) => (p, i)))
        {
            var view = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{pair.ClientId}");
            var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{pair.ClientId}/history?from=2026-01-01")).GetProperty("items").EnumerateArray();
            var blocks = history.Count(e => e.GetProperty("action").GetString() == "credential.blocked_inactive");
            Assert.Equal(index <= 5 ? ("blockedInactive", 1) : ("active", 0), (view.GetProperty("status").GetString(), blocks));
        }

        using var reader = await first.SoftwareClientAsync(customer, ["notifications.read"]);
        var notices = (await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(6, notices.Count(n => n.GetProperty("kind").GetString() == "credential_blocked_inactive"));
        Assert.Equal(6, notices.Select(n => n.GetProperty("subject").GetString()).Distinct().Count());
    }

    private static async Task RunInactivityJobAsync(TestApp app)
    {
        var job = app.Services.GetServices<IScheduledJob>().OfType<CredentialInactivityJob>().Single();
        await job.RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), CancellationToken.None);
    }
}

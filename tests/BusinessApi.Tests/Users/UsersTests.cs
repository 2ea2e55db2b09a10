using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Accounts;
using BusinessApi.Tests.Infrastructure;
using BusinessApi.Users;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Users;

/// <summary>Users, passwords and sessions over real HTTP on Azurite, on a fake clock (R-13, R-20..R-29).</summary>
public sealed class UsersTests
{
    private const string Password = CustomerKit.AdminPassword;

    [Fact]
    public async Task FirstSignIn_YieldsOnlyAPasswordChange_ThatCannotBeSkipped_AndOverridesMinimumAge()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        using var ops = app.OperatorClient();
        var created = await (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customer}/users", new
        {
            login = "Ivanov.A", fullName = "Иванов Алексей", iin = "061211600012", isAdmin = false,
            permissions = new { accounts = new[] { "*" }, functions = new[] { "view" } },
        })).Content.ReadFromJsonAsync<JsonElement>();
        var temporary = created.GetProperty("temporaryPassword").GetString()!;

        var first = await Problem.ReadAsync(await app.RequestSessionAsync("ivanov.a", temporary)); // logins ignore case
        Assert.Equal((HttpStatusCode.Forbidden, "password_change_required"), (first.Status, first.Code));
        using var restricted = app.BearerClient(first.Body.GetProperty("sessionToken").GetString()!);
        Assert.Equal("password_change_required", (await Problem.ReadAsync(await restricted.GetAsync("/api/v1/accounts"))).Code);
        Assert.True((await restricted.GetFromJsonAsync<JsonElement>("/api/v1/users/me")).GetProperty("mustChangePassword").GetBoolean());

        // Changing it at once is allowed (R-25 prevails over the minimum age); the session becomes a full one.
        Assert.Equal(HttpStatusCode.NoContent, (await restricted.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = temporary, newPassword = Password })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await restricted.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await restricted.GetAsync("/api/v1/accounts")).StatusCode);
        var session = await (await app.RequestSessionAsync("IVANOV.A", Password)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1800, session.GetProperty("idleTimeoutSeconds").GetInt32());
        Assert.Empty(session.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public async Task EveryBrokenRule_IsReported_AllAtOnce_InTheCallersLanguage()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer);
        using var user = app.BearerClient(await app.SignInAsync(login, Password), "en");

        var response = await user.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = Password, newPassword = "aaaaaaa" });
        var problem = await Problem.ReadAsync(response);

        Assert.Equal((HttpStatusCode.UnprocessableEntity, "password_rules_broken"), (problem.Status, problem.Code));
        Assert.Equal(["password_too_short", "password_too_simple", "password_too_recent"], problem.Errors.Select(e => e.Code));
        Assert.Contains("8", problem.Errors[0].Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await user.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = Password, newPassword = Password })).StatusCode);

        // 23 hours after the last change (a Wednesday) is too early; 24 hours, on Thursday, is not.
        app.Time.Advance(TimeSpan.FromHours(23));
        using var later = app.BearerClient(await app.SignInAsync(login, Password));
        var early = await Problem.ReadAsync(await later.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = Password, newPassword = "Next-Passw0rd!" }));
        Assert.Equal(["password_too_recent"], early.Errors.Select(e => e.Code));
        app.Time.Advance(TimeSpan.FromMinutes(59));
        using var edge = app.BearerClient(await app.SignInAsync(login, Password));
        Assert.Equal("password_too_recent", (await Problem.ReadAsync(await edge.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = Password, newPassword = "Next-Passw0rd!" }))).Errors.Single().Code);
        app.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.NoContent, (await edge.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = Password, newPassword = "Next-Passw0rd!" })).StatusCode);
    }

    [Fact]
    public async Task ANewPassword_MayNotRepeatTheLast7_TheEighthIsAllowed()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer, password: "History-0!");
        var current = "History-0!";
        for (var i = 1; i <= 7; i++)
        {
            app.Time.Advance(TimeSpan.FromDays(3)); // past the minimum age, whatever the weekday
            using var session = app.BearerClient(await app.SignInAsync(login, current));
            var next = $"History-{i}!";
            Assert.Equal(HttpStatusCode.NoContent, (await session.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = current, newPassword = next })).StatusCode);
            current = next;
        }

        // Newest first: History-7 (the current one) … History-1 is the 7th, History-0 the 8th.
        app.Time.Advance(TimeSpan.FromDays(3));
        using var user = app.BearerClient(await app.SignInAsync(login, current));
        var seventh = await Problem.ReadAsync(await user.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = current, newPassword = "History-1!" }));
        Assert.Equal(["password_reused"], seventh.Errors.Select(e => e.Code));
        Assert.Equal(HttpStatusCode.NoContent, (await user.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = current, newPassword = "History-0!" })).StatusCode);
    }

    [Fact]
    public async Task FromDay53_SignInWarns_OnDay60ItAllowsOnlyAPasswordChange()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer); // the password is set on 2026-11-25, day 0
        var day0 = new DateTimeOffset(2026, 11, 25, 0, 0, 0, KazakhstanTime.Offset);
        async Task<HttpResponseMessage> SignInOnDay(int day, int minuteOfDay = 600)
        {
            app.Time.SetUtcNow(day0.AddDays(day).AddMinutes(minuteOfDay));
            return await app.RequestSessionAsync(login, Password);
        }

        await SignInOnDay(25); // activity, so the 30-day rule stays out of the way
        await SignInOnDay(50);
        var day52 = await (await SignInOnDay(52)).Content.ReadFromJsonAsync<JsonElement>();
        var day53 = await (await SignInOnDay(53)).Content.ReadFromJsonAsync<JsonElement>();
        var day59Response = await SignInOnDay(59, minuteOfDay: (23 * 60) + 45);
        var day59 = await day59Response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Empty(day52.GetProperty("warnings").EnumerateArray());
        Assert.Equal(["password_expires_soon"], day53.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal(7, day53.GetProperty("passwordDaysLeft").GetInt32());
        Assert.Equal(1, day59.GetProperty("passwordDaysLeft").GetInt32());
        Assert.Equal(day0.AddDays(60), day53.GetProperty("passwordExpiresAt").GetDateTimeOffset());

        // A session open at 23:59 on day 59 turns into a password-change session at midnight.
        using var open = app.BearerClient(day59.GetProperty("sessionToken").GetString()!);
        app.Time.SetUtcNow(day0.AddDays(59).AddHours(23).AddMinutes(59));
        Assert.Equal(HttpStatusCode.OK, (await open.GetAsync("/api/v1/accounts")).StatusCode);
        app.Time.SetUtcNow(day0.AddDays(60));
        Assert.Equal("password_change_required", (await Problem.ReadAsync(await open.GetAsync("/api/v1/accounts"))).Code);

        Assert.Equal("password_change_required", (await Problem.ReadAsync(await SignInOnDay(60))).Code);
        var day61 = await Problem.ReadAsync(await SignInOnDay(61));
        Assert.Equal("password_change_required", day61.Code);
        using var changer = app.BearerClient(day61.Body.GetProperty("sessionToken").GetString()!);
        Assert.Equal(HttpStatusCode.NoContent, (await changer.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = Password, newPassword = "Renewed-Passw0rd!" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.RequestSessionAsync(login, "Renewed-Passw0rd!")).StatusCode);

        // The warning is also a notice in the customer's feed, once per password.
        using var reader = await app.SoftwareClientAsync(customer, ["notifications.read"]);
        var notices = (await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetProperty("items").EnumerateArray()
            .Where(n => n.GetProperty("kind").GetString() == "password_expires_soon").ToList();
        Assert.Single(notices);
    }

    [Fact]
    public async Task FiveWrongPasswordsInARow_LockSignIn_WithoutTellingWhetherTheNextOneIsRight()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer);

        // Four wrong, then the right one: the count starts again.
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("invalid_credentials", (await Problem.ReadAsync(await app.RequestSessionAsync(login, "Wrong-Passw0rd!"))).Code);
        }

        Assert.Equal(HttpStatusCode.Created, (await app.RequestSessionAsync(login, Password)).StatusCode);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("invalid_credentials", (await Problem.ReadAsync(await app.RequestSessionAsync(login, "Wrong-Passw0rd!"))).Code);
        }

        var fifth = await app.RequestSessionAsync(login, "Wrong-Passw0rd!");
        Assert.Equal((HttpStatusCode)423, fifth.StatusCode);
        Assert.Equal(TimeSpan.FromMinutes(30), fifth.Headers.RetryAfter?.Delta);
        var right = await Problem.ReadAsync(await app.RequestSessionAsync(login, Password));
        var wrong = await Problem.ReadAsync(await app.RequestSessionAsync(login, "Wrong-Passw0rd!"));
        Assert.Equal(("account_locked", "account_locked"), (right.Code, wrong.Code));
        Assert.Equal(right.Body.GetProperty("lockedUntil").GetString(), wrong.Body.GetProperty("lockedUntil").GetString());

        app.Time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal((HttpStatusCode)423, (await app.RequestSessionAsync(login, Password)).StatusCode);
        app.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.Created, (await app.RequestSessionAsync(login, Password)).StatusCode);

        // An unknown login answers exactly like a wrong password.
        var unknown = await Problem.ReadAsync(await app.RequestSessionAsync("nobody-" + Guid.NewGuid().ToString("N")[..6], Password));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_credentials"), (unknown.Status, unknown.Code));
    }

    [Fact]
    public async Task ASessionEnds_After30MinutesWithoutActivity_NotAtTheLastSecondBefore()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer);
        using var user = app.BearerClient(await app.SignInAsync(login, Password));

        app.Time.Advance(TimeSpan.FromMinutes(29) + TimeSpan.FromSeconds(59));
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/v1/users/me")).StatusCode);
        app.Time.Advance(TimeSpan.FromMinutes(29) + TimeSpan.FromSeconds(59)); // measured from the last request, not the sign-in
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/v1/users/me")).StatusCode);
        app.Time.Advance(TimeSpan.FromMinutes(30));
        var ended = await Problem.ReadAsync(await user.GetAsync("/api/v1/users/me"));
        Assert.Equal((HttpStatusCode.Unauthorized, "session_ended"), (ended.Status, ended.Code));
    }

    [Fact]
    public async Task SignOut_EndsTheSession_AndSignOutEverywhere_EndsThemAll()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer);
        using var first = app.BearerClient(await app.SignInAsync(login, Password));
        using var second = app.BearerClient(await app.SignInAsync(login, Password));
        using var third = app.BearerClient(await app.SignInAsync(login, Password));

        Assert.Equal(HttpStatusCode.NoContent, (await first.DeleteAsync("/api/v1/sessions/current")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await first.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/v1/users/me")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await second.DeleteAsync("/api/v1/sessions")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await second.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await third.GetAsync("/api/v1/users/me")).StatusCode);
    }

    [Fact]
    public async Task NoActivityForMoreThan30Days_BlocksTheUser_30DaysDoNot()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (active, _) = await app.CreateUserAsync(customer);
        var (idle, idleId) = await app.CreateUserAsync(customer);
        var day0 = new DateTimeOffset(2026, 11, 25, 0, 0, 0, KazakhstanTime.Offset);

        app.Time.SetUtcNow(day0.AddDays(30).AddHours(23));
        Assert.Equal(HttpStatusCode.Created, (await app.RequestSessionAsync(active, Password)).StatusCode);
        app.Time.SetUtcNow(day0.AddDays(31));
        var blocked = await Problem.ReadAsync(await app.RequestSessionAsync(idle, Password));
        Assert.Equal((HttpStatusCode.Forbidden, "user_blocked"), (blocked.Status, blocked.Code));
        Assert.Equal("invalid_credentials", (await Problem.ReadAsync(await app.RequestSessionAsync(idle, "Wrong-Passw0rd!"))).Code); // no status to a guesser

        await app.Services.GetServices<IScheduledJob>().OfType<UserInactivityJob>().Single()
            .RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), CancellationToken.None);
        using var admin = await app.AdminClientAsync(customer);
        Assert.Equal("blockedInactive", (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{idleId}")).GetProperty("status").GetString());
        using var reader = await app.SoftwareClientAsync(customer, ["notifications.read"]);
        var notices = (await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetProperty("items").EnumerateArray();
        Assert.Contains(notices, n => n.GetProperty("kind").GetString() == "user_blocked_inactive" && n.GetProperty("subject").GetString() == idleId);

        // The admin unblocks: a new 30 days start today.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/users/{idleId}/unblock", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.RequestSessionAsync(idle, Password)).StatusCode);
    }

    [Fact]
    public async Task TheInactivityJob_ReadsOnlyDueUsers_AndTwoInstancesBlockEachOnce()
    {
        await using var first = await TestApp.StartAsync();
        await using var second = await first.StartSiblingAsync();
        var customer = await first.CreateCustomerAsync();
        var due = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            due.Add((await first.CreateUserAsync(customer)).UserId);
        }

        // 2,000 users who are not due: index rows on later days, which the job must never read.
        var index = new Azure.Data.Tables.TableServiceClient(Azurite.ConnectionString).GetTableClient(first.TablePrefix + UserStore.DueTable);
        foreach (var day in Enumerable.Range(40, 20))
        {
            var partition = new DateOnly(2026, 11, 25).AddDays(day).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
            await index.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(n => new Azure.Data.Tables.TableTransactionAction(
                Azure.Data.Tables.TableTransactionActionType.UpsertReplace, new Azure.Data.Tables.TableEntity(partition, $"usr_{day:x2}{n:x30}"))));
        }

        // Counted, and the monitors installed, before the clock moves: once it does, the scheduler's own catch-up
        // run may block them first, and its calls count with the two runs below.
        Assert.Equal(3, await first.Services.GetRequiredService<UserStore>().DueAsync(new DateOnly(2026, 12, 26), CancellationToken.None).CountAsync());
        var calls = 0;
        foreach (var app in new[] { first, second })
        {
            app.Services.GetRequiredService<BusinessApi.Testing.StorageCallMonitor>().Plan = call =>
            {
                if (call.Uri.Contains(first.TablePrefix + "Users", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref calls);
                }

                return BusinessApi.Testing.StorageFault.None;
            };
        }

        first.Time.SetUtcNow(new DateTimeOffset(2026, 12, 26, 1, 0, 0, KazakhstanTime.Offset)); // day 31
        second.Time.SetUtcNow(first.Time.GetUtcNow());

        await Task.WhenAll(RunJobAsync(first), RunJobAsync(second));

        // Per run: one query of the due days, then a read, a conditional write (re-read after a lost race) and an index
        // delete per due user. Up to three runs: the two here and the scheduler's catch-up after the clock jump. Far
        // from one call per index row (2,003); the due query above returning 3 rows is the proof it reads no others.
        Assert.InRange(calls, 3, 3 * (1 + (3 * 6)));
        using var admin = await first.AdminClientAsync(customer);
        foreach (var userId in due)
        {
            Assert.Equal("blockedInactive", (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{userId}")).GetProperty("status").GetString());
            var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{userId}/history")).GetProperty("items").EnumerateArray();
            Assert.Equal(1, history.Count(e => e.GetProperty("action").GetString() == "user.blocked_inactive"));
        }

        static Task RunJobAsync(TestApp app) => app.Services.GetServices<IScheduledJob>().OfType<UserInactivityJob>().Single()
            .RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), CancellationToken.None);
    }

    [Fact]
    public async Task BlockingAUser_EndsTheirSessionsAtOnce_AndAnOperatorOrAdminUnblocks()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, userId) = await app.CreateUserAsync(customer);
        using var user = app.BearerClient(await app.SignInAsync(login, Password));
        using var admin = await app.AdminClientAsync(customer);

        Assert.Equal("blocked", (await (await admin.PostAsync($"/api/v1/users/{userId}/block", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await user.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal("user_blocked", (await Problem.ReadAsync(await app.RequestSessionAsync(login, Password))).Code);

        using var ops = app.OperatorClient();
        Assert.Equal(HttpStatusCode.OK, (await ops.PostAsync($"/api/v1/ops/users/{userId}/unblock", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await app.RequestSessionAsync(login, Password)).StatusCode);

        // A password reset by the admin ends sessions and forces a change at the next sign-in.
        using var again = app.BearerClient(await app.SignInAsync(login, Password));
        var reset = await (await admin.PostAsync($"/api/v1/users/{userId}/password-reset", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal("password_change_required", (await Problem.ReadAsync(await app.RequestSessionAsync(login, reset.GetProperty("temporaryPassword").GetString()!))).Code);
        Assert.Equal("invalid_credentials", (await Problem.ReadAsync(await app.RequestSessionAsync(login, Password))).Code);

        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{userId}/history")).GetProperty("items").EnumerateArray()
            .Select(e => (e.GetProperty("action").GetString(), e.GetProperty("outcome").GetString())).ToList();
        Assert.Equal(("user.created", "success"), history[0]);
        Assert.Contains(("user.password_changed", "success"), history);
        Assert.Contains(("user.blocked", "success"), history);
        Assert.Contains(("user.sign_in", "denied"), history);
        Assert.Contains(("user.unblocked", "success"), history);
        Assert.Contains(("user.password_reset", "success"), history);
        Assert.Contains(("user.signed_in", "success"), history);
    }

    [Fact]
    public async Task Passwords_AndSessionTokens_NeverReachATable_OrALog()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = await TestApp.StartAsync(
            new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Trace" },
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var customer = await app.CreateCustomerAsync();
        using var ops = app.OperatorClient();
        var created = await (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customer}/users", new
        {
            login = "secretive", fullName = "С", iin = "061211600012", permissions = new { accounts = new[] { "*" }, functions = new[] { "view" } },
        })).Content.ReadFromJsonAsync<JsonElement>();
        var temporary = created.GetProperty("temporaryPassword").GetString()!;
        var restricted = (await Problem.ReadAsync(await app.RequestSessionAsync("secretive", temporary))).Body.GetProperty("sessionToken").GetString()!;
        using var changer = app.BearerClient(restricted);
        await changer.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = temporary, newPassword = "Very-Secret-42" });
        await changer.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = "Very-Secret-42", newPassword = "short" });
        await app.RequestSessionAsync("secretive", "Wrong-Secret-43");
        var session = await app.SignInAsync("secretive", "Very-Secret-42");
        using var user = app.BearerClient(session);
        await user.GetAsync("/api/v1/accounts");

        string[] forbidden = [temporary, "Very-Secret-42", "Wrong-Secret-43", restricted, session];
        var service = new Azure.Data.Tables.TableServiceClient(Azurite.ConnectionString);
        await foreach (var table in service.QueryAsync(t => t.Name.CompareTo(app.TablePrefix) >= 0 && t.Name.CompareTo(app.TablePrefix + "~") < 0))
        {
            await foreach (var entity in service.GetTableClient(table.Name).QueryAsync<Azure.Data.Tables.TableEntity>())
            {
                var text = string.Join("\n", entity.Select(p => p.Key + "=" + Convert.ToString(p.Value, System.Globalization.CultureInfo.InvariantCulture)));
                Assert.All(forbidden, f => Assert.DoesNotContain(f, text, StringComparison.Ordinal));
            }
        }

        Assert.All(logs.Messages, m => Assert.All(forbidden, f => Assert.DoesNotContain(f, m, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Powers_LimitAccountsAndFunctions_AndChangesApplyToOpenSessionsAtOnce()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var first = BankData.NewIban().Value;
        var second = BankData.NewIban().Value;
        using var ops = app.OperatorClient();
        foreach (var iban in new[] { first, second })
        {
            (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customer}/accounts", new { iban, currency = "KZT" })).EnsureSuccessStatusCode();
        }

        var (login, userId) = await app.CreateUserAsync(customer, functions: ["view"], accounts: [first]);
        using var user = app.BearerClient(await app.SignInAsync(login, Password));
        var listed = await user.GetFromJsonAsync<JsonElement>("/api/v1/accounts");
        Assert.Equal([first], listed.EnumerateArray().Select(a => a.GetProperty("iban").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync($"/api/v1/accounts/{second}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.GetAsync($"/api/v1/accounts/{second}/statement?from=2026-11-01&to=2026-11-25")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/credentials")).StatusCode);

        using var admin = await app.AdminClientAsync(customer);
        var widened = await admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new { permissions = new { accounts = new[] { "*" }, functions = new[] { "view" } } });
        Assert.Equal(HttpStatusCode.OK, widened.StatusCode);
        Assert.Equal(2, (await user.GetFromJsonAsync<JsonElement>("/api/v1/accounts")).GetArrayLength());

        await admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new { permissions = new { accounts = new[] { "*" }, functions = new[] { "create" } } });
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/api/v1/accounts")).StatusCode);

        // Another customer's admin sees none of it.
        using var stranger = await app.AdminClientAsync(await app.CreateCustomerAsync());
        Assert.Equal("user_not_found", (await Problem.ReadAsync(await stranger.GetAsync($"/api/v1/users/{userId}"))).Code);
        Assert.Equal("user_not_found", (await Problem.ReadAsync(await stranger.PostAsync($"/api/v1/users/{userId}/block", null))).Code);
        var foreignAccount = await Problem.ReadAsync(await stranger.PostAsJsonAsync("/api/v1/users", new
        {
            login = "x" + Guid.NewGuid().ToString("N")[..8], fullName = "X", iin = "061211600012",
            permissions = new { accounts = new[] { first }, functions = new[] { "view" } },
        }));
        Assert.Contains(foreignAccount.Errors, e => e.Code == "not_customers_account");
    }

    [Fact]
    public async Task ASoftwareSession_IsBoundToItsClientId_WithScopesIntersectedWithThePowers()
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        var (login, _) = await app.CreateUserAsync(customer, functions: ["view"]);
        var (clientId, secret) = await app.GenerateCredentialAsync(customer, ["accounts.read", "documents.write"]);
        var token = await app.TokenAsync(clientId, secret);

        var response = await app.RequestSessionAsync(login, Password, token);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("software", HttpStatusCode.Created), (body.GetProperty("kind").GetString(), response.StatusCode));
        using var session = app.BearerClient(body.GetProperty("sessionToken").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/api/v1/accounts")).StatusCode); // accounts.read: the token's and the user's
        Assert.Equal(HttpStatusCode.Forbidden, (await session.GetAsync("/api/v1/notifications")).StatusCode); // not the token's
        Assert.Equal(HttpStatusCode.Forbidden, (await session.GetAsync("/api/v1/credentials")).StatusCode); // never a software session's

        // Another customer's token cannot open a session for this user; a compromised pair ends its sessions.
        var (otherId, otherSecret) = await app.GenerateCredentialAsync(await app.CreateCustomerAsync());
        var otherToken = await app.TokenAsync(otherId, otherSecret);
        Assert.Equal("invalid_credentials", (await Problem.ReadAsync(await app.RequestSessionAsync(login, Password, otherToken))).Code);
        Assert.Equal("invalid_token", (await Problem.ReadAsync(await app.RequestSessionAsync(login, Password, otherToken[..^4] + "AAAA"))).Code);
        using var admin = await app.AdminClientAsync(customer);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/credentials/{clientId}/compromise", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.GetAsync("/api/v1/accounts")).StatusCode);
    }

    [Theory]
    [InlineData("""{"fullName":"A","iin":"061211600012","permissions":{"accounts":["*"],"functions":["view"]}}""", "login", "required")]
    [InlineData("""{"login":"a b","fullName":"A","iin":"061211600012","permissions":{"accounts":["*"],"functions":["view"]}}""", "login", "invalid_login")]
    [InlineData("""{"login":"abc","fullName":"A","iin":"061211600013","permissions":{"accounts":["*"],"functions":["view"]}}""", "iin", "invalid_iin")]
    [InlineData("""{"login":"abc","fullName":"A","iin":"061211600012","permissions":{"accounts":["*"],"functions":["approve"]}}""", "permissions.functions", "unknown_function")]
    [InlineData("""{"login":"abc","fullName":"A","iin":"061211600012"}""", "permissions", "required")]
    public async Task BadUserRequests_AreFieldErrors(string json, string field, string code)
    {
        await using var app = await TestApp.StartAsync();
        var customer = await app.CreateCustomerAsync();
        using var ops = app.OperatorClient();

        var problem = await Problem.ReadAsync(await ops.PostAsync($"/api/v1/ops/customers/{customer}/users", new StringContent(json, System.Text.Encoding.UTF8, "application/json")));

        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (problem.Status, problem.Code));
        Assert.Contains(problem.Errors, e => e.Field == field && e.Code == code);
    }

    [Fact]
    public async Task Logins_AreUniqueWithoutCase_AcrossCustomers()
    {
        await using var app = await TestApp.StartAsync();
        var (login, _) = await app.CreateUserAsync(await app.CreateCustomerAsync());
        using var ops = app.OperatorClient();

        var taken = await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/customers/{await app.CreateCustomerAsync()}/users", new
        {
            login = login.ToUpperInvariant(), fullName = "B", iin = "061211600012", permissions = new { accounts = new[] { "*" }, functions = new[] { "view" } },
        }));

        Assert.Equal((HttpStatusCode.Conflict, "login_taken"), (taken.Status, taken.Code));
        Assert.False(taken.Body.TryGetProperty("userId", out _)); // another customer's user is not named
    }
}

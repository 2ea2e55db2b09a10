using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Users;

/// <summary>Escalation inside a customer, through real HTTP: powers a user does not hold, pairs that reach further than their creator, webhooks on a read scope.</summary>
public sealed class PrivilegeTests : IClassFixture<PrivilegeTests.Fixture>
{
    private const string Password = CustomerKit.AdminPassword;
    private readonly Fixture _fixture;

    public PrivilegeTests(Fixture fixture) => _fixture = fixture;

    public sealed class Fixture : IAsyncLifetime
    {
        public TestApp App { get; private set; } = null!;

        public async Task InitializeAsync() => App = await TestApp.StartAsync();

        public async Task DisposeAsync() => await App.DisposeAsync();
    }

    private TestApp App => _fixture.App;

    [Fact]
    public async Task AUserWithManageUsers_CannotRaiseThemselvesOrOthers_BeyondTheirOwnPowers()
    {
        var customer = await App.CreateCustomerAsync();
        var own = await App.OpenAccountAsync(customer, 0m);
        var other = await App.OpenAccountAsync(customer, 0m);
        var (login, managerId) = await App.CreateUserAsync(customer, functions: ["view", "create", "manageUsers"], accounts: [own]);
        var (_, clerkId) = await App.CreateUserAsync(customer, functions: ["view"], accounts: [own]);
        using var manager = App.BearerClient(await App.SignInAsync(login, Password));

        await AssertRefusedAsync(await manager.PatchAsJsonAsync($"/api/v1/users/{managerId}", new { isAdmin = true }), "permissions", "own_powers");
        await AssertRefusedAsync(await manager.PatchAsJsonAsync($"/api/v1/users/{managerId}",
            new { permissions = new { accounts = new[] { "*" }, functions = new[] { "view", "create", "sign", "manageUsers" } } }), "permissions", "own_powers");
        await AssertRefusedAsync(await manager.PatchAsJsonAsync($"/api/v1/users/{clerkId}", new { isAdmin = true }), "isAdmin", "admin_only");
        await AssertRefusedAsync(await manager.PatchAsJsonAsync($"/api/v1/users/{clerkId}",
            new { permissions = new { accounts = new[] { own }, functions = new[] { "view", "sign" } } }), "permissions.functions", "power_not_held");
        await AssertRefusedAsync(await manager.PatchAsJsonAsync($"/api/v1/users/{clerkId}",
            new { permissions = new { accounts = new[] { own, other }, functions = new[] { "view" } } }), "permissions.accounts", "power_not_held");
        await AssertRefusedAsync(await manager.PostAsJsonAsync("/api/v1/users", new
        {
            login = "u" + Guid.NewGuid().ToString("N")[..12], fullName = "Сообщник", iin = "061211600012", isAdmin = false,
            permissions = new { accounts = new[] { own }, functions = new[] { "view", "manageUsers" } },
        }), "permissions.functions", "admin_only");

        // What the manager holds, the manager may give.
        var fine = await manager.PatchAsJsonAsync($"/api/v1/users/{clerkId}", new { permissions = new { accounts = new[] { own }, functions = new[] { "view", "create" } } });
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);

        using var admin = await App.AdminClientAsync(customer);
        var me = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/users/{managerId}");
        Assert.False(me.GetProperty("isAdmin").GetBoolean());
        Assert.Equal([own], me.GetProperty("permissions").GetProperty("accounts").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public async Task PowersNamingMoreThanAHundredAccounts_AreRefused()
    {
        var customer = await App.CreateCustomerAsync();
        using var admin = await App.AdminClientAsync(customer);
        var response = await admin.PostAsJsonAsync("/api/v1/users", new
        {
            login = "u" + Guid.NewGuid().ToString("N")[..12], fullName = "Много счетов", iin = "061211600012", isAdmin = false,
            permissions = new { accounts = Enumerable.Range(0, 101).Select(_ => Accounts.BankData.NewIban().Value).ToArray(), functions = new[] { "view" } },
        });
        var problem = await Problem.ReadAsync(response);
        Assert.Equal((HttpStatusCode.BadRequest, "permissions.accounts", "too_many"), (problem.Status, problem.Errors[0].Field, problem.Errors[0].Code));
    }

    [Fact]
    public async Task APairMintedByAUserOfOneAccount_ReadsThatAccountOnly()
    {
        var customer = await App.CreateCustomerAsync();
        var own = await App.OpenAccountAsync(customer, 10m);
        var other = await App.OpenAccountAsync(customer, 20m);
        var (login, _) = await App.CreateUserAsync(customer, functions: ["view", "manageCredentials"], accounts: [own]);
        using var integrator = App.BearerClient(await App.SignInAsync(login, Password));
        var created = await integrator.PostAsJsonAsync("/api/v1/credentials", new { name = "ERP", scopes = new[] { "accounts.read", "statements.read" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var pair = await created.Content.ReadFromJsonAsync<JsonElement>();
        using var software = App.BearerClient(await App.TokenAsync(pair.GetProperty("clientId").GetString()!, pair.GetProperty("clientSecret").GetString()!));

        var accounts = await software.GetFromJsonAsync<JsonElement>("/api/v1/accounts");
        Assert.Equal([own], Items(accounts).Select(a => a.GetProperty("iban").GetString()));
        const string Period = "from=2026-11-25&to=2026-11-25";
        Assert.Equal(HttpStatusCode.OK, (await software.GetAsync($"/api/v1/accounts/{own}/statement?{Period}")).StatusCode);
        Assert.True((await software.GetAsync($"/api/v1/accounts/{other}/statement?{Period}")).StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden);

        // Nor can the pair do what its maker cannot: a view-only integrator mints no documents.write.
        var wider = await Problem.ReadAsync(await integrator.PostAsJsonAsync("/api/v1/credentials", new { name = "ERP 2", scopes = new[] { "accounts.read", "documents.write" } }));
        Assert.Equal((HttpStatusCode.Forbidden, "powers_not_held"), (wider.Status, wider.Code));
        Assert.Equal([("scopes", "power_not_held")], wider.Errors.Select(e => (e.Field, e.Code)));

        // An admin's pair still reads every account.
        using var admin = await App.SoftwareClientAsync(customer, ["accounts.read"]);
        Assert.Equal(2, Items(await admin.GetFromJsonAsync<JsonElement>("/api/v1/accounts")).Count());
    }

    [Fact]
    public async Task AReadOnlyToken_CannotTouchWebhooks_AndNobodyCanWhileSuspended()
    {
        var customer = await App.CreateCustomerAsync();
        using var reader = await App.SoftwareClientAsync(customer, ["notifications.read"]);
        using var manager = await App.SoftwareClientAsync(customer, ["notifications.read", "notifications.manage"]);
        var hook = new { url = "https://example.com/hook", events = new[] { "*" } };

        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsJsonAsync("/api/v1/webhooks", hook)).StatusCode);
        var created = await manager.PostAsJsonAsync("/api/v1/webhooks", hook);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("webhook").GetProperty("webhookId").GetString();
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostAsync($"/api/v1/webhooks/{id}/secret", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);

        using var ops = App.OperatorClient();
        Assert.True((await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customer}/suspension", new { reason = "breach" })).IsSuccessStatusCode);
        var whileSuspended = await Problem.ReadAsync(await manager.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/other", events = new[] { "*" } }));
        Assert.Equal((HttpStatusCode.Forbidden, "service_suspended"), (whileSuspended.Status, whileSuspended.Code));
        Assert.Equal(HttpStatusCode.Forbidden, (await manager.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await manager.GetAsync("/api/v1/webhooks")).StatusCode); // reading stays allowed
    }

    private static JsonElement.ArrayEnumerator Items(JsonElement list) =>
        list.ValueKind == JsonValueKind.Array ? list.EnumerateArray() : list.GetProperty("items").EnumerateArray();

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field, string code)
    {
        var problem = await Problem.ReadAsync(response);
        Assert.Equal((HttpStatusCode.Forbidden, "powers_not_held"), (problem.Status, problem.Code));
        Assert.Contains(problem.Errors, e => e.Field == field && e.Code == code);
    }
}

using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Customers;
using BusinessApi.Tests.Accounts;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>The steps a customer takes to reach the API, through real HTTP: registration, a pair, a token.</summary>
public static class CustomerKit
{
    public static readonly string[] AllScopes = [.. CustomerAccess.AllScopes];

    /// <summary>A customer: a legal entity (a new BIN), or an individual entrepreneur known by <paramref name="bin"/> = their IIN.</summary>
    public static async Task<string> CreateCustomerAsync(this TestApp app, string name = "ТОО Тест", string? bin = null)
    {
        using var ops = app.OperatorClient();
        var response = await ops.PostAsJsonAsync("/api/v1/ops/customers", new { name, bin = bin ?? BankData.NewBin() });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("customerId").GetString()!;
    }

    public const string AdminPassword = "Adm1n-Passw0rd!";

    /// <summary>
    /// A customer admin in a portal session: the operator creates the user, who signs in with the
    /// temporary password, must change it, and then holds a full session.
    /// </summary>
    public static async Task<HttpClient> AdminClientAsync(this TestApp app, string customerId, string? language = null)
    {
        var (login, _) = await app.CreateUserAsync(customerId, isAdmin: true, functions: ["view", "create", "sign", "manageUsers", "manageCredentials"]);
        return app.BearerClient(await app.SignInAsync(login, AdminPassword), language);
    }

    /// <summary>A user created by the operator, whose first password change is done: the login and the user id.</summary>
    public static async Task<(string Login, string UserId)> CreateUserAsync(this TestApp app, string customerId, bool isAdmin = false, string[]? functions = null, string[]? accounts = null, string password = AdminPassword, string iin = "061211600012")
    {
        var login = "u" + Guid.NewGuid().ToString("N")[..12];
        using var ops = app.OperatorClient();
        var created = await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/users", new
        {
            login,
            fullName = "Тестов Тест",
            iin,
            isAdmin,
            permissions = new { accounts = accounts ?? ["*"], functions = functions ?? ["view"] },
        });
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var temporary = body.GetProperty("temporaryPassword").GetString()!;
        var first = await app.RequestSessionAsync(login, temporary);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, first.StatusCode);
        var restricted = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionToken").GetString()!;
        using var changer = app.BearerClient(restricted);
        var changed = await changer.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = temporary, newPassword = password });
        Assert.Equal(System.Net.HttpStatusCode.NoContent, changed.StatusCode);
        return (login, body.GetProperty("userId").GetString()!);
    }

    public static async Task<HttpResponseMessage> RequestSessionAsync(this TestApp app, string login, string password, string? clientToken = null)
    {
        using var client = clientToken is null ? app.NewClient() : app.BearerClient(clientToken);
        return await client.PostAsJsonAsync("/api/v1/sessions", new { login, password });
    }

    /// <summary>A full session's token.</summary>
    public static async Task<string> SignInAsync(this TestApp app, string login, string password, string? clientToken = null)
    {
        var response = await app.RequestSessionAsync(login, password, clientToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionToken").GetString()!;
    }

    public static async Task<(string ClientId, string Secret)> GenerateCredentialAsync(this TestApp app, string customerId, string[]? scopes = null, string? name = null)
    {
        using var admin = await app.AdminClientAsync(customerId);
        var response = await admin.PostAsJsonAsync("/api/v1/credentials", new { name = name ?? "ERP " + Guid.NewGuid().ToString("N")[..8], scopes = scopes ?? AllScopes });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (body.GetProperty("clientId").GetString()!, body.GetProperty("clientSecret").GetString()!);
    }

    public static async Task<HttpResponseMessage> RequestTokenAsync(this TestApp app, string clientId, string secret, string? scope = null)
    {
        using var client = app.NewClient();
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        using var content = new FormUrlEncodedContent(form);
        return await client.PostAsync("/api/v1/oauth/token", content);
    }

    public static async Task<string> TokenAsync(this TestApp app, string clientId, string secret, string? scope = null)
    {
        var response = await app.RequestTokenAsync(clientId, secret, scope);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    public static HttpClient BearerClient(this TestApp app, string token, string? language = null)
    {
        var client = app.NewClient(language);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Client software of <paramref name="customerId"/> holding a token with <paramref name="scopes"/>.</summary>
    public static async Task<HttpClient> SoftwareClientAsync(this TestApp app, string customerId, string[]? scopes = null, string? language = null)
    {
        var (clientId, secret) = await app.GenerateCredentialAsync(customerId, scopes);
        return app.BearerClient(await app.TokenAsync(clientId, secret), language);
    }
}

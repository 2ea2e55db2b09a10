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

    public static async Task<string> CreateCustomerAsync(this TestApp app, string name = "ТОО Тест")
    {
        using var ops = app.OperatorClient();
        var response = await ops.PostAsJsonAsync("/api/v1/ops/customers", new { name, bin = BankData.NewBin() });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("customerId").GetString()!;
    }

    /// <summary>The customer's admin (for now: an operator acting for the customer).</summary>
    public static HttpClient AdminClient(this TestApp app, string customerId, string? language = null)
    {
        var client = app.OperatorClient(language);
        client.DefaultRequestHeaders.Add(CustomerAccess.ActAsHeader, customerId);
        return client;
    }

    public static async Task<(string ClientId, string Secret)> GenerateCredentialAsync(this TestApp app, string customerId, string[]? scopes = null, string? name = null)
    {
        using var admin = app.AdminClient(customerId);
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

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BusinessApi.Credentials;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Credentials;

/// <summary>API credential pairs and the token endpoint over real HTTP, on Azurite.</summary>
public sealed class CredentialsTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task Generation_ShowsTheSecretOnce_AndTheTokenOpensInformationServices()
    {
        var customer = await App.CreateCustomerAsync();
        using var admin = await App.AdminClientAsync(customer);

        var created = await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "1C:Бухгалтерия", scopes = new[] { "accounts.read", "statements.read" } });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var clientId = body.GetProperty("clientId").GetString()!;
        var secret = body.GetProperty("clientSecret").GetString()!;

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/api/v1/credentials/{clientId}", created.Headers.Location?.OriginalString);
        Assert.Equal("no-store", created.Headers.CacheControl?.ToString());
        Assert.True(CredentialRules.IsWellFormedClientId(clientId));
        Assert.Equal(customer, CredentialRules.CustomerIdOf(clientId));
        Assert.True(CredentialRules.IsWellFormedSecret(secret));
        Assert.Equal("active", body.GetProperty("status").GetString());
        Assert.Equal(["accounts.read", "statements.read"], body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!));
        Assert.Equal("2027-02-23", body.GetProperty("blockedInactiveFrom").GetString());

        var shown = await admin.GetStringAsync($"/api/v1/credentials/{clientId}");
        var listed = await admin.GetStringAsync("/api/v1/credentials");
        Assert.DoesNotContain(secret, shown, StringComparison.Ordinal);
        Assert.DoesNotContain("clientSecret", shown, StringComparison.Ordinal);
        Assert.Contains(clientId, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);

        var tokenResponse = await App.RequestTokenAsync(clientId, secret);
        var token = await tokenResponse.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, tokenResponse.StatusCode);
        Assert.Equal("no-store", tokenResponse.Headers.CacheControl?.ToString());
        Assert.Equal("Bearer", token.GetProperty("token_type").GetString());
        Assert.Equal(600, token.GetProperty("expires_in").GetInt32());
        Assert.Equal("accounts.read statements.read", token.GetProperty("scope").GetString());

        using var software = App.BearerClient(token.GetProperty("access_token").GetString()!);
        var accounts = await software.GetAsync("/api/v1/accounts");
        Assert.Equal(HttpStatusCode.OK, accounts.StatusCode);

        var history = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{clientId}/history");
        var actions = history.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal("credential.generated", actions[0]);
    }

    [Fact]
    public async Task OneActivePairPerSoftwareProduct_NamesCompareWithoutCaseOrExtraSpaces()
    {
        var customer = await App.CreateCustomerAsync();
        var (first, _) = await App.GenerateCredentialAsync(customer, name: "Kaspi  ERP");
        using var admin = await App.AdminClientAsync(customer);

        var again = await Problem.ReadAsync(await admin.PostAsJsonAsync("/api/v1/credentials", new { name = " kaspi erp ", scopes = new[] { "accounts.read" } }));
        var other = await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "Kaspi ERP 2", scopes = new[] { "accounts.read" } });

        Assert.Equal((HttpStatusCode.Conflict, "credential_exists"), (again.Status, again.Code));
        Assert.Equal(first, again.Body.GetProperty("clientId").GetString());
        Assert.Equal(HttpStatusCode.Created, other.StatusCode);

        // After a revocation the name is free for a new generation.
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/credentials/{first}/revoke", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/v1/credentials", new { name = "KASPI ERP", scopes = new[] { "accounts.read" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/credentials/{first}/revoke", null)).StatusCode); // revoking a revoked pair changes nothing
    }

    [Theory]
    [InlineData("""{"scopes":["accounts.read"]}""", "name", "required")]
    [InlineData("""{"name":"   ","scopes":["accounts.read"]}""", "name", "required")]
    [InlineData("""{"name":"ERP","scopes":[]}""", "scopes", "no_scope")]
    [InlineData("""{"name":"ERP"}""", "scopes", "required")]
    [InlineData("""{"name":"ERP","scopes":["accounts.write"]}""", "scopes", "unknown_scope")]
    [InlineData("""{"name":"ERP","scopes":["accounts.read"],"apiVersion":"v9"}""", "apiVersion", "unsupported_api_version")]
    public async Task BadGenerationRequests_AreFieldErrors_AndCreateNothing(string json, string field, string code)
    {
        var customer = await App.CreateCustomerAsync();
        using var admin = await App.AdminClientAsync(customer);

        var problem = await Problem.ReadAsync(await admin.PostAsync("/api/v1/credentials", new StringContent(json, Encoding.UTF8, "application/json")));
        var list = await admin.GetFromJsonAsync<JsonElement>("/api/v1/credentials");

        Assert.Equal((HttpStatusCode.BadRequest, "validation_failed"), (problem.Status, problem.Code));
        Assert.Contains(problem.Errors, e => e.Field == field && e.Code == code);
        Assert.Empty(list.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task LongNames_AndOtherCustomersPairs_AreRefused()
    {
        var customer = await App.CreateCustomerAsync();
        var stranger = await App.CreateCustomerAsync();
        var (clientId, _) = await App.GenerateCredentialAsync(customer);
        using var strangerAdmin = await App.AdminClientAsync(stranger);

        var tooLong = await Problem.ReadAsync(await strangerAdmin.PostAsJsonAsync("/api/v1/credentials", new { name = new string('x', 101), scopes = new[] { "accounts.read" } }));
        Assert.Contains(tooLong.Errors, e => e.Field == "name" && e.Code == "credential_name");
        foreach (var path in new[] { $"/api/v1/credentials/{clientId}", $"/api/v1/credentials/{clientId}/history", "/api/v1/credentials/bapi_ci_nonsense" })
        {
            Assert.Equal("credential_not_found", (await Problem.ReadAsync(await strangerAdmin.GetAsync(path))).Code);
        }

        Assert.Equal("credential_not_found", (await Problem.ReadAsync(await strangerAdmin.PostAsync($"/api/v1/credentials/{clientId}/compromise", null))).Code);
        using var admin = await App.AdminClientAsync(customer);
        Assert.Equal("active", (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{clientId}")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Reissue_SupersedesTheOldPairAtOnce_AndItsLiveTokensStopWorking()
    {
        var customer = await App.CreateCustomerAsync();
        var (old, oldSecret) = await App.GenerateCredentialAsync(customer, ["accounts.read", "statements.read"], "Reissue ERP");
        using var oldSoftware = App.BearerClient(await App.TokenAsync(old, oldSecret));
        Assert.Equal(HttpStatusCode.OK, (await oldSoftware.GetAsync("/api/v1/accounts")).StatusCode);
        using var admin = await App.AdminClientAsync(customer);

        var reissued = await admin.PostAsJsonAsync($"/api/v1/credentials/{old}/reissue", new { scopes = new[] { "accounts.read", "notifications.read" } });
        var body = await reissued.Content.ReadFromJsonAsync<JsonElement>();
        var fresh = body.GetProperty("clientId").GetString()!;
        var freshSecret = body.GetProperty("clientSecret").GetString()!;

        Assert.Equal(HttpStatusCode.Created, reissued.StatusCode);
        Assert.Equal(old, body.GetProperty("replaces").GetString());
        Assert.Equal("Reissue ERP", body.GetProperty("name").GetString());
        var oldView = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{old}");
        Assert.Equal(("superseded", fresh), (oldView.GetProperty("status").GetString(), oldView.GetProperty("supersededBy").GetString()));

        var stale = await Problem.ReadAsync(await oldSoftware.GetAsync("/api/v1/accounts"));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_token"), (stale.Status, stale.Code));
        var oldToken = await OAuthError.ReadAsync(await App.RequestTokenAsync(old, oldSecret));
        Assert.Equal((HttpStatusCode.BadRequest, "unauthorized_client"), (oldToken.Status, oldToken.Error));
        var wider = await OAuthError.ReadAsync(await App.RequestTokenAsync(fresh, freshSecret, "statements.read"));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_scope"), (wider.Status, wider.Error));
        Assert.Equal(HttpStatusCode.OK, (await App.RequestTokenAsync(fresh, freshSecret, "notifications.read")).StatusCode);

        var twice = await Problem.ReadAsync(await admin.PostAsJsonAsync($"/api/v1/credentials/{old}/reissue", new { }));
        Assert.Equal((HttpStatusCode.Conflict, "credential_superseded"), (twice.Status, twice.Code));
        Assert.Equal(fresh, twice.Body.GetProperty("supersededBy").GetString());

        var history = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{old}/history");
        Assert.Contains(history.GetProperty("items").EnumerateArray(), e => e.GetProperty("action").GetString() == "credential.superseded");
    }

    [Fact]
    public async Task Compromise_BlocksAtOnce_AndIsJournaled()
    {
        var customer = await App.CreateCustomerAsync();
        var (clientId, secret) = await App.GenerateCredentialAsync(customer);
        using var software = App.BearerClient(await App.TokenAsync(clientId, secret));
        using var admin = await App.AdminClientAsync(customer);

        var reported = await admin.PostAsync($"/api/v1/credentials/{clientId}/compromise", null);

        Assert.Equal(HttpStatusCode.OK, reported.StatusCode);
        Assert.Equal("blockedCompromised", (await reported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        var refused = await software.GetAsync("/api/v1/accounts");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("invalid_token", refused.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Equal("unauthorized_client", (await OAuthError.ReadAsync(await App.RequestTokenAsync(clientId, secret))).Error);
        var revokeResponse = await admin.PostAsync($"/api/v1/credentials/{clientId}/revoke", null);
        Assert.True(revokeResponse.StatusCode == HttpStatusCode.Conflict, (int)revokeResponse.StatusCode + " " + await revokeResponse.Content.ReadAsStringAsync());
        var revoke = await Problem.ReadAsync(revokeResponse);
        Assert.Equal((HttpStatusCode.Conflict, "credential_not_active"), (revoke.Status, revoke.Code));

        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{clientId}/history")).GetProperty("items").EnumerateArray().ToList();
        var report = Assert.Single(history, e => e.GetProperty("action").GetString() == "credential.compromise_reported");
        Assert.Equal("blockedCompromised", report.GetProperty("details").GetProperty("status").GetString());
        Assert.StartsWith("user:usr_", report.GetProperty("actor").GetString(), StringComparison.Ordinal);
        Assert.Contains(history, e => e.GetProperty("action").GetString() == "credential.authentication" && e.GetProperty("outcome").GetString() == "denied");
    }

    [Fact]
    public async Task TokenEndpoint_AnswersRfc6749Errors()
    {
        var customer = await App.CreateCustomerAsync();
        var (clientId, secret) = await App.GenerateCredentialAsync(customer, ["accounts.read"]);
        using var client = App.NewClient();

        async Task<OAuthError> Post(Dictionary<string, string> form, string? basic = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/oauth/token") { Content = new FormUrlEncodedContent(form) };
            if (basic is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", basic);
            }

            return await OAuthError.ReadAsync(await client.SendAsync(request));
        }

        var grant = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        var wrongSecret = await Post(new(grant) { ["client_id"] = clientId, ["client_secret"] = CredentialRules.NewSecret() });
        var unknown = await Post(new(grant) { ["client_id"] = CredentialRules.NewClientId(customer), ["client_secret"] = secret });
        var garbageId = await Post(new(grant) { ["client_id"] = "not-a-client", ["client_secret"] = secret });
        var noAuth = await Post(grant);
        var notBase64 = await Post(grant, "Basic %%%");
        var noColon = await Post(grant, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(clientId)));
        var bothMethods = await Post(new(grant) { ["client_secret"] = secret }, Basic(clientId, secret));
        var wrongGrant = await Post(new() { ["grant_type"] = "password", ["client_id"] = clientId, ["client_secret"] = secret });
        var noGrant = await Post(new() { ["client_id"] = clientId, ["client_secret"] = secret });
        var overWide = await Post(new(grant) { ["client_id"] = clientId, ["client_secret"] = secret, ["scope"] = "accounts.read documents.write" });
        var unknownScope = await Post(new(grant) { ["client_id"] = clientId, ["client_secret"] = secret, ["scope"] = "admin" });
        var emptyScope = await Post(new(grant) { ["client_id"] = clientId, ["client_secret"] = secret, ["scope"] = " " });
        var json = await OAuthError.ReadAsync(await client.PostAsJsonAsync("/api/v1/oauth/token", new { grant_type = "client_credentials", client_id = clientId, client_secret = secret }));
        var viaBasic = await Post(grant, Basic(clientId, secret));

        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (wrongSecret.Status, wrongSecret.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (unknown.Status, unknown.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (garbageId.Status, garbageId.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (noAuth.Status, noAuth.Error));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (notBase64.Status, notBase64.Error));
        Assert.StartsWith("Basic", notBase64.Challenge, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_client"), (noColon.Status, noColon.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (bothMethods.Status, bothMethods.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_grant_type"), (wrongGrant.Status, wrongGrant.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (noGrant.Status, noGrant.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_scope"), (overWide.Status, overWide.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_scope"), (unknownScope.Status, unknownScope.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_scope"), (emptyScope.Status, emptyScope.Error));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (json.Status, json.Error));
        Assert.Equal(HttpStatusCode.OK, viaBasic.Status);
        Assert.All([wrongSecret, unknown, noAuth, wrongGrant, overWide], e => Assert.False(string.IsNullOrEmpty(e.Description)));

        // The failures are journaled: under the pair when the Client ID exists.
        using var admin = await App.AdminClientAsync(customer);
        var history = (await admin.GetFromJsonAsync<JsonElement>($"/api/v1/credentials/{clientId}/history")).GetProperty("items").EnumerateArray();
        Assert.Contains(history, e => e.GetProperty("action").GetString() == "credential.authentication"
            && e.GetProperty("details").GetProperty("reason").GetString() == "invalid_secret");
    }

    [Fact]
    public async Task BasicCredentials_AreFormEncodedFirst_AsRfc6749Asks()
    {
        Assert.True(TokenEndpoint.TryParseBasic("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("a%3Ab:c+d%25")), out var id, out var secret));
        Assert.Equal(("a:b", "c d%"), (id, secret));
        Assert.False(TokenEndpoint.TryParseBasic("Bearer abc", out _, out _));
        Assert.False(TokenEndpoint.TryParseBasic("Basic " + Convert.ToBase64String([0xff, 0xfe, 0x3a, 0x41]), out _, out _));
        Assert.False(TokenEndpoint.TryParseBasic("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(":secret")), out _, out _));
        Assert.False(TokenEndpoint.TryParseBasic("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("id%zz:secret")), out _, out _));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task ForgedOrExpiredTokens_AreInvalidTokens()
    {
        var customer = await App.CreateCustomerAsync();
        var (clientId, secret) = await App.GenerateCredentialAsync(customer);
        var token = await App.TokenAsync(clientId, secret);
        var parts = token.Split('.');
        var payload = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(System.Buffers.Text.Base64Url.DecodeFromChars(parts[1]))!;
        var widened = new Dictionary<string, object> { ["iss"] = "business-api", ["sub"] = clientId, ["cid"] = customer, ["scope"] = "accounts.read", ["iat"] = payload["iat"].GetInt64(), ["exp"] = payload["exp"].GetInt64() + 86_400, ["jti"] = "x" };
        var tampered = parts[0] + "." + System.Buffers.Text.Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(widened)) + "." + parts[2];
        var noneAlg = System.Buffers.Text.Base64Url.EncodeToString("""{"alg":"none","typ":"at+jwt","kid":"x"}"""u8) + "." + parts[1] + ".";

        foreach (var bad in new[] { tampered, noneAlg, parts[0] + "." + parts[1] + ".AAAA", "eyJ.e.e" })
        {
            using var software = App.BearerClient(bad);
            var problem = await Problem.ReadAsync(await software.GetAsync("/api/v1/accounts"));
            Assert.Equal((HttpStatusCode.Unauthorized, "invalid_token"), (problem.Status, problem.Code));
        }

        using var anonymous = App.NewClient();
        Assert.Equal("unauthorized", (await Problem.ReadAsync(await anonymous.GetAsync("/api/v1/accounts"))).Code);
    }

    [Fact]
    public async Task Scopes_AreEnforcedOnEveryCustomerEndpoint()
    {
        var customer = await App.CreateCustomerAsync();
        using var statementsOnly = await App.SoftwareClientAsync(customer, ["statements.read"]);
        using var accountsOnly = await App.SoftwareClientAsync(customer, ["accounts.read"]);

        var accounts = await Problem.ReadAsync(await statementsOnly.GetAsync("/api/v1/accounts"));
        var notices = await Problem.ReadAsync(await accountsOnly.GetAsync("/api/v1/notifications"));
        var statement = await Problem.ReadAsync(await accountsOnly.GetAsync("/api/v1/accounts/KZ86125KZT5004100100/statement?from=2026-11-01&to=2026-11-02"));
        var credentials = await Problem.ReadAsync(await accountsOnly.GetAsync("/api/v1/credentials"));
        var opsAsClient = await Problem.ReadAsync(await accountsOnly.GetAsync("/api/v1/ops/customers/" + customer));

        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), (accounts.Status, accounts.Code));
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), (notices.Status, notices.Code));
        Assert.Equal((HttpStatusCode.Forbidden, "insufficient_scope"), (statement.Status, statement.Code));
        Assert.Equal(HttpStatusCode.Forbidden, credentials.Status); // a client token is never a customer admin
        Assert.Equal(HttpStatusCode.Unauthorized, opsAsClient.Status); // nor an operator
        Assert.Equal(HttpStatusCode.OK, (await accountsOnly.GetAsync("/api/v1/accounts")).StatusCode);

        // An operator is no customer: customer endpoints refuse the operator key.
        using var ops = App.OperatorClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await ops.GetAsync("/api/v1/accounts")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ops.GetAsync("/api/v1/credentials")).StatusCode);
    }

    [Fact]
    public async Task EveryEndpoint_RequiresAuthorization_ExceptTheKnownPublicOnes()
    {
        var endpoints = App.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .ToList();
        string[] publicEndpoints = ["/api/v1/oauth/token", "/api/v1/operational-day", "/api/v1/sessions"];

        // Anyone acting for the customer may report unauthorised access (clause 4.3), whatever the token's scope.
        string[] anyCustomerIdentity = ["/api/v1/security-incidents"];
        using var documentsReader = await App.SoftwareClientAsync(await App.CreateCustomerAsync(), ["documents.read"]);
        using var noticesReader = await App.SoftwareClientAsync(await App.CreateCustomerAsync(), ["notifications.read"]);
        using var anonymous = App.NewClient();

        Assert.NotEmpty(endpoints);
        foreach (var endpoint in endpoints.Where(e => !publicEndpoints.Contains(e.RoutePattern.RawText!.TrimEnd('/'))))
        {
            var path = System.Text.RegularExpressions.Regex.Replace(endpoint.RoutePattern.RawText!, "{([a-zA-Z]+)(:[a-z]+)?}", m => m.Groups[1].Value switch
            {
                "iban" => "KZ86125KZT5004100100",
                "year" => "2026",
                _ => "x1",
            });
            var methods = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var method in methods)
            {
                using var unauthenticated = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { }) };
                using var withToken = new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { }) };
                var none = await anonymous.SendAsync(unauthenticated);
                // A token whose scope is not the endpoint's: documents.read, or notifications.read for the documents' own endpoints.
                var noScopeForIt = path.StartsWith("/api/v1/documents", StringComparison.Ordinal) ? noticesReader : documentsReader;
                var scoped = await noScopeForIt.SendAsync(withToken);
                Assert.True(none.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without credentials: {(int)none.StatusCode}");
                Assert.True(scoped.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized || anyCustomerIdentity.Contains(path.TrimEnd('/')),
                    $"{method} {path} with a token without its scope: {(int)scoped.StatusCode}");
            }
        }
    }

    private static string Basic(string id, string secret) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.EscapeDataString(id) + ":" + Uri.EscapeDataString(secret)));
}

/// <summary>An RFC 6749 §5.2 error answer as read by a client.</summary>
public sealed record OAuthError(HttpStatusCode Status, string? Error, string? Description, string Challenge)
{
    public static async Task<OAuthError> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length > 0 ? JsonSerializer.Deserialize<JsonElement>(text) : default;
        string? Field(string name) => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var v) ? v.GetString() : null;
        return new OAuthError(response.StatusCode, Field("error"), Field("error_description"), response.Headers.WwwAuthenticate.ToString());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Tests.Credentials;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// The bank's side of the customer's call or written notice: an operator blocks one certificate,
/// one credential pair, a user, or some of a user's powers (6.2.4, R-13).
/// </summary>
public sealed class BankBlocksTests(PaymentAppFixture fixture) : IClassFixture<PaymentAppFixture>
{
    private TestApp App => fixture.App;

    [Fact]
    public async Task BlockedCertificate_RefusesDocumentsReceivedAfterTheBlock()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        var before = await payer.SubmitAsync(payer.SignOrder(payer.Order(10m)));
        Assert.Equal(HttpStatusCode.Accepted, before.StatusCode);
        Assert.Equal("executed", (await payer.FinishedAsync(await IdOf(before))).GetProperty("status").GetString());

        using var ops = App.OperatorClient();
        var serial = string.Join(':', payer.Certificate.SerialNumber.Chunk(2).Select(c => new string(c))).ToLowerInvariant(); // as a person would read it out
        var blocked = await ops.PostAsJsonAsync($"/api/v1/ops/customers/{payer.CustomerId}/certificate-blocks",
            new { issuer = payer.Certificate.Issuer, serialNumber = serial, reference = "call 2026-11-25 10:05" });
        Assert.Equal(HttpStatusCode.Created, blocked.StatusCode);
        var again = await ops.PostAsJsonAsync($"/api/v1/ops/customers/{payer.CustomerId}/certificate-blocks",
            new { issuer = payer.Certificate.Issuer, serialNumber = payer.Certificate.SerialNumber });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        App.Time.Advance(TimeSpan.FromSeconds(1));

        var after = await payer.SubmitAsync(payer.SignOrder(payer.Order(10m)));

        var refused = await payer.FinishedAsync(await IdOf(after));
        Assert.Equal(("refused", "authentication_failed", "certificate_blocked"),
            (refused.GetProperty("status").GetString(), refused.GetProperty("reasonCode").GetString(), refused.GetProperty("failure").GetString()));
        var list = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{payer.CustomerId}/certificate-blocks");
        Assert.Single(list.GetProperty("items").EnumerateArray());
    }

    [Theory]
    [InlineData("not a name ===", "0A1B", "issuer")]
    [InlineData("CN=Test CA, C=KZ", "zz-12", "serialNumber")]
    [InlineData("CN=Test CA, C=KZ", "", "serialNumber")]
    public async Task CertificateBlock_WithBadInput_Is400(string issuer, string serial, string field)
    {
        var customer = await App.CreateCustomerAsync();
        using var ops = App.OperatorClient();

        var problem = await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customer}/certificate-blocks", new { issuer, serialNumber = serial }));

        Assert.Equal(HttpStatusCode.BadRequest, problem.Status);
        Assert.Contains(problem.Errors, e => e.Field == field);
        var list = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customer}/certificate-blocks");
        Assert.Empty(list.GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await ops.PostAsJsonAsync("/api/v1/ops/customers/cus_unknown/certificate-blocks",
            new { issuer = "CN=Test CA, C=KZ", serialNumber = "0A" })).StatusCode);
    }

    [Fact]
    public async Task BlockedCredentialPair_StopsItsTokens()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        using var ops = App.OperatorClient();
        var otherCustomer = await App.CreateCustomerAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await ops.PostAsync($"/api/v1/ops/customers/{otherCustomer}/credentials/{payer.ClientId}/block", null)).StatusCode);

        var blocked = await ops.PostAsync($"/api/v1/ops/customers/{payer.CustomerId}/credentials/{payer.ClientId}/block", null);

        Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);
        Assert.Equal("blockedCompromised", (await blocked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal("unauthorized_client", (await OAuthError.ReadAsync(await App.RequestTokenAsync(payer.ClientId, payer.Secret))).Error);
    }

    [Fact]
    public async Task BankBlocksAUser_TheirSessionEnds_AndRestrictsAnother()
    {
        var customer = await App.CreateCustomerAsync();
        var (login, userId) = await App.CreateUserAsync(customer, functions: ["view", "create", "sign"]);
        var session = App.BearerClient(await App.SignInAsync(login, CustomerKit.AdminPassword));
        using var ops = App.OperatorClient();

        var restricted = await ops.PostAsJsonAsync($"/api/v1/ops/users/{userId}/restriction", new { functions = new[] { "sign" }, reference = "letter 12/7" });
        Assert.Equal(HttpStatusCode.OK, restricted.StatusCode);
        Assert.DoesNotContain("sign", (await restricted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("permissions").GetProperty("functions").EnumerateArray().Select(f => f.GetString()));

        var blocked = await ops.PostAsJsonAsync($"/api/v1/ops/users/{userId}/block", new { reference = "letter 12/8" });

        Assert.Equal(HttpStatusCode.OK, blocked.StatusCode);
        Assert.Equal("blocked", (await blocked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.GetAsync("/api/v1/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ops.PostAsJsonAsync("/api/v1/ops/users/usr_nobody/block", new { })).StatusCode);
        var badRestriction = await Problem.ReadAsync(await ops.PostAsJsonAsync($"/api/v1/ops/users/{userId}/restriction", new { functions = new[] { "fly" } }));
        Assert.Equal("validation_failed", badRestriction.Code);
    }

    private static async Task<string> IdOf(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!;
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform;

/// <summary>
/// <c>Http:TrustForwardedHeaders</c>: behind the Container Apps ingress the client's address is the one
/// the ingress appends to X-Forwarded-For; without the setting a client cannot choose its address.
/// The failed operator sign-in's journal entry shows which address the app believed.
/// </summary>
public sealed class ForwardedHeadersTests
{
    [Theory]
    [InlineData(true, "203.0.113.7")]
    [InlineData(false, "127.0.0.1")]
    public async Task The_client_address_comes_from_the_ingress_hop_only_when_told_to_trust_it(bool trust, string expected)
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Http:TrustForwardedHeaders"] = trust ? "true" : "false" });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ops/audit?subject=system");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "ops_wrong_key_of_a_decent_length_0000000000");
        // A client's own claim first, then the hop the ingress appends: only the last one counts.
        request.Headers.Add("X-Forwarded-For", "198.51.100.66, 203.0.113.7");
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client.SendAsync(request)).StatusCode);

        using var ops = app.OperatorClient();
        var day = app.Time.GetUtcNow().ToOffset(KazakhstanTime.Offset).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var page = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject=system&date={day}");
        var denied = Assert.Single(page.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "operator.authentication");
        Assert.Equal(expected, denied.GetProperty("details").GetProperty("address").GetString());
    }
}

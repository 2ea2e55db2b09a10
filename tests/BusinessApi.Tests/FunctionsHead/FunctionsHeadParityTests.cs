using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BusinessApi.Calendar;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.FunctionsHead;

/// <summary>The head's triggers (behind Kestrel, as the worker puts them) on a Kestrel host's storage and clock.</summary>
public sealed class FunctionsHeadFixture : PaymentAppFixture
{
    public FunctionsHeadHost Head { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Head = await FunctionsHeadHost.StartAsync(App);
    }

    public override async Task DisposeAsync()
    {
        await Head.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// The same requests to the Kestrel host and through the Functions head's HTTP triggers get the same answers: status,
/// every header the application sets, and the body byte for byte. Only what each answer generates afresh (a new
/// document's id and its number) is put aside; the clock, the storage and the request id are the same for both.
/// </summary>
public sealed partial class FunctionsHeadParityTests(FunctionsHeadFixture fixture) : IClassFixture<FunctionsHeadFixture>
{
    /// <summary>Added by the server that carries the answer (Kestrel), not by the application.</summary>
    private static readonly string[] TransportHeaders = ["Date", "Transfer-Encoding"];

    private TestApp App => fixture.App;

    [Fact]
    public async Task AProblem_IsTheSame()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        await AssertSameAsync(() => Post("/api/v1/documents", "{\"cms\": 42, \"extra\": [", payer), HttpStatusCode.BadRequest);
        await AssertSameAsync(() => Post("/api/v1/documents", "{\"cms\": \"bm90IGEgQ01T\"}", payer), HttpStatusCode.BadRequest);
        await AssertSameAsync(() => new HttpRequestMessage(HttpMethod.Get, "/api/v1/documents/not-a-document-id") { Headers = { Authorization = payer.Software.DefaultRequestHeaders.Authorization } },
            HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A201_WithItsLocation_IsTheSame()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        JsonObject[] orders = TwoOrders(payer, 1_500m);
        var next = new Queue<JsonObject>(orders);
        var (kestrel, head) = await AssertSameAsync(() => Post("/api/v1/documents", new JsonObject { ["document"] = next.Dequeue() }.ToJsonString(), payer),
            HttpStatusCode.Created, [.. orders.Select(o => o["number"]!.ToString())], ["cmsSha256"]); // the digest of content that differs in its number
        Assert.Equal($"/api/v1/documents/{head.CreatedId}", head.Location!.OriginalString);
        Assert.NotEqual(kestrel.CreatedId, head.CreatedId);
    }

    [Fact]
    public async Task A202_WithItsLocation_IsTheSame_AndBothDocumentsAreExecuted()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        JsonObject[] orders = TwoOrders(payer, 700m);
        var next = new Queue<byte[]>(orders.Select(o => payer.SignOrder(o)));
        var (kestrel, head) = await AssertSameAsync(
            () => Post("/api/v1/documents", JsonSerializer.Serialize(new { cms = Convert.ToBase64String(next.Dequeue()) }), payer),
            HttpStatusCode.Accepted, [.. orders.Select(o => o["number"]!.ToString())]);

        foreach (var answer in new[] { kestrel, head })
        {
            Assert.Equal("executed", (await payer.FinishedAsync(answer.CreatedId!)).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task AStreamedStatement_IsTheSame_ByteForByte()
    {
        using var payer = await App.PayerAsync(fixture.Pki, funds: 250_000m);
        Assert.Equal("executed", (await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(12_345.67m)))).GetProperty("status").GetString());
        var today = KazakhstanTime.LocalDate(App.Time.GetUtcNow()).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        foreach (var format in new[] { "json", "mt940", "camt053", "1c" })
        {
            var (kestrel, _) = await AssertSameAsync(() => new HttpRequestMessage(HttpMethod.Get, $"/api/v1/accounts/{payer.Iban}/statement?from={today}&to={today}&format={format}")
            {
                Headers = { Authorization = payer.Software.DefaultRequestHeaders.Authorization },
            }, HttpStatusCode.OK);
            Assert.True(kestrel.Body.Length > 200, format);
        }
    }

    [Fact]
    public async Task A401_IsTheSame()
    {
        await AssertSameAsync(() => new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts"), HttpStatusCode.Unauthorized);
        await AssertSameAsync(() => new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "not-a-token") } },
            HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A413_IsTheSame_BeforeTheBodyIsSent()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        await AssertSameAsync(() =>
        {
            var request = Post("/api/v1/documents", "{\"cms\": \"" + new string('A', 1_100_000) + "\"}", payer);
            request.Headers.ExpectContinue = true;
            return request;
        }, (HttpStatusCode)413);
    }

    [Fact]
    public async Task TheProbesAndTheOpenApiDocument_AreTheSame()
    {
        await AssertSameAsync(() => new HttpRequestMessage(HttpMethod.Get, "/healthz"), HttpStatusCode.OK);
        await AssertSameAsync(() => new HttpRequestMessage(HttpMethod.Get, "/readyz"), HttpStatusCode.OK);
        var (openapi, _) = await AssertSameAsync(() => new HttpRequestMessage(HttpMethod.Get, "/openapi/v1.json"), HttpStatusCode.OK);
        Assert.Contains("/api/v1/documents", Encoding.UTF8.GetString(openapi.Body), StringComparison.Ordinal);
    }

    /// <summary>Two orders alike but for their numbers (one number per account and date).</summary>
    private static JsonObject[] TwoOrders(Payer payer, decimal amount)
    {
        var first = payer.Order(amount);
        var second = (JsonObject)first.DeepClone();
        second["number"] = payer.Order(amount)["number"]!.DeepClone();
        return [first, second];
    }

    private static HttpRequestMessage Post(string path, string json, Payer payer)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = payer.Software.DefaultRequestHeaders.Authorization;
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return request;
    }

    /// <summary>
    /// Sends a request made by <paramref name="make"/> to each head (with the same request id) and compares the answers;
    /// <paramref name="fresh"/> are values each answer generated for itself (beside the id in its Location).
    /// </summary>
    private async Task<(Answer Kestrel, Answer Head)> AssertSameAsync(Func<HttpRequestMessage> make, HttpStatusCode expected, params string[] fresh) =>
        await AssertSameAsync(make, expected, fresh, []);

    /// <summary>As above; <paramref name="freshFields"/> name JSON properties whose values each answer derives from its own fresh values.</summary>
    private async Task<(Answer Kestrel, Answer Head)> AssertSameAsync(Func<HttpRequestMessage> make, HttpStatusCode expected, string[] fresh, string[] freshFields)
    {
        var requestId = "parity-" + Guid.NewGuid().ToString("N");
        using var kestrelClient = App.NewClient();
        using var headClient = fixture.Head.NewClient();
        var kestrel = await SendAsync(kestrelClient, make(), requestId);
        var head = await SendAsync(headClient, make(), requestId);

        Assert.Equal(expected, kestrel.Status);
        Assert.Equal(kestrel.Status, head.Status);
        Assert.Equal(kestrel.Normalised(fresh, freshFields, App.BaseAddress), head.Normalised(fresh, freshFields, fixture.Head.BaseAddress));
        return (kestrel, head);
    }

    private static async Task<Answer> SendAsync(HttpClient client, HttpRequestMessage request, string requestId)
    {
        using (request)
        {
            request.Headers.Add("X-Request-Id", requestId);
            using var response = await client.SendAsync(request);
            var headers = response.Headers.Concat(response.Content.Headers)
                .Where(h => !TransportHeaders.Contains(h.Key, StringComparer.OrdinalIgnoreCase))
                .Select(h => $"{h.Key.ToLowerInvariant()}: {string.Join(", ", h.Value)}")
                .Order(StringComparer.Ordinal)
                .ToList();
            return new Answer(response.StatusCode, headers, await response.Content.ReadAsByteArrayAsync(), response.Headers.Location);
        }
    }

    /// <summary>An answer: status, the application's headers (sorted), the body, and its Location.</summary>
    public sealed partial record Answer(HttpStatusCode Status, IReadOnlyList<string> HeaderLines, byte[] Body, Uri? Location)
    {
        public string? CreatedId => Location?.OriginalString.Split('/')[^1];

        /// <summary>
        /// Headers and body as text, with the values generated afresh put aside: a created resource's id and
        /// <paramref name="fresh"/>, the trace a problem names (each host starts its own span), and the address the
        /// request reached (the OpenAPI document's server).
        /// </summary>
        public string Normalised(IEnumerable<string> fresh, IEnumerable<string> freshFields, Uri reached)
        {
            var text = string.Join("\n", HeaderLines) + "\n\n" + Encoding.UTF8.GetString(Body);
            text = TraceId().Replace(text, "\"traceId\":\"{trace}\"").Replace(reached.GetLeftPart(UriPartial.Authority), "{server}", StringComparison.Ordinal);
            foreach (var field in freshFields)
            {
                text = Regex.Replace(text, $"\"{Regex.Escape(field)}\":\"[^\"]*\"", $"\"{field}\":\"{{fresh}}\"");
            }

            foreach (var value in fresh.Append(CreatedId).OfType<string>().Where(v => v.Length > 0))
            {
                text = text.Replace(value, "{fresh}", StringComparison.Ordinal);
            }

            return text;
        }

        [GeneratedRegex("\"traceId\":\"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\"")]
        private static partial Regex TraceId();
    }
}

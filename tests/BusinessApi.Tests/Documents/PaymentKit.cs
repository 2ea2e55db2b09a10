using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using BusinessApi.Calendar;
using BusinessApi.Tests.Accounts;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Documents;

/// <summary>A customer ready to pay: an account with money, a signer with an NCA-like certificate, and a software session.</summary>
public sealed class Payer : IDisposable
{
    public required TestApp App { get; init; }

    public required string CustomerId { get; init; }

    public required string Bin { get; init; }

    public required string Iban { get; init; }

    public required string Iin { get; init; }

    public required string UserId { get; init; }

    public required string Login { get; init; }

    public required string ClientId { get; init; }

    public required string Secret { get; init; }

    public required X509Certificate2 Certificate { get; init; }

    public required HttpClient Software { get; init; }

    public void Dispose()
    {
        Certificate.Dispose();
        Software.Dispose();
    }
}

public static class PaymentKit
{
    // Every order a test makes has its own number: a payer's number and date identify one live order.
    private static int s_number = RandomNumberGenerator.GetInt32(1_000_000, 100_000_000);

    /// <summary>The test PKI's root, intermediate and a current (empty) CRL, published through the operations API.</summary>
    public static async Task TrustAsync(this TestApp app, TestPki pki, DateTimeOffset? crlTime = null, IEnumerable<X509Certificate2>? revoked = null, DateTimeOffset? revokedAt = null)
    {
        using var ops = app.OperatorClient();
        foreach (var certificate in new[] { pki.Root, pki.Intermediate })
        {
            var added = await ops.PostAsJsonAsync("/api/v1/ops/trust-anchors", new { certificate = certificate.ExportCertificatePem() });
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        var thisUpdate = crlTime ?? app.Time.GetUtcNow().AddHours(-1);
        var crl = await ops.PostAsJsonAsync("/api/v1/ops/crls", new { crl = TestPki.CrlPem(pki.Crl(thisUpdate, revoked, revokedAt)) });
        Assert.Equal(HttpStatusCode.Created, crl.StatusCode);
    }

    public static async Task<string> OpenAccountAsync(this TestApp app, string customerId, decimal funds, string currency = "KZT")
    {
        using var ops = app.OperatorClient();
        var iban = BankData.NewIban().Value;
        Assert.Equal(HttpStatusCode.Created, (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/accounts", new { iban, currency })).StatusCode);
        if (funds > 0)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/ops/accounts/{iban}/credits") { Content = JsonContent.Create(new { amount = funds, reference = "test" }) };
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            var credit = await ops.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, credit.StatusCode);
        }

        return iban;
    }

    public static async Task<Payer> PayerAsync(this TestApp app, TestPki pki, decimal funds = 1_000_000m, string[]? functions = null, string[]? accounts = null, bool organisationCertificate = true, bool entrepreneur = false, string? customerBin = null, string? iin = null)
    {
        var customerId = await app.CreateCustomerAsync(bin: customerBin ?? (entrepreneur ? BankData.NewIin() : null));
        using var ops = app.OperatorClient();
        var bin = (await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/customers/{customerId}")).GetProperty("bin").GetString()!;
        var iban = await app.OpenAccountAsync(customerId, funds);
        iin ??= BankData.NewIin();
        var (login, userId) = await app.CreateUserAsync(customerId, functions: functions ?? ["view", "create", "sign"], accounts: accounts, iin: iin);
        var (clientId, secret) = await app.GenerateCredentialAsync(customerId);
        var session = await app.SignInAsync(login, CustomerKit.AdminPassword, await app.TokenAsync(clientId, secret));
        return new Payer
        {
            App = app,
            CustomerId = customerId,
            Bin = bin,
            Iban = iban,
            Iin = iin,
            UserId = userId,
            Login = login,
            ClientId = clientId,
            Secret = secret,
            Certificate = pki.IssueUser(iin, organisationCertificate ? bin : null),
            Software = app.BearerClient(session),
        };
    }

    /// <summary>A well-formed payment order of the payer; change fields with <paramref name="edit"/>.</summary>
    public static JsonObject Order(this Payer payer, decimal amount, string? beneficiaryIban = null, Action<JsonObject>? edit = null)
    {
        var today = DateOnly.FromDateTime(payer.App.Time.GetUtcNow().ToOffset(KazakhstanTime.Offset).DateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var order = new JsonObject
        {
            ["type"] = "paymentOrder",
            ["number"] = Interlocked.Increment(ref s_number).ToString(CultureInfo.InvariantCulture),
            ["date"] = today,
            ["amount"] = amount.ToString("F2", CultureInfo.InvariantCulture),
            ["currency"] = "KZT",
            ["payer"] = new JsonObject { ["iban"] = payer.Iban, ["code"] = "17" },
            ["beneficiary"] = new JsonObject
            {
                ["name"] = "ТОО Получатель",
                ["idn"] = BankData.NewBin(),
                ["iban"] = beneficiaryIban ?? BankData.NewIban("601").Value,
                ["bic"] = beneficiaryIban is null ? "HSBKKZKX" : "TSESKZKA",
                ["code"] = "17",
            },
            ["purposeCode"] = "710",
            ["purpose"] = "Оплата по договору № 5 за товары",
            ["valueDate"] = today,
        };
        edit?.Invoke(order);
        return order;
    }

    public static byte[] SignOrder(this Payer payer, JsonObject order, X509Certificate2? signer = null) =>
        TestPki.Sign(order.ToJsonString(), payer.App.Time.GetUtcNow(), signer ?? payer.Certificate);

    public static async Task<HttpResponseMessage> SubmitAsync(this Payer payer, byte[] cms, string? key = null, HttpClient? client = null,
        CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents") { Content = JsonContent.Create(new { cms = Convert.ToBase64String(cms) }) };
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString());
        return await (client ?? payer.Software).SendAsync(request, cancellationToken);
    }

    /// <summary>Submits and answers the document id (202 asserted).</summary>
    public static Task<string> SubmitOrderAsync(this Payer payer, JsonObject order, X509Certificate2? signer = null) =>
        payer.SubmitSignedAsync(payer.SignOrder(order, signer));

    /// <summary>Signs the payer in again (a fresh token and session), after a test moved the clock past their lifetime.</summary>
    public static async Task RenewSessionAsync(this Payer payer)
    {
        var session = await payer.App.SignInAsync(payer.Login, CustomerKit.AdminPassword, await payer.App.TokenAsync(payer.ClientId, payer.Secret));
        payer.Software.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", session);
    }

    /// <summary>Submits signed bytes under a new key and answers the document id (202 asserted).</summary>
    public static async Task<string> SubmitSignedAsync(this Payer payer, byte[] cms)
    {
        var response = await payer.SubmitAsync(cms);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!;
    }

    public static async Task<JsonElement> DocumentAsync(this Payer payer, string documentId)
    {
        using var ops = payer.App.OperatorClient("en");
        return await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/documents/{documentId}");
    }

    /// <summary>The document once it is executed or refused.</summary>
    public static Task<JsonElement> FinishedAsync(this Payer payer, string documentId) =>
        Eventually.GetAsync(() => payer.DocumentAsync(documentId),
            d => d.GetProperty("status").GetString() is "executed" or "refused", TimeSpan.FromSeconds(30), "document finished", describe: d => d.ToString());

    public static async Task<JsonElement> AccountAsync(this TestApp app, string iban)
    {
        using var ops = app.OperatorClient();
        return (await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/accounts/{iban}")).GetProperty("account");
    }
}

/// <summary>Customer instructions signed with an EDS: <c>{"cms"}</c> over the instruction's JSON.</summary>
public static class SignedInstructionKit
{
    private static readonly JsonSerializerOptions WebJson = new(JsonSerializerDefaults.Web);

    /// <summary>The request body of an instruction signed by <paramref name="signer"/> at <paramref name="time"/>.</summary>
    public static JsonContent SignedBody(object content, X509Certificate2 signer, DateTimeOffset time) =>
        JsonContent.Create(new { cms = Convert.ToBase64String(TestPki.Sign(JsonSerializer.Serialize(content), time, signer)) });

    /// <summary>The payer's user signs the instruction with the payer's certificate.</summary>
    public static JsonContent SignedBody(this Payer payer, object content) => SignedBody(content, payer.Certificate, payer.App.Time.GetUtcNow());

    public static Task<HttpResponseMessage> ReportErrorAsync(this Payer payer, string documentId, object report, HttpClient? client = null) =>
        (client ?? payer.Software).PostAsync($"/api/v1/documents/{documentId}/error-reports", payer.SignedBody(Merge(report, "errorReport", documentId)));

    public static Task<HttpResponseMessage> ClaimPenaltyAsync(this Payer payer, string documentId, HttpClient? client = null) =>
        (client ?? payer.Software).PostAsync($"/api/v1/documents/{documentId}/penalty-claims", payer.SignedBody(new { type = "penaltyClaim", documentId }));

    /// <summary>The request's fields plus <c>type</c> and <c>documentId</c>, as the instruction is signed.</summary>
    public static JsonObject Merge(object request, string type, string? documentId)
    {
        var json = JsonSerializer.SerializeToNode(request, WebJson)!.AsObject();
        json["type"] = type;
        if (documentId is not null)
        {
            json["documentId"] = documentId;
        }

        return json;
    }
}

/// <summary>One app per test class with a test PKI trusted in it; a class with settings of its own overrides <see cref="Settings"/>.</summary>
public class PaymentAppFixture : IAsyncLifetime
{
    public TestPki Pki { get; } = new();

    public TestApp App { get; private set; } = null!;

    protected virtual IDictionary<string, string>? Settings => null;

    public virtual async Task InitializeAsync()
    {
        App = await TestApp.StartAsync(Settings);
        await App.TrustAsync(Pki);
    }

    public virtual async Task DisposeAsync()
    {
        await App.DisposeAsync();
        Pki.Dispose();
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using BusinessApi.Documents;
using BusinessApi.Tests.Accounts;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Documents;

/// <summary>Payment orders through real HTTP, Azurite and the workflow: intake, EDS and identity checks, execution, refusals, archive.</summary>
public sealed class DocumentsTests : IClassFixture<DocumentsTests.Fixture>
{
    private readonly Fixture _fixture;

    public DocumentsTests(Fixture fixture) => _fixture = fixture;

    public sealed class Fixture : PaymentAppFixture
    {
        protected override IDictionary<string, string> Settings => new Dictionary<string, string>
        {
            ["Payments:Tariffs:0:DocumentType"] = "paymentOrder",
            ["Payments:Tariffs:0:Currency"] = "KZT",
            ["Payments:Tariffs:0:Route"] = "interbank",
            ["Payments:Tariffs:0:Fixed"] = "200",
            ["Payments:Tariffs:0:Percent"] = "0.1",
            ["Payments:Tariffs:0:Max"] = "5000",
            ["Payments:AmlRules:0:Name"] = "large-transfer",
            ["Payments:AmlRules:0:Currency"] = "KZT",
            ["Payments:AmlRules:0:MinAmount"] = "50000000",
        };
    }

    private TestApp App => _fixture.App;

    private TestPki Pki => _fixture.Pki;

    [Fact]
    public async Task SignedOrder_ToAnotherBank_IsExecuted_WithCommission_AndLedgerBalances()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000_000m);
        var response = await payer.SubmitAsync(payer.SignOrder(payer.Order(150_000m)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("received", accepted.GetProperty("status").GetString());
        var id = accepted.GetProperty("documentId").GetString()!;
        Assert.Equal($"/api/v1/documents/{id}", response.Headers.Location!.ToString());

        var document = await payer.FinishedAsync(id);
        Assert.Equal("executed", document.GetProperty("status").GetString());
        Assert.Equal(["received", "processing", "executed"], document.GetProperty("statusHistory").EnumerateArray().Select(h => h.GetProperty("status").GetString()));
        Assert.Equal("350.00", document.GetProperty("paymentOrder").GetProperty("commission").GetString()); // 200 + 0.1% of 150,000
        Assert.Equal("interbank", document.GetProperty("paymentOrder").GetProperty("route").GetString());
        Assert.Equal(payer.Iin, document.GetProperty("signer").GetProperty("iin").GetString());

        var account = await App.AccountAsync(payer.Iban);
        Assert.Equal("849650.00", account.GetProperty("balance").GetString());

        // The statement shows the payment and the commission with the document's id.
        var statement = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{payer.Iban}/statement?from=2026-11-25&to=2026-11-25");
        var entries = statement.GetProperty("entries").EnumerateArray().Where(e => e.TryGetProperty("documentId", out var d) && d.GetString() == id).ToList();
        Assert.Equal(["150000.00", "350.00"], entries.Select(e => e.GetProperty("amount").GetString()).Order());
        Assert.All(entries, e => Assert.Equal("debit", e.GetProperty("direction").GetString()));

        // Every currency's balances still sum to zero.
        using var ops = App.OperatorClient();
        Assert.True((await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/ledger/trial-balance")).GetProperty("balanced").GetBoolean());

        // The customer's own read, in the customer's scope.
        var own = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{id}");
        Assert.Equal("executed", own.GetProperty("status").GetString());

        // A notice for the end.
        var feed = await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/notifications");
        Assert.Contains(feed.GetProperty("items").EnumerateArray(), n => n.GetProperty("kind").GetString() == "document_executed" && n.GetProperty("subject").GetString() == id);
    }

    [Fact]
    public async Task InternalBeneficiary_IsCredited_WithoutCommission()
    {
        using var payer = await App.PayerAsync(Pki, funds: 10_000m);
        var beneficiaryCustomer = await App.CreateCustomerAsync("ТОО Получатель");
        var beneficiary = await App.OpenAccountAsync(beneficiaryCustomer, 0m);
        var id = await payer.SubmitOrderAsync(payer.Order(2_500.50m, beneficiary));
        var document = await payer.FinishedAsync(id);
        Assert.Equal("executed", document.GetProperty("status").GetString());
        Assert.Equal("internal", document.GetProperty("paymentOrder").GetProperty("route").GetString());
        Assert.Equal("2500.50", (await App.AccountAsync(beneficiary)).GetProperty("balance").GetString());
        Assert.Equal("7499.50", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task Archive_ReturnsTheSignedBytes_AndTheReceipt()
    {
        using var payer = await App.PayerAsync(Pki);
        var cms = payer.SignOrder(payer.Order(100m));
        var response = await payer.SubmitAsync(cms);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!;
        var document = await payer.FinishedAsync(id);

        var archive = await payer.Software.GetAsync($"/api/v1/documents/{id}/archive");
        Assert.Equal(HttpStatusCode.OK, archive.StatusCode);
        Assert.Equal("application/pkcs7-mime", archive.Content.Headers.ContentType!.MediaType);
        Assert.Equal(cms, await archive.Content.ReadAsByteArrayAsync());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(cms)), document.GetProperty("archiveSha256").GetString());

        var receipt = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{id}/receipt");
        Assert.Equal("executed", receipt.GetProperty("status").GetString());
        Assert.Equal(3, receipt.GetProperty("statusHistory").GetArrayLength());

        // The archive refuses to replace or delete what it holds (WORM below the app in Azure; here the app's own refusal).
        var store = App.Services.GetRequiredService<DocumentArchive>();
        var stored = await App.Services.GetRequiredService<DocumentStore>().GetAsync(id, default);
        var path = DocumentArchive.PathOf(stored!, DocumentArchive.PackageName);
        await Assert.ThrowsAsync<ArchiveRetentionException>(() => store.OverwriteAsync(path, [1, 2, 3], default));
        await Assert.ThrowsAsync<ArchiveRetentionException>(() => store.DeleteAsync(path, default));
        var retainUntil = await store.RetainUntilAsync(path, default);
        Assert.True(retainUntil >= App.Time.GetUtcNow().AddYears(5).AddDays(-2), $"retained until {retainUntil:O}");
        Assert.Equal(cms, await store.ReadFileAsync(stored!, DocumentArchive.OriginalName, stored!.ArchiveSha256!, default));

        // One blob per document: the package holds the original and the receipt, each byte for byte.
        var folder = path[..(path.LastIndexOf('/') + 1)];
        var blobs = new List<string>();
        await foreach (var item in App.Services.GetRequiredService<BusinessApi.Platform.Storage.StorageResources>().Container(DocumentArchive.ContainerName).GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, folder, default))
        {
            blobs.Add(item.Name[folder.Length..]);
        }

        Assert.Equal([DocumentArchive.PackageName], blobs);
        var package = DocumentArchive.Unpack(await store.ReadAsync(path, DocumentArchive.Sha256(await DownloadAsync(path)), default) ?? [])!;
        Assert.Equal([DocumentArchive.OriginalName, DocumentArchive.ReceiptName], package.Keys.ToArray());
        Assert.Equal(cms, package[DocumentArchive.OriginalName]);
        Assert.Equal(stored.ReceiptSha256, DocumentArchive.Sha256(package[DocumentArchive.ReceiptName]));
        Assert.Equal(cms, await (await payer.Software.GetAsync($"/api/v1/documents/{id}/archive")).Content.ReadAsByteArrayAsync());
    }

    private async Task<byte[]> DownloadAsync(string path) =>
        (await App.Services.GetRequiredService<BusinessApi.Platform.Storage.StorageResources>().Container(DocumentArchive.ContainerName)
            .GetBlobClient(path).DownloadContentAsync()).Value.Content.ToArray();

    [Fact]
    public async Task ArchiveChangedBehindTheAppsBack_IsReportedNotServed()
    {
        using var payer = await App.PayerAsync(Pki);
        var id = await payer.SubmitOrderAsync(payer.Order(10m));
        await payer.FinishedAsync(id);
        var stored = await App.Services.GetRequiredService<DocumentStore>().GetAsync(id, default);
        var blob = App.Services.GetRequiredService<BusinessApi.Platform.Storage.StorageResources>().Container(DocumentArchive.ContainerName)
            .GetBlobClient(DocumentArchive.PathOf(stored!, DocumentArchive.PackageName));
        await blob.UploadAsync(new BinaryData("forged"u8.ToArray()), overwrite: true); // what a WORM policy prevents in Azure
        var problem = await Problem.ReadAsync(await payer.Software.GetAsync($"/api/v1/documents/{id}/archive"));
        Assert.Equal((HttpStatusCode.InternalServerError, "archive_integrity_failed"), (problem.Status, problem.Code));

        // A package whose files were swapped for others (a well-formed ZIP) is caught by the SHA-256 recorded for each file.
        await blob.UploadAsync(new BinaryData(DocumentArchive.Package(
            [new ArchiveEntry(DocumentArchive.OriginalName, [0x30, 0x00]), new ArchiveEntry(DocumentArchive.ReceiptName, "{}"u8.ToArray())], App.Time.GetUtcNow())), overwrite: true);
        foreach (var part in new[] { "archive", "receipt" })
        {
            problem = await Problem.ReadAsync(await payer.Software.GetAsync($"/api/v1/documents/{id}/{part}"));
            Assert.Equal((HttpStatusCode.InternalServerError, "archive_integrity_failed"), (problem.Status, problem.Code));
        }
    }

    [Fact]
    public async Task SameIdempotencyKey_SameDocument_OtherBody_Refused()
    {
        using var payer = await App.PayerAsync(Pki);
        var cms = payer.SignOrder(payer.Order(10m));
        var key = Guid.NewGuid().ToString();
        var first = await payer.SubmitAsync(cms, key);
        var again = await payer.SubmitAsync(cms, key);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString();
        Assert.Equal(id, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());

        var other = await payer.SubmitAsync(payer.SignOrder(payer.Order(11m)), key);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, other.StatusCode);
        Assert.Equal("idempotency_key_mismatch", (await Problem.ReadAsync(other)).Code);

        await payer.FinishedAsync(id!);
        Assert.Equal("999789.99", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString()); // 10 + commission 200 + 0.1%
    }

    [Fact]
    public async Task ConcurrentRetries_OfOneKey_MakeOneDocument()
    {
        using var payer = await App.PayerAsync(Pki);
        var cms = payer.SignOrder(payer.Order(10m));
        var key = Guid.NewGuid().ToString();
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => payer.SubmitAsync(cms, key)));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()));
        Assert.Single(ids.Distinct());
        await payer.FinishedAsync(ids[0]!);
        Assert.Equal("999789.99", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString()); // 10 + commission 200 + 0.1%
    }

    [Fact]
    public async Task BadEnvelopes_AreAnsweredAtOnce_AndLeaveNoDocument()
    {
        using var payer = await App.PayerAsync(Pki);
        async Task<Problem> Send(HttpContent content, string? key = "k-" + "1")
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents") { Content = content };
            if (key is not null)
            {
                request.Headers.Add("Idempotency-Key", key + Guid.NewGuid());
            }

            return await Problem.ReadAsync(await payer.Software.SendAsync(request));
        }

        Assert.Equal("idempotency_key_required", (await Send(JsonContent.Create(new { cms = "AA==" }), key: null)).Code);
        Assert.Equal("unsupported_media_type", (await Send(new StringContent("cms=abc", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"))).Code);
        Assert.Equal("malformed_json", (await Send(new StringContent("{not json", System.Text.Encoding.UTF8, "application/json"))).Code);
        var missing = await Send(JsonContent.Create(new { other = 1 }));
        Assert.Equal(("cms", "required"), (missing.Errors[0].Field, missing.Errors[0].Code));
        Assert.Equal("cms_not_base64", (await Send(JsonContent.Create(new { cms = "%%%" }))).Errors[0].Code);
        Assert.Equal("cms_malformed", (await Send(JsonContent.Create(new { cms = Convert.ToBase64String("hello"u8.ToArray()) }))).Errors[0].Code);
        var large = await Send(JsonContent.Create(new { cms = Convert.ToBase64String(new byte[70_000]) }));
        Assert.Equal((HttpStatusCode.RequestEntityTooLarge, "document_too_large"), (large.Status, large.Code));
        var huge = await Send(new StringContent(new string('a', 200_000), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.Status);

        var list = await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/documents");
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task ClientTokenOrPortalSession_CannotSubmit()
    {
        using var payer = await App.PayerAsync(Pki);
        using var token = App.BearerClient(await App.TokenAsync(payer.ClientId, payer.Secret));
        var byToken = await payer.SubmitAsync(payer.SignOrder(payer.Order(1m)), client: token);
        Assert.Equal("software_session_required", (await Problem.ReadAsync(byToken)).Code);
        using var portal = App.BearerClient(await App.SignInAsync(payer.Login, CustomerKit.AdminPassword));
        var byPortal = await payer.SubmitAsync(payer.SignOrder(payer.Order(1m)), client: portal);
        Assert.Equal(HttpStatusCode.Forbidden, byPortal.StatusCode);
    }

    [Theory]
    [InlineData("certificate_expired")]
    [InlineData("certificate_not_yet_valid")]
    [InlineData("key_usage_invalid")]
    [InlineData("certificate_untrusted")]
    [InlineData("signer_mismatch")]
    [InlineData("organisation_mismatch")]
    public async Task BadSignatures_AreRefused_AsAuthenticationFailures(string failure)
    {
        using var payer = await App.PayerAsync(Pki);
        var now = App.Time.GetUtcNow();
        using var foreign = failure == "certificate_untrusted" ? new TestPki("FOREIGN") : null;
        using var signer = failure switch
        {
            "certificate_expired" => Pki.IssueUser(payer.Iin, payer.Bin, notAfter: now.AddDays(-1)),
            "certificate_not_yet_valid" => Pki.IssueUser(payer.Iin, payer.Bin, notBefore: now.AddDays(1)),
            "key_usage_invalid" => Pki.IssueUser(payer.Iin, payer.Bin, usage: System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyEncipherment),
            "certificate_untrusted" => foreign!.IssueUser(payer.Iin, payer.Bin),
            "signer_mismatch" => Pki.IssueUser(BankData.NewIin(), payer.Bin),
            _ => Pki.IssueUser(payer.Iin, BankData.NewBin()),
        };
        var cms = TestPki.Sign(payer.Order(10m).ToJsonString(), failure == "certificate_expired" ? now.AddDays(-2) : now, signer);
        var response = await payer.SubmitAsync(cms);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var document = await payer.FinishedAsync((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!);
        Assert.Equal("refused", document.GetProperty("status").GetString());
        Assert.Equal("authentication_failed", document.GetProperty("reasonCode").GetString());
        Assert.Equal(failure, document.GetProperty("failure").GetString());
        Assert.False(string.IsNullOrEmpty(document.GetProperty("reason").GetString()));
        Assert.Equal("1000000.00", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
        var archive = await payer.Software.GetAsync($"/api/v1/documents/{document.GetProperty("documentId").GetString()}/archive");
        Assert.Equal("document_not_archived", (await Problem.ReadAsync(archive)).Code); // not accepted, so not archived as an original
    }

    [Fact]
    public async Task RevokedCertificate_IsRefused()
    {
        await using var app = await TestApp.StartAsync();
        using var pki = new TestPki();
        using var ops = app.OperatorClient();
        using var payer = await app.PayerAsync(pki);
        await app.TrustAsync(pki, revoked: [payer.Certificate], revokedAt: app.Time.GetUtcNow().AddMinutes(-30));
        var document = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(10m)));
        Assert.Equal("certificate_revoked", document.GetProperty("failure").GetString());
    }

    [Fact]
    public async Task PersonalCertificate_SignsForAnEntrepreneur_NotForACompany()
    {
        using var company = await App.PayerAsync(Pki, organisationCertificate: false);
        var refused = await company.FinishedAsync(await company.SubmitOrderAsync(company.Order(10m)));
        Assert.Equal("organisation_bin_missing", refused.GetProperty("failure").GetString());

        using var entrepreneur = await App.PayerAsync(Pki, organisationCertificate: false, entrepreneur: true);
        var executed = await entrepreneur.FinishedAsync(await entrepreneur.SubmitOrderAsync(entrepreneur.Order(10m)));
        Assert.Equal("executed", executed.GetProperty("status").GetString());
    }

    [Fact]
    public async Task SignerWithoutSignPower_OrAccount_IsRefused_AndPowerRemovedLater_Applies()
    {
        using var creator = await App.PayerAsync(Pki, functions: ["view", "create"]);
        var document = await creator.FinishedAsync(await creator.SubmitOrderAsync(creator.Order(10m)));
        Assert.Equal("no_signing_authority", document.GetProperty("failure").GetString());

        using var payer = await App.PayerAsync(Pki);
        using var admin = await App.AdminClientAsync(payer.CustomerId);
        var patched = await admin.PatchAsJsonAsync($"/api/v1/users/{payer.UserId}", new { permissions = new { accounts = new[] { "*" }, functions = new[] { "view", "create" } } });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var after = await payer.SubmitAsync(payer.SignOrder(payer.Order(10m)));
        if (after.StatusCode == HttpStatusCode.Accepted)
        {
            // The session may still carry documents.write for a few seconds (cached); the workflow reads the user afresh (R-14).
            var refused = await payer.FinishedAsync((await after.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!);
            Assert.Equal("no_signing_authority", refused.GetProperty("failure").GetString());
        }
        else
        {
            Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        }
    }

    [Fact]
    public async Task CompromisedClientId_BeforeReceipt_RefusesTheDocument()
    {
        using var payer = await App.PayerAsync(Pki);
        var cms = payer.SignOrder(payer.Order(10m));
        using var admin = await App.AdminClientAsync(payer.CustomerId);
        // Report first, then present a document in the same instant's session (the status cache may still let it in).
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/credentials/{payer.ClientId}/compromise", null)).StatusCode);
        App.Time.Advance(TimeSpan.FromSeconds(1));
        var response = await payer.SubmitAsync(cms);
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var document = await payer.FinishedAsync((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!);
            Assert.Equal("credentials_compromised", document.GetProperty("reasonCode").GetString());
        }
        else
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
    }

    [Fact]
    public async Task CompromiseReportedOnAnotherInstance_VoidsADocumentItsSessionStillLetIn()
    {
        await using var first = await TestApp.StartAsync();
        await first.TrustAsync(Pki);
        await using var second = await first.StartSiblingAsync();
        using var payer = await first.PayerAsync(Pki);
        Assert.Equal(HttpStatusCode.OK, (await payer.Software.GetAsync("/api/v1/documents")).StatusCode); // the pair's status is now cached here

        using var admin = await second.AdminClientAsync(payer.CustomerId);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/v1/credentials/{payer.ClientId}/compromise", null)).StatusCode);
        first.Time.Advance(TimeSpan.FromSeconds(1)); // received after the report, within this instance's status cache
        var response = await payer.SubmitAsync(payer.SignOrder(payer.Order(10m)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var document = await payer.FinishedAsync((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!);
        Assert.Equal(("refused", "credentials_compromised"), (document.GetProperty("status").GetString(), document.GetProperty("reasonCode").GetString()));
        Assert.Equal("1000000.00", (await first.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task OtherCustomersDocuments_Are404()
    {
        using var payer = await App.PayerAsync(Pki);
        using var other = await App.PayerAsync(Pki);
        var id = await payer.SubmitOrderAsync(payer.Order(10m));
        var foreign = await other.Software.GetAsync($"/api/v1/documents/{id}");
        Assert.Equal("document_not_found", (await Problem.ReadAsync(foreign)).Code);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Software.GetAsync($"/api/v1/documents/{id}/archive")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Software.GetAsync("/api/v1/documents/not-an-id")).StatusCode);
    }

    [Fact]
    public async Task List_FiltersByStatus_AndPages()
    {
        using var payer = await App.PayerAsync(Pki, funds: 100m);
        var internalBeneficiary = await App.OpenAccountAsync(await App.CreateCustomerAsync(), 0m);
        var executed = await payer.SubmitOrderAsync(payer.Order(60m, internalBeneficiary));
        await payer.FinishedAsync(executed);
        App.Time.Advance(TimeSpan.FromMilliseconds(5)); // ids sort by the millisecond of receipt
        var refused = await payer.SubmitOrderAsync(payer.Order(60m, internalBeneficiary)); // only 40 left
        var document = await payer.FinishedAsync(refused);
        Assert.Equal("insufficient_funds", document.GetProperty("reasonCode").GetString());
        App.Time.Advance(TimeSpan.FromMilliseconds(5));
        var third = await payer.SubmitOrderAsync(payer.Order(10m, internalBeneficiary));
        await payer.FinishedAsync(third);

        var all = await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/documents");
        Assert.Equal([executed, refused, third], all.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("documentId").GetString()));
        var onlyRefused = await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/documents?status=refused");
        Assert.Equal([refused], onlyRefused.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("documentId").GetString()));
        var page = await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/documents?pageSize=2");
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        var next = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents?pageSize=2&continuation={page.GetProperty("continuation").GetString()}");
        Assert.Equal([third], next.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("documentId").GetString()));
        var bad = await payer.Software.GetAsync("/api/v1/documents?status=lost&from=2026-11-30&to=2026-11-01");
        var problem = await Problem.ReadAsync(bad);
        Assert.Equal(["status", "to"], problem.Errors.Select(e => e.Field).Order());
    }

    [Fact]
    public async Task InvalidOrder_IsRefused_WithEveryBrokenRule()
    {
        using var payer = await App.PayerAsync(Pki);
        var order = payer.Order(10m, edit: o =>
        {
            o["amount"] = "10.001";
            o["purposeCode"] = "000";
            ((JsonObject)o["beneficiary"]!)["code"] = "37";
            o["extra"] = "x";
        });
        var document = await payer.FinishedAsync(await payer.SubmitOrderAsync(order));
        Assert.Equal("invalid_document", document.GetProperty("reasonCode").GetString());
        var errors = document.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("field").GetString(), e.GetProperty("code").GetString())).ToList();
        Assert.Contains(("amount", "amount_scale"), errors);
        Assert.Contains(("purposeCode", "purpose_code_unknown"), errors);
        Assert.Contains(("beneficiary.code", "economic_code_invalid"), errors);
        Assert.Contains(("extra", "unknown_field"), errors);
    }

    [Fact]
    public async Task UnknownInternalBeneficiary_IsRefused()
    {
        using var payer = await App.PayerAsync(Pki);
        var document = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(10m, BankData.NewIban().Value)));
        Assert.Equal("beneficiary_account_unknown", document.GetProperty("errors")[0].GetProperty("code").GetString());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using BusinessApi.Documents;
using BusinessApi.Documents.Signatures;
using BusinessApi.Tests.Accounts;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using System.Globalization;

namespace BusinessApi.Tests.Documents;

/// <summary>A person of the payer's customer who signs (or prepares) documents: their own user, certificate and software session.</summary>
public sealed record Colleague(string UserId, string Iin, X509Certificate2 Certificate, HttpClient Software) : IDisposable
{
    public string Login { get; init; } = "";

    public void Dispose()
    {
        Certificate.Dispose();
        Software.Dispose();
    }
}

/// <summary>
/// Documents several people prepare and sign (issue 21), through HTTP against Azurite: drafts, the specimen card's
/// first and second signatures, one CMS with two SignerInfos, cancel, the signature window, powers with a term, a
/// signer removed mid-way, and the races between them.
/// </summary>
public sealed class DocumentSignaturesTests(PaymentAppFixture fixture) : IClassFixture<PaymentAppFixture>
{
    internal TestApp App => fixture.App;

    [Fact]
    public async Task Draft_ByAnAccountant_ThenSignedByTheDirector_OnAnAccountWithoutACard_IsExecuted()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        using var accountant = await ColleagueAsync(payer, ["view", "create"]);
        var order = payer.Order(1_500m);
        var created = await DraftAsync(accountant.Software, order);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var draft = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = draft.GetProperty("documentId").GetString()!;
        Assert.Equal("awaitingSignatures", draft.GetProperty("status").GetString());
        Assert.Equal($"/api/v1/documents/{id}", created.Headers.Location!.OriginalString);

        // The exact bytes to sign: the order as sent, without insignificant whitespace.
        var content = await accountant.Software.GetByteArrayAsync($"/api/v1/documents/{id}/content");
        Assert.True(JsonNode.DeepEquals(order, JsonNode.Parse(content)));
        Assert.DoesNotContain((byte)'\n', content);

        // The accountant may prepare but not sign.
        var byAccountant = await SignAsync(accountant.Software, id, TestPki.Sign(content, App.Time.GetUtcNow(), true, accountant.Certificate));
        Assert.Equal(HttpStatusCode.Forbidden, byAccountant.StatusCode);
        Assert.Equal("no_signing_authority", await CodeAsync(byAccountant));

        var signed = await SignAsync(payer.Software, id, TestPki.Sign(content, App.Time.GetUtcNow(), true, payer.Certificate));
        Assert.Equal(HttpStatusCode.Accepted, signed.StatusCode);
        var done = await payer.FinishedAsync(id);
        Assert.Equal("executed", done.GetProperty("status").GetString());
        Assert.Equal(["awaitingSignatures", "processing", "executed"], done.GetProperty("statusHistory").EnumerateArray().Select(c => c.GetProperty("status").GetString()));
        Assert.Equal(payer.UserId, done.GetProperty("signatures")[0].GetProperty("userId").GetString());

        // The archive: one CMS, the content attached, the director's SignerInfo.
        var archived = SignedMessage.TryParse(await payer.Software.GetByteArrayAsync($"/api/v1/documents/{id}/archive"))!;
        Assert.Equal(content, archived.Content);
        Assert.Single(archived.Signers);
    }

    [Fact]
    public async Task Draft_BreakingTheRulesOfForm_Answers422WithTheSameErrors_AndStoresNothing()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        var bad = await DraftAsync(payer.Software, payer.Order(10m, edit: o => o["purposeCode"] = "000"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.StatusCode);
        var problem = await bad.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("document_invalid", problem.GetProperty("code").GetString());
        Assert.Contains(problem.GetProperty("errors").EnumerateArray(), e => e.GetProperty("field").GetString() == "purposeCode");

        var notObject = await DraftAsync(payer.Software, null, """{"document": [1]}""");
        Assert.Equal(HttpStatusCode.BadRequest, notObject.StatusCode);
        var list = await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/documents");
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task TwoSignatureAccount_FirstThenSecond_InEitherOrder_IsExecuted_AndOneGroupTwiceIsNotEnough()
    {
        using var payer = await App.PayerAsync(fixture.Pki, functions: ["view", "create"]);
        using var head = await ColleagueAsync(payer, ["view", "sign"]);
        using var deputy = await ColleagueAsync(payer, ["view", "sign"]);
        using var accountant = await ColleagueAsync(payer, ["view", "sign"]);
        await CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (deputy.UserId, "first"), (accountant.UserId, "second"));

        foreach (var (first, second) in new[] { (head, accountant), (accountant, head) })
        {
            var (id, content) = await DraftIdAsync(payer);
            var firstSigned = Detached(content, first);
            Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(first.Software, id, firstSigned)).StatusCode);
            var partly = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{id}");
            Assert.Equal("awaitingSignatures", partly.GetProperty("status").GetString());
            Assert.Single(partly.GetProperty("signing").GetProperty("missing").EnumerateArray());

            // The second signer finds it in their list; the first no longer does.
            Assert.Contains(await AwaitingMineAsync(second), d => d == id);
            Assert.DoesNotContain(await AwaitingMineAsync(first), d => d == id);

            var secondSigned = Detached(content, second);
            Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(second.Software, id, secondSigned)).StatusCode);
            var done = await payer.FinishedAsync(id);
            Assert.Equal("executed", done.GetProperty("status").GetString());
            Assert.Equal(2, done.GetProperty("signatures").GetArrayLength());

            // The archive returns one CMS with both SignerInfos over the content, each verifying as it was signed.
            var archived = SignedMessage.TryParse(await payer.Software.GetByteArrayAsync($"/api/v1/documents/{id}/archive"))!;
            Assert.Equal(content, archived.Content);
            Assert.Equal(2, archived.Signers.Count);
            using var ops = App.OperatorClient();
            var report = await ops.PostAsJsonAsync("/api/v1/ops/signatures/verify", new { cms = Convert.ToBase64String(await payer.Software.GetByteArrayAsync($"/api/v1/documents/{id}/archive")) });
            Assert.All((await report.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signers").EnumerateArray(), s => Assert.True(s.GetProperty("valid").GetBoolean()));

            // One archive blob: the merged original, each signature as received in the order it came, and the receipt.
            var stored = (await App.Services.GetRequiredService<DocumentStore>().GetAsync(id, default))!;
            var package = DocumentArchive.Unpack((await App.Services.GetRequiredService<BusinessApi.Platform.Storage.StorageResources>()
                .Container(DocumentArchive.ContainerName).GetBlobClient(DocumentArchive.PathOf(stored, DocumentArchive.PackageName)).DownloadContentAsync()).Value.Content.ToArray())!;
            Assert.Equal([DocumentArchive.OriginalName, DocumentArchive.SignatureName(1), DocumentArchive.SignatureName(2), DocumentArchive.ReceiptName], package.Keys.ToArray());
            Assert.Equal(firstSigned, package[DocumentArchive.SignatureName(1)]);
            Assert.Equal(secondSigned, package[DocumentArchive.SignatureName(2)]);
            Assert.Equal(await payer.Software.GetByteArrayAsync($"/api/v1/documents/{id}/archive"), package[DocumentArchive.OriginalName]);
        }

        // Two of the first group: still missing the second, so it waits.
        var (same, sameContent) = await DraftIdAsync(payer);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(head.Software, same, Detached(sameContent, head))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(deputy.Software, same, Detached(sameContent, deputy))).StatusCode);
        var waiting = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{same}");
        Assert.Equal("awaitingSignatures", waiting.GetProperty("status").GetString());
        Assert.Equal(["second"], waiting.GetProperty("signing").GetProperty("missing").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task OneCms_WithTwoSignerInfos_MeetsTheRule_AndTheSamePersonSignsOnce()
    {
        using var payer = await App.PayerAsync(fixture.Pki, functions: ["view", "create"]);
        using var head = await ColleagueAsync(payer, ["view", "sign"]);
        using var accountant = await ColleagueAsync(payer, ["view", "sign"]);
        await CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (accountant.UserId, "second"));

        // The same certificate twice in one CMS: one person signs once.
        var (twice, twiceContent) = await DraftIdAsync(payer);
        var repeated = await SignAsync(head.Software, twice, TestPki.Sign(twiceContent, App.Time.GetUtcNow(), false, head.Certificate, head.Certificate));
        Assert.Equal(HttpStatusCode.Conflict, repeated.StatusCode);
        Assert.Equal("already_signed", await CodeAsync(repeated));
        var headSignature = Detached(twiceContent, head);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(head.Software, twice, headSignature)).StatusCode);
        var again = await SignAsync(head.Software, twice, TestPki.Sign(twiceContent, App.Time.GetUtcNow(), false, head.Certificate));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("already_signed", await CodeAsync(again));

        // The very same CMS again (a retry whose answer was lost, under a new key): it counted once, and says so.
        var replay = await SignAsync(head.Software, twice, headSignature);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Single((await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signatures").EnumerateArray());

        // Head and accountant in one attached CMS, sent by the head.
        var (id, content) = await DraftIdAsync(payer);
        var both = TestPki.Sign(content, App.Time.GetUtcNow(), false, head.Certificate, accountant.Certificate);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(head.Software, id, both)).StatusCode);
        var done = await payer.FinishedAsync(id);
        Assert.Equal("executed", done.GetProperty("status").GetString());
        Assert.Equal(["first", "second"], done.GetProperty("signatures").EnumerateArray().Select(s => s.GetProperty("group").GetString()).Order());

        // Content that is not the document's is refused, and a signer who is not the caller is not enough.
        var (other, otherContent) = await DraftIdAsync(payer);
        var wrong = await SignAsync(head.Software, other, TestPki.Sign("{\"amount\":\"1.00\"}", App.Time.GetUtcNow(), head.Certificate));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        var notMine = await SignAsync(head.Software, other, Detached(otherContent, accountant));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notMine.StatusCode);
        Assert.Equal("signer_mismatch", (await notMine.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("failure").GetString());
    }

    [Fact]
    public async Task Cancel_ByTheCreatorOrAnAdmin_BeforeFullySigned_AndNeverAfter()
    {
        using var payer = await App.PayerAsync(fixture.Pki, functions: ["view", "create"]);
        using var head = await ColleagueAsync(payer, ["view", "sign"]);
        using var accountant = await ColleagueAsync(payer, ["view", "sign"]);
        await CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (accountant.UserId, "second"));

        var (id, content) = await DraftIdAsync(payer);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(head.Software, id, Detached(content, head))).StatusCode);
        var byOther = await head.Software.DeleteAsync($"/api/v1/documents/{id}");
        Assert.Equal(HttpStatusCode.Forbidden, byOther.StatusCode);
        Assert.Equal("cancel_not_allowed", await CodeAsync(byOther));

        var cancelled = await payer.Software.DeleteAsync($"/api/v1/documents/{id}");
        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        var done = await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.GetProperty("status").GetString() == "cancelled");
        Assert.Equal("cancelled_by_customer", done.GetProperty("reasonCode").GetString());
        var late = await SignAsync(accountant.Software, id, Detached(content, accountant));
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("document_not_awaiting_signatures", await CodeAsync(late));

        // Fully signed: no cancel.
        var (signedId, signedContent) = await DraftIdAsync(payer);
        await SignAsync(head.Software, signedId, Detached(signedContent, head));
        await SignAsync(accountant.Software, signedId, Detached(signedContent, accountant));
        var tooLate = await payer.Software.DeleteAsync($"/api/v1/documents/{signedId}");
        Assert.Equal(HttpStatusCode.Conflict, tooLate.StatusCode);
        Assert.Contains(await CodeAsync(tooLate), new[] { "document_fully_signed", "document_not_awaiting_signatures" });
        Assert.Equal("executed", (await payer.FinishedAsync(signedId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ACardPutAfterTheCustomersFirstDocuments_IsSeenByTheNext_AndTheCardIndexNamesEachCardedAccount()
    {
        using var payer = await App.PayerAsync(fixture.Pki, functions: ["view", "create", "sign"]);
        using var accountant = await ColleagueAsync(payer, ["view", "sign"]);
        var other = await App.OpenAccountAsync(payer.CustomerId, 1_000m);
        var cards = App.Services.GetRequiredService<SpecimenCardStore>();

        // No card yet: one signature executes, and verification made the customer's (empty) index of carded accounts.
        Assert.Equal("executed", (await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(5m)))).GetProperty("status").GetString());
        Assert.Empty((await cards.CardedAccountsAsync(payer.CustomerId, default))!);

        // A first card on the account goes into that index in its own transaction: the next order awaits the second signature.
        await CardAsync(payer.Iban, "first+second", (payer.UserId, "first"), (accountant.UserId, "second"));
        Assert.Equal([payer.Iban], (await cards.CardedAccountsAsync(payer.CustomerId, default))!);
        var id = await payer.SubmitOrderAsync(payer.Order(6m));
        Assert.Equal("awaitingSignatures", (await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.GetProperty("status").GetString() != "received"))
            .GetProperty("status").GetString());

        // The customer's other account has no card and keeps today's rule; a second carded account joins the index.
        var otherOrder = payer.Order(7m, edit: o => o["payer"]!["iban"] = other);
        Assert.Equal("executed", (await payer.FinishedAsync(await payer.SubmitOrderAsync(otherOrder))).GetProperty("status").GetString());
        await CardAsync(other, "first", (payer.UserId, "first"));
        Assert.Equal(new[] { payer.Iban, other }.Order(StringComparer.Ordinal), (await cards.CardedAccountsAsync(payer.CustomerId, default))!.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task SignerRemovedMidway_LosesTheSignature_AndSignsNothingMore_AndASignedPostCountsAsTheFirst()
    {
        using var payer = await App.PayerAsync(fixture.Pki, functions: ["view", "create", "sign"]);
        using var head = await ColleagueAsync(payer, ["view", "sign"]);
        using var accountant = await ColleagueAsync(payer, ["view", "sign"]);
        await CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (payer.UserId, "first"), (accountant.UserId, "second"));

        // A signed POST /documents by a first-group signer is the first signature; the document awaits the second.
        var order = payer.Order(42m);
        var signedId = await payer.SubmitOrderAsync(order);
        var awaiting = await Eventually.GetAsync(() => payer.DocumentAsync(signedId), d => d.GetProperty("status").GetString() == "awaitingSignatures");
        Assert.Equal("first", awaiting.GetProperty("signatures")[0].GetProperty("group").GetString());
        var signedContent = await payer.Software.GetByteArrayAsync($"/api/v1/documents/{signedId}/content");
        Assert.True(JsonNode.DeepEquals(order, JsonNode.Parse(signedContent)));
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(accountant.Software, signedId, Detached(signedContent, accountant))).StatusCode);
        Assert.Equal("executed", (await payer.FinishedAsync(signedId)).GetProperty("status").GetString());

        var (id, content) = await DraftIdAsync(payer);
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(head.Software, id, Detached(content, head))).StatusCode);
        using var ops = App.OperatorClient();
        var ended = await ops.PostAsJsonAsync($"/api/v1/ops/accounts/{payer.Iban}/signature-rule/signers/{head.UserId}/end", new { reason = "replaced" });
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        Assert.Contains((await ended.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("signers").EnumerateArray(),
            s => s.GetProperty("userId").GetString() == head.UserId && !s.GetProperty("active").GetBoolean());

        var after = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{id}");
        var voided = after.GetProperty("signatures")[0];
        Assert.False(voided.GetProperty("counts").GetBoolean());
        Assert.Equal("power_ended", voided.GetProperty("voidReason").GetString());
        Assert.Equal(["first", "second"], after.GetProperty("signing").GetProperty("missing").EnumerateArray().Select(m => m.GetString()));

        var refused = await SignAsync(head.Software, id, Detached(content, head));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("not_on_specimen_card", await CodeAsync(refused));
        Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(accountant.Software, id, Detached(content, accountant))).StatusCode);
        Assert.Equal("awaitingSignatures", (await payer.DocumentAsync(id)).GetProperty("status").GetString());

        var day = BusinessApi.Calendar.KazakhstanTime.LocalDate(App.Time.GetUtcNow()).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var journal = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject={payer.CustomerId}&date={day}");
        Assert.Contains(journal.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "signature_rule.signer_ended");
    }

    [Fact]
    public async Task Races_TwoSignersAtOnce_CancelAgainstTheLastSignature_PowerEndedAgainstASignature_EachEndOneWay()
    {
        using var payer = await App.PayerAsync(fixture.Pki, functions: ["view", "create"]);
        using var head = await ColleagueAsync(payer, ["view", "sign"]);
        using var accountant = await ColleagueAsync(payer, ["view", "sign"]);
        await CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (accountant.UserId, "second"));
        using var ops = App.OperatorClient();

        for (var round = 0; round < 4; round++)
        {
            // Two signers at the same instant: both count, the document executes once.
            var (both, bothContent) = await DraftIdAsync(payer);
            var answers = await Task.WhenAll(SignAsync(head.Software, both, Detached(bothContent, head)), SignAsync(accountant.Software, both, Detached(bothContent, accountant)));
            Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
            var executed = await payer.FinishedAsync(both);
            Assert.Equal("executed", executed.GetProperty("status").GetString());
            Assert.Equal(2, executed.GetProperty("signatures").GetArrayLength());

            // A cancel racing the last signature: exactly one of them wins, and the document ends its way.
            var (raced, racedContent) = await DraftIdAsync(payer);
            Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(head.Software, raced, Detached(racedContent, head))).StatusCode);
            var signing = SignAsync(accountant.Software, raced, Detached(racedContent, accountant));
            var cancelling = payer.Software.DeleteAsync($"/api/v1/documents/{raced}");
            var (signed, cancel) = (await signing, await cancelling);
            Assert.True(signed.IsSuccessStatusCode ^ cancel.IsSuccessStatusCode, $"sign {signed.StatusCode}, cancel {cancel.StatusCode}");
            var end = await Eventually.GetAsync(() => payer.DocumentAsync(raced), d => d.GetProperty("status").GetString() is "executed" or "cancelled");
            Assert.Equal(signed.IsSuccessStatusCode ? "executed" : "cancelled", end.GetProperty("status").GetString());

            // A power ended while the last signature is verified: the signature counts (executed) or is refused or voided (still awaiting), never both.
            await CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (accountant.UserId, "second"));
            var (power, powerContent) = await DraftIdAsync(payer);
            Assert.Equal(HttpStatusCode.Accepted, (await SignAsync(accountant.Software, power, Detached(powerContent, accountant))).StatusCode);
            var last = SignAsync(head.Software, power, Detached(powerContent, head));
            var ending = ops.PostAsJsonAsync($"/api/v1/ops/accounts/{payer.Iban}/signature-rule/signers/{head.UserId}/end", new { reason = "race" });
            var (lastAnswer, endAnswer) = (await last, await ending);
            Assert.Equal(HttpStatusCode.OK, endAnswer.StatusCode);
            await Task.Delay(200);
            var state = await Eventually.GetAsync(() => payer.DocumentAsync(power),
                d => d.GetProperty("status").GetString() is "executed" or "awaitingSignatures" && (d.GetProperty("status").GetString() == "executed" || d.GetProperty("signatures").GetArrayLength() == (lastAnswer.IsSuccessStatusCode ? 2 : 1)));
            if (state.GetProperty("status").GetString() == "executed")
            {
                Assert.Equal(HttpStatusCode.Accepted, lastAnswer.StatusCode); // it counted before the end
            }
            else
            {
                var sheet = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/documents/{power}");
                Assert.DoesNotContain(sheet.GetProperty("signatures").EnumerateArray(), s => s.GetProperty("userId").GetString() == head.UserId && s.GetProperty("counts").GetBoolean());
                await payer.Software.DeleteAsync($"/api/v1/documents/{power}");
            }

            await CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (accountant.UserId, "second"));
        }
    }

    [Fact]
    public async Task SignatureRule_BadInput_IsRefusedWithProblems_AndChangesNothing()
    {
        using var payer = await App.PayerAsync(fixture.Pki);
        using var ops = App.OperatorClient();
        var url = $"/api/v1/ops/accounts/{payer.Iban}/signature-rule";
        foreach (var body in new object[]
        {
            new { rule = "first+third", signers = new[] { new { userId = payer.UserId, group = "first" } } },
            new { rule = "first+second", signers = new[] { new { userId = payer.UserId, group = "first" } } },
            new { rule = "first", signers = Array.Empty<object>() },
            new { rule = "first", signers = new[] { new { userId = "usr_x", group = "first" } } },
            new { rule = "first", signers = new[] { new { userId = payer.UserId, group = "first" }, new { userId = payer.UserId, group = "second" } } },
        })
        {
            var answer = await ops.PutAsJsonAsync(url, body);
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        }

        var stranger = await App.CreateCustomerAsync();
        var (_, strangerId) = await App.CreateUserAsync(stranger, functions: ["sign"]);
        var foreign = await ops.PutAsJsonAsync(url, new { rule = "first", signers = new[] { new { userId = strangerId, group = "first" } } });
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ops.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ops.PutAsJsonAsync("/api/v1/ops/accounts/KZ000000000000000000/signature-rule",
            new { rule = "first", signers = new[] { new { userId = payer.UserId, group = "first" } } })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await ops.PutAsJsonAsync(url, new { rule = "first", signers = new[] { new { userId = payer.UserId, group = "first" } } })).StatusCode);
        var mine = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{payer.Iban}/signature-rule");
        Assert.Equal("first", mine.GetProperty("rule").GetString());
    }

    internal async Task<Colleague> ColleagueAsync(Payer payer, string[] functions, DateTimeOffset? validUntil = null)
    {
        var iin = BankData.NewIin();
        using var ops = App.OperatorClient();
        var login = "u" + Guid.NewGuid().ToString("N")[..12];
        var created = await ops.PostAsJsonAsync($"/api/v1/ops/customers/{payer.CustomerId}/users", new
        {
            login,
            fullName = "Коллега Тест",
            iin,
            isAdmin = false,
            permissions = new { accounts = new[] { "*" }, functions, validUntil },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        var userId = body.GetProperty("userId").GetString()!;
        var temporary = body.GetProperty("temporaryPassword").GetString()!;
        var first = await App.RequestSessionAsync(login, temporary);
        var restricted = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sessionToken").GetString()!;
        using (var changer = App.BearerClient(restricted))
        {
            var changed = await changer.PostAsJsonAsync("/api/v1/users/me/password", new { currentPassword = temporary, newPassword = CustomerKit.AdminPassword });
            Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        }

        var session = await App.SignInAsync(login, CustomerKit.AdminPassword, await App.TokenAsync(payer.ClientId, payer.Secret));
        return new Colleague(userId, iin, fixture.Pki.IssueUser(iin, payer.Bin), App.BearerClient(session)) { Login = login };
    }

    internal async Task RenewAsync(Payer payer, Colleague colleague)
    {
        await payer.RenewSessionAsync();
        var session = await App.SignInAsync(colleague.Login, CustomerKit.AdminPassword, await App.TokenAsync(payer.ClientId, payer.Secret));
        colleague.Software.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", session);
    }

    internal async Task CardAsync(string iban, string rule, params (string UserId, string Group)[] signers)
    {
        using var ops = App.OperatorClient();
        var put = await ops.PutAsJsonAsync($"/api/v1/ops/accounts/{iban}/signature-rule", new { rule, signers = signers.Select(s => new { userId = s.UserId, group = s.Group }) });
        Assert.True(put.StatusCode == HttpStatusCode.OK, await put.Content.ReadAsStringAsync());
    }

    internal static async Task<(string Id, byte[] Content)> DraftIdAsync(Payer payer)
    {
        var created = await DraftAsync(payer.Software, payer.Order(10m));
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!;
        return (id, await payer.Software.GetByteArrayAsync($"/api/v1/documents/{id}/content"));
    }

    private static async Task<HttpResponseMessage> DraftAsync(HttpClient client, JsonObject? order, string? raw = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents")
        {
            Content = new StringContent(raw ?? new JsonObject { ["document"] = order!.DeepClone() }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return await client.SendAsync(request);
    }

    internal static async Task<HttpResponseMessage> SignAsync(HttpClient client, string id, byte[] cms, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/documents/{id}/signatures") { Content = JsonContent.Create(new { cms = Convert.ToBase64String(cms) }) };
        request.Headers.Add("Idempotency-Key", key ?? Guid.NewGuid().ToString());
        return await client.SendAsync(request);
    }

    internal byte[] Detached(byte[] content, Colleague signer) => TestPki.Sign(content, App.Time.GetUtcNow(), true, signer.Certificate);

    private static async Task<IReadOnlyList<string>> AwaitingMineAsync(Colleague colleague) =>
        [.. (await colleague.Software.GetFromJsonAsync<JsonElement>("/api/v1/documents?awaitingMySignature=true")).GetProperty("items").EnumerateArray()
            .Select(d => d.GetProperty("documentId").GetString()!)];

    private static async Task<string?> CodeAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString();
}

/// <summary>The signature window and powers with a term, on a clock of their own (they move it days ahead).</summary>
public sealed class DocumentSignatureWindowTests(PaymentAppFixture fixture) : IClassFixture<PaymentAppFixture>
{
    private DocumentSignaturesTests Kit { get; } = new(fixture);

    [Fact]
    public async Task ExpiredPowers_SignNothing_AndTheSignatureWindow_CancelsADocumentNotFullySigned()
    {
        using var payer = await Kit.App.PayerAsync(fixture.Pki, functions: ["view", "create"]);
        var start = Kit.App.Time.GetUtcNow();
        using var temporary = await Kit.ColleagueAsync(payer, ["view", "sign"], validUntil: start.AddDays(1));
        using var head = await Kit.ColleagueAsync(payer, ["view", "sign"]);
        await Kit.CardAsync(payer.Iban, "first+second", (temporary.UserId, "first"), (head.UserId, "second"));
        var (id, content) = await DocumentSignaturesTests.DraftIdAsync(payer);
        Kit.App.Time.Advance(TimeSpan.FromDays(2));
        await Kit.RenewAsync(payer, temporary);
        await Kit.RenewAsync(payer, head);
        var expired = await DocumentSignaturesTests.SignAsync(temporary.Software, id, Kit.Detached(content, temporary));
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await DocumentSignaturesTests.SignAsync(head.Software, id, Kit.Detached(content, head))).StatusCode);
        Kit.App.Time.Advance(TimeSpan.FromDays(7)); // day 9 of the 10-day window from the draft's receipt
        Assert.Equal("awaitingSignatures", (await payer.DocumentAsync(id)).GetProperty("status").GetString());
        Kit.App.Time.Advance(TimeSpan.FromDays(1)); // past the window's end
        var done = await Eventually.GetAsync(async () =>
        {
            Kit.App.Time.Advance(TimeSpan.FromMinutes(1)); // a lease at a time, with a sweep, wherever the last step left the instance
            await Kit.App.Services.GetRequiredService<WorkflowSweeper>().SweepOnceAsync(CancellationToken.None);
            return await payer.DocumentAsync(id);
        }, d => d.GetProperty("status").GetString() == "cancelled", TimeSpan.FromSeconds(60), "the window's end",
            describe: d => string.Join(" ; ", Azurite.Table(Kit.App.TablePrefix, "WorkflowDue").Query<Azure.Data.Tables.TableEntity>().Where(e => e.RowKey.Contains(id, StringComparison.Ordinal))
                .Select(e => e.PartitionKey + "/" + e.RowKey + " claimed " + e.GetDateTimeOffset("ClaimedUntil") + " for " + e.GetInt64("ForVersion")))
                + " || now " + Kit.App.Time.GetUtcNow().ToString("O") + " || " + JsonSerializer.Serialize(Kit.App.Services.GetRequiredService<WorkflowEngine>().GetAsync(BusinessApi.Documents.DocumentStore.Location(id)).GetAwaiter().GetResult()));
        Assert.True(done.GetProperty("statusHistory").EnumerateArray().Last().GetProperty("at").GetDateTimeOffset() >= done.GetProperty("signing").GetProperty("windowEndsAt").GetDateTimeOffset());
        Assert.Equal("signature_window_expired", done.GetProperty("reasonCode").GetString());
    }

    [Fact]
    public async Task PowersEndingWithin7Days_AreAnnouncedToTheAdmins_Once_UserPowersAndCardSigners()
    {
        var app = Kit.App;
        using var payer = await app.PayerAsync(fixture.Pki, functions: ["view", "create"]);
        var start = app.Time.GetUtcNow();
        using var director = await Kit.ColleagueAsync(payer, ["view", "sign"], validUntil: start.AddDays(8));
        using var accountant = await Kit.ColleagueAsync(payer, ["view", "sign"]);
        using var ops = app.OperatorClient();
        var put = await ops.PutAsJsonAsync($"/api/v1/ops/accounts/{payer.Iban}/signature-rule", new
        {
            rule = "first+second",
            signers = new object[] { new { userId = director.UserId, group = "first" }, new { userId = accountant.UserId, group = "second", validUntil = start.AddDays(12) } },
        });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var job = app.Services.GetServices<BusinessApi.Platform.Timers.IScheduledJob>().OfType<BusinessApi.Documents.SignerPowerExpiryJob>().Single();
        Task RunAsync() => job.RunAsync(new BusinessApi.Platform.Timers.ScheduledRun(app.Time.GetUtcNow(), false, null), default);

        await RunAsync(); // 8 and 12 days away: nothing yet
        Assert.Empty(await ExpiringAsync(payer));

        app.Time.Advance(TimeSpan.FromDays(2)); // the director's powers end in 6 days
        await payer.RenewSessionAsync();
        await RunAsync();
        await RunAsync(); // a rerun tells nothing twice
        var first = await ExpiringAsync(payer);
        Assert.Equal([director.UserId], first.Select(n => n.GetProperty("text").GetString()!.Contains(director.UserId, StringComparison.Ordinal) ? director.UserId : "?"));

        app.Time.Advance(TimeSpan.FromDays(4)); // the accountant's card power ends in 6 days
        await payer.RenewSessionAsync();
        await RunAsync();
        var both = await ExpiringAsync(payer);
        Assert.Equal(2, both.Count);
        Assert.Contains(both, n => n.GetProperty("text").GetString()!.Contains(accountant.UserId, StringComparison.Ordinal) && n.GetProperty("text").GetString()!.Contains(payer.Iban, StringComparison.Ordinal));
    }

    private static async Task<List<JsonElement>> ExpiringAsync(Payer payer) =>
        [.. (await payer.Software.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetProperty("items").EnumerateArray()
            .Where(n => n.GetProperty("kind").GetString() == "signer_power_expiring")];
}

/// <summary>Crashes between "signed enough" and "execution started", and a signature whose answer was lost, under the fault harness.</summary>
public sealed class DocumentSignatureCrashTests(PaymentAppFixture fixture) : IClassFixture<PaymentAppFixture>
{
    private DocumentSignaturesTests Kit { get; } = new(fixture);

    [Fact]
    public async Task Crash_AfterSignedEnough_BeforeExecution_LosesNothing_AndALostAnswerCountsOnce()
    {
        var app = Kit.App;
        using var payer = await app.PayerAsync(fixture.Pki, functions: ["view", "create"]);
        using var head = await Kit.ColleagueAsync(payer, ["view", "sign"]);
        using var accountant = await Kit.ColleagueAsync(payer, ["view", "sign"]);
        await Kit.CardAsync(payer.Iban, "first+second", (head.UserId, "first"), (accountant.UserId, "second"));
        var monitor = app.Services.GetRequiredService<StorageCallMonitor>();

        // The process "dies" as the step after the last signature reads the signatures to merge: the sheet is complete, nothing executed.
        var (id, content) = await DocumentSignaturesTests.DraftIdAsync(payer);
        Assert.Equal(HttpStatusCode.Accepted, (await DocumentSignaturesTests.SignAsync(head.Software, id, Kit.Detached(content, head))).StatusCode);
        var injected = 0;
        monitor.Plan = call => call.Method == "GET" && call.Uri.Contains("()", StringComparison.Ordinal) && call.Uri.Contains(id[4..], StringComparison.Ordinal)
            && Interlocked.CompareExchange(ref injected, 1, 0) == 0 ? StorageFault.Throw : StorageFault.None;
        try
        {
            Assert.Equal(HttpStatusCode.Accepted, (await DocumentSignaturesTests.SignAsync(accountant.Software, id, Kit.Detached(content, accountant))).StatusCode);
            await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref injected)), n => n == 1, TimeSpan.FromSeconds(10), "the crash injected");
        }
        finally
        {
            monitor.Plan = null;
        }

        Assert.Equal("awaitingSignatures", (await payer.DocumentAsync(id)).GetProperty("status").GetString());

        // Time passes (past the interrupted step's lease or retry): a sweep recovers the instance, wherever the fault left it.
        var done = await Eventually.GetAsync(async () =>
        {
            app.Time.Advance(TimeSpan.FromMinutes(1));
            await app.Services.GetRequiredService<WorkflowSweeper>().SweepOnceAsync(CancellationToken.None);
            return await payer.DocumentAsync(id);
        }, d => d.GetProperty("status").GetString() is "executed" or "refused", TimeSpan.FromSeconds(60), "recovered after the crash", describe: d => d.ToString());
        Assert.Equal("executed", done.GetProperty("status").GetString());
        var commission = decimal.Parse(done.GetProperty("paymentOrder").GetProperty("commission").GetString()!, CultureInfo.InvariantCulture);
        Assert.Equal(1_000_000m - 10m - commission, decimal.Parse((await app.AccountAsync(payer.Iban)).GetProperty("balance").GetString()!, CultureInfo.InvariantCulture));

        // The answer to the last signature's transaction is lost after it landed: the signer learns it counted, once, and so does a client retry.
        await payer.RenewSessionAsync();
        await Kit.RenewAsync(payer, head);
        await Kit.RenewAsync(payer, accountant);
        var (lost, lostContent) = await DocumentSignaturesTests.DraftIdAsync(payer);
        Assert.Equal(HttpStatusCode.Accepted, (await DocumentSignaturesTests.SignAsync(head.Software, lost, Kit.Detached(lostContent, head))).StatusCode);
        var dropped = 0;
        monitor.Plan = call => call.Method == "POST" && call.Uri.Contains("$batch", StringComparison.Ordinal)
            && Interlocked.CompareExchange(ref dropped, 1, 0) == 0 ? StorageFault.LoseResponse : StorageFault.None;
        var cms = Kit.Detached(lostContent, accountant);
        HttpResponseMessage first;
        try
        {
            first = await DocumentSignaturesTests.SignAsync(accountant.Software, lost, cms, key: "lost-" + lost);
        }
        finally
        {
            monitor.Plan = null;
        }

        Assert.Equal(1, dropped);
        // The storage client retried the transaction whose answer was lost; the retry met its own write as a conflict,
        // and the collector, reading again, found this very CMS counted: 202, not already_signed.
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var retry = await DocumentSignaturesTests.SignAsync(accountant.Software, lost, cms, key: "lost-" + lost);
        Assert.True(retry.StatusCode == HttpStatusCode.Accepted, $"first {first.StatusCode}, retry {retry.StatusCode}: {await retry.Content.ReadAsStringAsync()}");
        var ended = await payer.FinishedAsync(lost);
        Assert.Equal("executed", ended.GetProperty("status").GetString());
        Assert.Equal(2, ended.GetProperty("signatures").GetArrayLength());
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.Pkcs;
using System.Text.Json;
using BusinessApi.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Documents;

/// <summary>A signed instruction takes effect once: replays under new keys, in new envelopes, and re-signed copies of one number.</summary>
public sealed class ReplayTests : IClassFixture<PaymentAppFixture>
{
    private readonly PaymentAppFixture _fixture;

    public ReplayTests(PaymentAppFixture fixture) => _fixture = fixture;

    private TestApp App => _fixture.App;

    private TestPki Pki => _fixture.Pki;

    [Fact]
    public async Task SignedOrder_ReplayedUnderFiveNewKeysInParallel_MovesMoneyOnce()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        var cms = payer.SignOrder(payer.Order(100m));

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => payer.SubmitAsync(cms)));

        var accepted = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Accepted);
        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!;
        foreach (var duplicate in responses.Where(r => r != accepted))
        {
            Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
            var problem = await duplicate.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("duplicate_document", problem.GetProperty("code").GetString());
            Assert.Equal(id, problem.GetProperty("documentId").GetString());
        }

        Assert.Equal("executed", (await payer.FinishedAsync(id)).GetProperty("status").GetString());
        var late = await payer.SubmitAsync(cms); // after execution too: still the same instruction
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Equal("900.00", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task SameSignature_InANewEnvelope_IsTheSameInstruction()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        var cms = payer.SignOrder(payer.Order(100m));
        var id = await payer.SubmitSignedAsync(cms);

        // Re-wrapped: another certificate in the bag changes the bytes, not the signature.
        var envelope = new SignedCms();
        envelope.Decode(cms);
        envelope.AddCertificate(Pki.Root);
        var rewrapped = envelope.Encode();
        Assert.NotEqual(cms, rewrapped);

        var replay = await payer.SubmitAsync(rewrapped);
        Assert.Equal(HttpStatusCode.Conflict, replay.StatusCode);
        Assert.Equal(id, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString());
        await payer.FinishedAsync(id);
        Assert.Equal("900.00", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task ReSignedCopy_OfALiveNumber_IsRefusedDuplicateNumber_AndARefusedNumberMayBeUsedAgain()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        var order = payer.Order(100m);
        var first = await payer.SubmitSignedAsync(payer.SignOrder(order));
        await Eventually.GetAsync(() => payer.DocumentAsync(first), d => d.GetProperty("status").GetString() != "received"); // it holds the number
        var copy = await payer.SubmitSignedAsync(SignAgain(payer, order, 1)); // a fresh signature over the same order: new bytes

        var refused = await payer.FinishedAsync(copy);
        Assert.Equal(("refused", "invalid_document", "duplicate_number"),
            (refused.GetProperty("status").GetString(), refused.GetProperty("reasonCode").GetString(), refused.GetProperty("failure").GetString()));
        var error = Assert.Single(refused.GetProperty("errors").EnumerateArray());
        Assert.Equal(("number", "duplicate_number"), (error.GetProperty("field").GetString(), error.GetProperty("code").GetString()));
        Assert.Contains(first, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("executed", (await payer.FinishedAsync(first)).GetProperty("status").GetString());

        // A number whose order was refused (here for want of funds) is free again.
        var tooMuch = payer.Order(5_000m);
        var poor = await payer.FinishedAsync(await payer.SubmitSignedAsync(payer.SignOrder(tooMuch)));
        Assert.Equal("insufficient_funds", poor.GetProperty("reasonCode").GetString());
        tooMuch["amount"] = "50.00";
        Assert.Equal("executed", (await payer.FinishedAsync(await payer.SubmitSignedAsync(SignAgain(payer, tooMuch, 1)))).GetProperty("status").GetString());

        // Another date is another order.
        order["date"] = DateOnly.ParseExact(order["date"]!.GetValue<string>(), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture).AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("executed", (await payer.FinishedAsync(await payer.SubmitSignedAsync(payer.SignOrder(order)))).GetProperty("status").GetString());
        Assert.Equal("750.00", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task ANumberClaimedAtIntake_ByAnOrderRefusedAtVerification_IsFreeForTheNextOrder()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        using var stranger = await App.PayerAsync(Pki);
        var order = payer.Order(100m);

        // Signed by someone else's certificate: taken in (the number it states claimed in intake's transaction), then refused.
        var forgedId = await payer.SubmitSignedAsync(payer.SignOrder(order, stranger.Certificate));
        var forged = await payer.FinishedAsync(forgedId);
        Assert.Equal(("refused", "authentication_failed"), (forged.GetProperty("status").GetString(), forged.GetProperty("reasonCode").GetString()));
        var stored = await App.Services.GetRequiredService<DocumentStore>().GetAsync(forgedId, default);
        Assert.Equal(DocumentStore.NumberRow(payer.Iban, DateOnly.Parse(order["date"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture), order["number"]!.GetValue<string>()),
            stored!.NumberClaim);

        // The payer's own signature over the same order: its intake finds the number held, takes it in without the claim,
        // and the verified order takes the number over from the refused one.
        var good = await payer.FinishedAsync(await payer.SubmitSignedAsync(payer.SignOrder(order)));
        Assert.Equal("executed", good.GetProperty("status").GetString());
        Assert.Equal("900.00", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());

        // Content that states no usable number claims nothing at intake, and is refused by the rules of form as before.
        order["number"] = "not a number!";
        var bad = await payer.FinishedAsync(await payer.SubmitSignedAsync(payer.SignOrder(order)));
        Assert.Equal(("refused", "number_invalid"), (bad.GetProperty("status").GetString(), bad.GetProperty("failure").GetString()));
    }

    [Fact]
    public async Task CopiesOfOneNumber_InParallel_ExecuteOnce()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        var order = payer.Order(100m);
        var ids = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => payer.SubmitSignedAsync(SignAgain(payer, order, i))));
        var ends = await Task.WhenAll(ids.Select(payer.FinishedAsync));
        Assert.Single(ends, d => d.GetProperty("status").GetString() == "executed");
        Assert.All(ends.Where(d => d.GetProperty("status").GetString() != "executed"), d => Assert.Equal("duplicate_number", d.GetProperty("failure").GetString()));
        Assert.Equal("900.00", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    [Fact]
    public async Task IdempotencyKeys_AreScopedPerCaller()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        var (login, userId) = await App.CreateUserAsync(payer.CustomerId, functions: ["view", "create", "sign"], iin: Accounts.BankData.NewIin());
        using var colleague = App.BearerClient(await App.SignInAsync(login, CustomerKit.AdminPassword, await App.TokenAsync(payer.ClientId, payer.Secret)));

        var key = Guid.NewGuid().ToString();
        var mine = await payer.SubmitAsync(payer.SignOrder(payer.Order(10m)), key);
        var theirs = await payer.SubmitAsync(payer.SignOrder(payer.Order(20m)), key, colleague);

        Assert.Equal(HttpStatusCode.Accepted, mine.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, theirs.StatusCode); // not idempotency_key_mismatch: another caller's key is another key
        var ids = await Task.WhenAll(new[] { mine, theirs }.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()));
        Assert.NotEqual(ids[0], ids[1]);
        Assert.Equal(userId, (await payer.DocumentAsync(ids[1]!)).GetProperty("userId").GetString());
    }

    [Fact]
    public async Task CompleteOrder_NamingItsPayer_IsExecuted_AndTheStatementsShowWhatWasSigned()
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        using var beneficiary = await App.PayerAsync(Pki, funds: 0m);
        var order = payer.Order(100m, beneficiary.Iban, o =>
        {
            o["payer"]!["name"] = "ТОО Плательщик";
            o["payer"]!["idn"] = payer.Bin;
            o["payer"]!["bic"] = "TSESKZKA";
            o["kbk"] = "105402";
            o["beneficiary"]!["idn"] = beneficiary.Bin;
        });
        var document = await payer.FinishedAsync(await payer.SubmitSignedAsync(payer.SignOrder(order)));
        Assert.Equal("executed", document.GetProperty("status").GetString());
        var summary = document.GetProperty("paymentOrder");
        Assert.Equal(("ТОО Плательщик", payer.Bin, "105402"),
            (summary.GetProperty("payerName").GetString(), summary.GetProperty("payerIdn").GetString(), summary.GetProperty("kbk").GetString()));

        var today = order["date"]!.GetValue<string>();
        var statement = await beneficiary.Software.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{beneficiary.Iban}/statement?from={today}&to={today}");
        var credit = Assert.Single(statement.GetProperty("entries").EnumerateArray());
        var text = credit.ToString();
        Assert.Contains("ТОО Плательщик", text, StringComparison.Ordinal);
        Assert.Contains(payer.Bin, text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("payer.idn", "other-bin", "payer_idn_mismatch")]
    [InlineData("payer.idn", "12345", "idn_invalid")]
    [InlineData("payer.bic", "HSBKKZKX", "payer_bic_mismatch")]
    [InlineData("payer.bic", "nonsense", "bic_invalid")]
    [InlineData("payer.name", "long", "name_too_long")]
    [InlineData("kbk", "10540", "kbk_invalid")]
    [InlineData("payer.extra", "x", "unknown_field")]
    public async Task CompleteOrder_WithAWrongPayerField_IsRefused_AndNothingMoves(string field, string value, string code)
    {
        using var payer = await App.PayerAsync(Pki, funds: 1_000m);
        var order = payer.Order(100m, edit: o =>
        {
            var text = value switch
            {
                "other-bin" => Accounts.BankData.NewBin(),
                "long" => new string('А', 101),
                _ => value,
            };
            if (field.StartsWith("payer.", StringComparison.Ordinal))
            {
                o["payer"]![field["payer.".Length..]] = text;
            }
            else
            {
                o[field] = text;
            }
        });
        var document = await payer.FinishedAsync(await payer.SubmitSignedAsync(payer.SignOrder(order)));
        Assert.Equal(("refused", "invalid_document"), (document.GetProperty("status").GetString(), document.GetProperty("reasonCode").GetString()));
        var error = Assert.Single(document.GetProperty("errors").EnumerateArray());
        Assert.Equal((field, code), (error.GetProperty("field").GetString(), error.GetProperty("code").GetString()));
        Assert.Equal("1000.00", (await App.AccountAsync(payer.Iban)).GetProperty("balance").GetString());
    }

    /// <summary>A new signature over the same order: another signing time, so other signed bytes (RSA PKCS#1 v1.5 is deterministic).</summary>
    private static byte[] SignAgain(Payer payer, System.Text.Json.Nodes.JsonObject order, int secondsEarlier) =>
        TestPki.Sign(order.ToJsonString(), payer.App.Time.GetUtcNow().AddSeconds(-secondsEarlier), payer.Certificate);
}

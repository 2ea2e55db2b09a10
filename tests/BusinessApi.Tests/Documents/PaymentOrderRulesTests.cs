using System.Text;
using System.Text.Json.Nodes;
using BusinessApi.Accounts;
using BusinessApi.Documents;
using BusinessApi.Tests.Accounts;

namespace BusinessApi.Tests.Documents;

/// <summary>The rules of form for payment orders, each at its edge, and the commission arithmetic .</summary>
public sealed class PaymentOrderRulesTests
{
    private static readonly DateOnly Today = new(2026, 11, 25);
    private static readonly string PayerIban = BankData.NewIban().Value;
    private static readonly PurposeCodes Codes = PurposeCodes.Load(null);

    private static readonly string OwnerBin = BankData.NewBin();

    private static readonly PaymentOrderContext Context = new(Today, Today, "998", "TSESKZKA",
        new Dictionary<string, Currency> { [PayerIban] = Currency.KZT }, Codes, 10)
    {
        PayerIdn = OwnerBin,
    };

    private static JsonObject Order(Action<JsonObject>? edit = null)
    {
        var order = new JsonObject
        {
            ["type"] = "paymentOrder",
            ["number"] = "17",
            ["date"] = "2026-11-25",
            ["amount"] = "150000.00",
            ["currency"] = "KZT",
            ["payer"] = new JsonObject { ["iban"] = PayerIban, ["code"] = "17" },
            ["beneficiary"] = new JsonObject { ["name"] = "ТОО Получатель", ["idn"] = BankData.NewBin(), ["iban"] = BankData.NewIban("601").Value, ["bic"] = "HSBKKZKX", ["code"] = "19" },
            ["purposeCode"] = "710",
            ["purpose"] = "Оплата за товары",
            ["valueDate"] = "2026-11-25",
        };
        edit?.Invoke(order);
        return order;
    }

    private static IReadOnlyList<(string Field, string Code)> Errors(JsonObject order) =>
        [.. PaymentOrderRules.Validate(Encoding.UTF8.GetBytes(order.ToJsonString()), Context).Errors.Select(e => (e.Field, e.Code))];

    private static void Broken(string field, string code, Action<JsonObject> edit) => Assert.Contains((field, code), Errors(Order(edit)));

    private static void Fine(Action<JsonObject> edit) => Assert.Empty(Errors(Order(edit)));

    /// <summary>Currency control at its thresholds: the contract from the first tenge to a non-resident, the registration number from USD 50,000 for goods and services.</summary>
    [Fact]
    public void PaymentsToNonResidents_NameTheirContract_AndFromUsd50000TheRegistrationNumber()
    {
        var usdIban = BankData.NewIban().Value;
        var context = Context with
        {
            CustomerAccounts = new Dictionary<string, Currency> { [PayerIban] = Currency.KZT, [usdIban] = Currency.USD },
            UsdEquivalent = (amount, currency) => currency == Currency.KZT ? amount / 500m : null,
        };
        IReadOnlyList<(string, string)> Check(Action<JsonObject> edit) =>
            [.. PaymentOrderRules.Validate(Encoding.UTF8.GetBytes(Order(edit).ToJsonString()), context).Errors.Select(e => (e.Field, e.Code))];
        var contract = new JsonObject { ["contractNumber"] = "K-1", ["contractDate"] = "2026-01-15" };

        // A resident in tenge: nothing asked. A non-resident (КБе 2x): the contract, and for 25,000,000 KZT (USD 50,000) its registration number.
        Assert.Empty(Check(_ => { }));
        Assert.Equal([("currencyControl.contractNumber", "currency_control_required"), ("currencyControl.contractDate", "currency_control_required")],
            Check(o => (o["beneficiary"]!["code"], o["amount"]) = ("27", "24999999.99")));
        Assert.Empty(Check(o => (o["beneficiary"]!["code"], o["amount"], o["currencyControl"]) = ("27", "24999999.99", contract.DeepClone())));
        Assert.Equal([("currencyControl.registrationNumber", "registration_number_required")],
            Check(o => (o["beneficiary"]!["code"], o["amount"], o["currencyControl"]) = ("27", "25000000.00", contract.DeepClone())));
        Assert.Empty(Check(o => (o["beneficiary"]!["code"], o["amount"], o["purposeCode"], o["currencyControl"]) = ("27", "25000000.00", "341", contract.DeepClone())));

        // No rates for a currency: its USD equivalent is unknown, so the stricter rule applies (never a guess).
        Assert.Contains(("currencyControl.registrationNumber", "registration_number_required"), Check(o =>
        {
            (o["currency"], o["payer"]!["iban"], o["amount"], o["currencyControl"]) = ("EUR", usdIban, "10.00", contract.DeepClone());
            o["beneficiary"] = new JsonObject { ["name"] = "Acme Inc", ["iban"] = "021000021", ["bic"] = "CHASUS33", ["country"] = "US", ["code"] = "27" };
        }));

        // A contract dated after the order, an account abroad: a US account number passes, an IBAN with wrong check digits does not.
        Assert.Contains(("currencyControl.contractDate", "contract_date_after_order"),
            Check(o => o["currencyControl"] = new JsonObject { ["contractNumber"] = "K-1", ["contractDate"] = "2026-12-01" }));
        Assert.True(PaymentOrderRules.IsForeignAccount("021000021"));
        Assert.True(PaymentOrderRules.IsForeignAccount("DE89370400440532013000"));
        Assert.False(PaymentOrderRules.IsForeignAccount("DE89370400440532013001"));
        Assert.False(PaymentOrderRules.IsForeignAccount("de89 3704"));
    }

    [Fact]
    public void WellFormedOrder_Passes_AndIsReadExactly()
    {
        var (order, errors) = PaymentOrderRules.Validate(Encoding.UTF8.GetBytes(Order().ToJsonString()), Context);
        Assert.Empty(errors);
        Assert.Equal(150_000.00m, order!.Amount);
        Assert.Equal(Currency.KZT, order.Currency);
        Assert.Equal("HSBKKZKX", order.Beneficiary.Bic);
    }

    [Fact]
    public void Date_IsNotInTheFuture_NorOlderThanTenDays()
    {
        Fine(o => o["date"] = "2026-11-15"); // 10 days
        Broken("date", "date_stale", o => o["date"] = "2026-11-14");
        Broken("date", "date_in_future", o => o["date"] = "2026-11-26");
        Broken("date", "date_invalid", o => o["date"] = "25.11.2026");
    }

    [Fact]
    public void Amount_IsPositive_InTheCurrencysMinorUnits()
    {
        Fine(o => o["amount"] = "0.01");
        Broken("amount", "amount_not_positive", o => o["amount"] = "0.00");
        Broken("amount", "amount_scale", o => o["amount"] = "0.001");
        Broken("amount", "amount_invalid", o => o["amount"] = "-5");
        Broken("amount", "amount_invalid", o => o["amount"] = "1e5");
        Broken("amount", "type_invalid", o => o["amount"] = 150000);
        Fine(o => o["amount"] = "999999999999999.99");
        Broken("amount", "amount_invalid", o => o["amount"] = "1000000000000000.00");
    }

    [Fact]
    public void Currency_IsKnown_AndThePayerAccounts()
    {
        Broken("currency", "currency_unknown", o => o["currency"] = "KZ");
        Broken("currency", "currency_mismatch", o => o["currency"] = "USD");
        Broken("payer.iban", "payer_account_unknown", o => o["payer"]!["iban"] = BankData.NewIban().Value);
        Broken("payer.iban", "iban_invalid", o => o["payer"]!["iban"] = "KZ00998" + new string('0', 13));
    }

    [Fact]
    public void Beneficiary_HasName_ValidIdn_Iban_AndMatchingBic()
    {
        Broken("beneficiary.name", "required", o => o["beneficiary"]!["name"] = " ");
        Fine(o => o["beneficiary"]!["name"] = new string('А', 100));
        Broken("beneficiary.name", "name_too_long", o => o["beneficiary"]!["name"] = new string('А', 101));
        Broken("beneficiary.idn", "idn_invalid", o => o["beneficiary"]!["idn"] = "123456789012");
        Broken("beneficiary.iban", "iban_invalid", o => o["beneficiary"]!["iban"] = "DE89370400440532013000");
        Broken("beneficiary.iban", "same_account", o => o["beneficiary"]!["iban"] = PayerIban);
        Broken("beneficiary.bic", "bic_invalid", o => o["beneficiary"]!["bic"] = "HSBKRUMM");
        Broken("beneficiary.bic", "bic_mismatch", o => o["beneficiary"]!["bic"] = "TSESKZKA"); // our BIC, another bank's IBAN
        Broken("beneficiary.bic", "bic_mismatch", o =>
        {
            o["beneficiary"]!["iban"] = BankData.NewIban().Value; // ours, with another bank's BIC
            o["beneficiary"]!["bic"] = "HSBKKZKX";
        });
        Fine(o => o["beneficiary"]!["bic"] = "HSBKKZKXXXX");
    }

    [Theory]
    [InlineData("11", true)]
    [InlineData("19", true)]
    [InlineData("21", true)]
    [InlineData("29", true)]
    [InlineData("10", false)]
    [InlineData("31", false)]
    [InlineData("1", false)]
    [InlineData("171", false)]
    [InlineData("1A", false)]
    public void EconomicCodes_AreResidenceAndSector(string code, bool valid)
    {
        Assert.Equal(valid, PaymentOrderRules.IsEconomicCode(code));
        if (!valid)
        {
            Broken("payer.code", "economic_code_invalid", o => o["payer"]!["code"] = code);
            Broken("beneficiary.code", "economic_code_invalid", o => o["beneficiary"]!["code"] = code);
        }
    }

    [Fact]
    public void PurposeCode_ComesFromTheNationalBanksList_AndTextIsBounded()
    {
        Assert.True(Codes.Count > 20);
        Broken("purposeCode", "purpose_code_unknown", o => o["purposeCode"] = "999");
        Fine(o => o["purposeCode"] = "911");
        Fine(o => o["purpose"] = new string('x', 420));
        Broken("purpose", "purpose_too_long", o => o["purpose"] = new string('x', 421));
        Broken("purpose", "required", o => o.Remove("purpose"));
    }

    [Fact]
    public void ValueDate_IsBetweenTheDateAndTheOperationalDay()
    {
        Broken("valueDate", "value_date_before_date", o => o["valueDate"] = "2026-11-24");
        Broken("valueDate", "value_date_future", o => o["valueDate"] = "2026-11-26");
    }

    [Fact]
    public void Structure_IsStrict()
    {
        Broken("number", "number_invalid", o => o["number"] = "1234567890");
        Fine(o => o["number"] = "A12345678");
        Broken("type", "unsupported_document_type", o => o["type"] = "letter");
        Broken("surprise", "unknown_field", o => o["surprise"] = 1);
        Broken("payer.address", "unknown_field", o => o["payer"]!["address"] = "x");
        Broken("beneficiary", "type_invalid", o => o["beneficiary"] = "x");
        Broken("payer", "required", o => o.Remove("payer"));
        Assert.Equal([("document", "content_malformed")], PaymentOrderRules.Validate("""{"amount":"1","amount":"2"}"""u8.ToArray(), Context).Errors.Select(e => (e.Field, e.Code)));
        Assert.Equal([("document", "content_malformed")], PaymentOrderRules.Validate("[1]"u8.ToArray(), Context).Errors.Select(e => (e.Field, e.Code)));
        Assert.Equal(10, Errors(new JsonObject()).Count); // every top-level field is required
    }

    [Fact]
    public void Payer_MayBeNamedInFull_AsSigned_WhenItsIdnAndBicAreTheOwnersAndTheBanks()
    {
        var (order, errors) = PaymentOrderRules.Validate(Encoding.UTF8.GetBytes(Order(o =>
        {
            o["payer"]!["name"] = "ТОО Плательщик";
            o["payer"]!["idn"] = OwnerBin;
            o["payer"]!["bic"] = "TSESKZKA";
            o["kbk"] = "105402";
        }).ToJsonString()), Context);
        Assert.Empty(errors);
        Assert.Equal(("ТОО Плательщик", OwnerBin, "TSESKZKA", "105402"), (order!.Payer.Name, order.Payer.Idn, order.Payer.Bic, order.Kbk));

        Broken("payer.idn", "payer_idn_mismatch", o => o["payer"]!["idn"] = "061211600012");
        Broken("payer.idn", "idn_invalid", o => o["payer"]!["idn"] = OwnerBin[..11] + (char)('0' + ((OwnerBin[11] - '0' + 1) % 10)));
        Broken("payer.bic", "payer_bic_mismatch", o => o["payer"]!["bic"] = "HSBKKZKX");
        Broken("payer.bic", "bic_invalid", o => o["payer"]!["bic"] = "tseskzka");
        Fine(o => o["payer"]!["name"] = new string('А', 100));
        Broken("payer.name", "name_too_long", o => o["payer"]!["name"] = new string('А', 101));
        Broken("kbk", "kbk_invalid", o => o["kbk"] = "10540");
        Broken("kbk", "kbk_invalid", o => o["kbk"] = "10540A");
        Broken("kbk", "kbk_invalid", o => o["kbk"] = "1054021");
        Broken("kbk", "type_invalid", o => o["kbk"] = 105402);
    }

    [Theory]
    [InlineData("100", "0", null, null, "1000.00", "100.00")]
    [InlineData("0", "0.1", null, null, "150000.00", "150.00")]
    [InlineData("0", "0.1", null, null, "0.05", "0.00")] // 0.00005 rounds to 0
    [InlineData("0", "0.1", null, null, "5.00", "0.01")] // 0.005 → half away from zero
    [InlineData("200", "0.1", "300", null, "1000.00", "300.00")]
    [InlineData("200", "0.1", null, "5000", "100000000.00", "5000.00")]
    [InlineData("0", "0.0125", null, null, "12345.67", "1.54")]
    public void Commission_IsFixedPlusPercent_WithinMinAndMax_RoundedToTheTiyn(string fixedPart, string percent, string? min, string? max, string amount, string expected)
    {
        var tariff = new Tariff(PaymentOrder.Type, "KZT", PaymentRoutes.Interbank, decimal.Parse(fixedPart, System.Globalization.CultureInfo.InvariantCulture), decimal.Parse(percent, System.Globalization.CultureInfo.InvariantCulture))
        {
            Min = min is null ? null : decimal.Parse(min, System.Globalization.CultureInfo.InvariantCulture),
            Max = max is null ? null : decimal.Parse(max, System.Globalization.CultureInfo.InvariantCulture),
        };
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            Commissions.Compute(tariff, decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture), Currency.KZT));
        Assert.Equal(0m, Commissions.Compute(null, 100m, Currency.KZT));
    }

    [Fact]
    public void AmlRule_MatchesByCurrencyAmountPurposeAndRoute()
    {
        var rule = new AmlRule { Name = "cash-like", Currency = "KZT", MinAmount = 1_000_000m, PurposeCodes = ["890"], Route = PaymentRoutes.Interbank };
        var summary = new DocumentSummary("1", Today, 1_000_000m, "KZT", PayerIban, "X", "123", "KZ", "BIC", "890", "p", Today, PaymentRoutes.Interbank);
        Assert.True(rule.Matches(summary));
        Assert.False(rule.Matches(summary with { Amount = 999_999.99m }));
        Assert.False(rule.Matches(summary with { PurposeCode = "710" }));
        Assert.False(rule.Matches(summary with { Currency = "USD" }));
        Assert.False(rule.Matches(summary with { Route = PaymentRoutes.Internal }));
        Assert.True(new AmlRule { MinAmount = 0 }.Matches(summary));
    }
}

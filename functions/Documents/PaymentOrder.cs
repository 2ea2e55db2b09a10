using System.Globalization;
using System.Text.Json;
using BusinessApi.Accounts;
using BusinessApi.Customers;
using BusinessApi.Platform.Http;

namespace BusinessApi.Documents;

public sealed record PaymentParty(string? Name, string? Idn, string? Iban, string? Bic, string? Code)
{
    /// <summary>The beneficiary's country (ISO 3166 alpha-2), required for a bank abroad.</summary>
    public string? Country { get; init; }
}

/// <summary>
/// Currency-control details of a payment to a non-resident (Law on currency regulation and currency control; the
/// National Bank's rules of export-import currency control, resolution No. 42 of 30 March 2019): the contract the
/// payment is made under, and the contract's registration number (учётный номер контракта) the serving bank assigned.
/// </summary>
public sealed record CurrencyControl(string? ContractNumber, DateOnly? ContractDate, string? RegistrationNumber);

/// <summary>What every signed order has, whatever its type: the account it debits (whose powers and card decide who signs) and its number.</summary>
public interface ISignedOrder
{
    string Type { get; }

    string Number { get; }

    /// <summary>The order's date, as signed.</summary>
    DateOnly IssuedOn { get; }

    /// <summary>The customer's account the order debits.</summary>
    string DebitIban { get; }

    /// <summary>Where the order's number must be unique with its date: one number per account and date, per kind of order.</summary>
    string NumberScope { get; }
}

/// <summary>A payment order as signed: what is executed is exactly this, read from the signed bytes.</summary>
public sealed record PaymentOrder(
    string Number,
    DateOnly Date,
    decimal Amount,
    Currency Currency,
    PaymentParty Payer,
    PaymentParty Beneficiary,
    string PurposeCode,
    string Purpose,
    DateOnly ValueDate) : ISignedOrder
{
    public const string Type = "paymentOrder";

    string ISignedOrder.Type => Type;

    DateOnly ISignedOrder.IssuedOn => Date;

    public string DebitIban => Payer.Iban!;

    public string NumberScope => ScopeOf(Payer.Iban!);

    /// <summary>A payment order's number is unique per payer account and date among payment orders.</summary>
    public static string ScopeOf(string payerIban) => payerIban;

    /// <summary>The budget classification code (КБК, 6 digits) of a payment to the budget; null otherwise.</summary>
    public string? Kbk { get; init; }

    public CurrencyControl? CurrencyControl { get; init; }

    public Iban PayerIban => Iban.Parse(Payer.Iban!);

    /// <summary>The beneficiary's bank is abroad (its BIC's country is not KZ): a foreign-currency payment sent through correspondent banks.</summary>
    public bool IsAbroad => PaymentOrderRules.IsAbroad(Beneficiary.Bic);

    /// <summary>The beneficiary's account in Kazakhstan (not for a bank abroad).</summary>
    public Iban BeneficiaryIban => Iban.Parse(Beneficiary.Iban!);

    /// <summary>The beneficiary holds an account at this bank.</summary>
    public bool IsInternal(string bankCode) => !IsAbroad && BeneficiaryIban.BankCode == bankCode;
}

/// <summary>What validation needs to know beyond the document: today, the bank, the customer's accounts and the classifiers.</summary>
public sealed record PaymentOrderContext(
    DateOnly ReceiptDate,
    DateOnly OperationalDay,
    string BankCode,
    string BankBic,
    IReadOnlyDictionary<string, Currency> CustomerAccounts,
    PurposeCodes PurposeCodes,
    int MaxAgeDays)
{
    /// <summary>The IIN/BIN of the payer account's owner: a <c>payer.idn</c> on the order must be this.</summary>
    public string? PayerIdn { get; init; }

    /// <summary>The account owner's name, for the orders that name the customer on both sides (a conversion).</summary>
    public string? OwnerName { get; init; }

    /// <summary>A sandbox: IDNs failing the control digit (NCA RK's test identifiers) pass.</summary>
    public bool AcceptTestIdentifiers { get; init; }

    public bool IsIdentifier(string idn) => TaxIdentifierCheck.IsValid(idn) || AcceptTestIdentifiers && TaxIdentifierCheck.IsTestIdentifier(idn);

    /// <summary>The USD equivalent of an amount at the bank's rates of the receipt date; null without rates (then the stricter rule applies).</summary>
    public Func<decimal, Currency, decimal?>? UsdEquivalent { get; init; }

    /// <summary>From this USD equivalent up, a payment to a non-resident names its contract (number and date).</summary>
    public decimal ContractFromUsd { get; init; }

    /// <summary>From this USD equivalent up, an export or import payment to a non-resident names the contract's registration number.</summary>
    public decimal RegistrationFromUsd { get; init; } = 50_000m;
}

/// <summary>
/// The rules of form for a payment order (R-31, clause 3.3; refusal under 5.2.8 b). Pure: every broken
/// rule is reported at once with its field and code.
/// </summary>
public static class PaymentOrderRules
{
    public const int MaxNumberLength = 9;
    public const int MaxNameLength = 100;
    public const int MaxPurposeLength = 420;
    public const decimal MaxAmount = 999_999_999_999_999.99m;

    private static readonly HashSet<string> TopLevel = new(StringComparer.Ordinal)
    {
        "type", "number", "date", "amount", "currency", "payer", "beneficiary", "purposeCode", "purpose", "valueDate", "kbk", "currencyControl",
    };

    private static readonly HashSet<string> CurrencyControlFields = new(StringComparer.Ordinal) { "contractNumber", "contractDate", "registrationNumber" };

    /// <summary>Longest contract or registration number accepted.</summary>
    public const int MaxContractNumberLength = 50;

    // a complete order names its payer (name, IIN/BIN, the bank's BIC) as 1C and every ERP export it.
    private static readonly HashSet<string> PayerFields = new(StringComparer.Ordinal) { "name", "idn", "iban", "bic", "code" };
    private static readonly HashSet<string> BeneficiaryFields = new(StringComparer.Ordinal) { "name", "idn", "iban", "bic", "code", "country" };

    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 8 };

    /// <summary>Reads and checks the signed content; the order when every rule holds, else the broken rules.</summary>
    public static (PaymentOrder? Order, IReadOnlyList<FieldError> Errors) Validate(ReadOnlyMemory<byte> content, PaymentOrderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var errors = new ValidationErrors();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, Strict);
        }
        catch (JsonException)
        {
            return (null, [new FieldError("document", "content_malformed")]);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, [new FieldError("document", "content_malformed")]);
            }

            Unknown(root, TopLevel, "", errors);
            if (Text(root, "type", errors) is { } type && type != PaymentOrder.Type)
            {
                errors.Add("type", "unsupported_document_type", PaymentOrder.Type + ", " + ConversionOrder.Type);
            }

            var (number, date) = NumberAndDate(root, context, errors);

            var currencyText = Text(root, "currency", errors);
            Currency? currency = null;
            if (currencyText is not null)
            {
                if (Currencies.TryParse(currencyText, out var parsed))
                {
                    currency = parsed;
                }
                else
                {
                    errors.Add("currency", "currency_unknown");
                }
            }

            var amount = Amount(root, currency, errors);
            var payer = Party(root, "payer", PayerFields, errors);
            var beneficiary = Party(root, "beneficiary", BeneficiaryFields, errors);
            Iban? payerIban = null;
            if (payer is not null)
            {
                payerIban = CheckIban(payer.Iban, "payer.iban", errors);
                if (payerIban is { } p)
                {
                    if (!context.CustomerAccounts.TryGetValue(p.Value, out var accountCurrency))
                    {
                        errors.Add("payer.iban", "payer_account_unknown");
                    }
                    else if (currency is { } c && c != accountCurrency)
                    {
                        errors.Add("currency", "currency_mismatch", accountCurrency.ToString());
                    }
                }

                CheckEconomicCode(payer.Code, "payer.code", errors);
                if (payer.Name is { Length: > MaxNameLength })
                {
                    errors.Add("payer.name", "name_too_long", MaxNameLength);
                }

                if (payer.Idn is { } idn)
                {
                    if (!context.IsIdentifier(idn))
                    {
                        errors.Add("payer.idn", "idn_invalid");
                    }
                    else if (!string.Equals(idn, context.PayerIdn, StringComparison.Ordinal))
                    {
                        errors.Add("payer.idn", "payer_idn_mismatch");
                    }
                }

                if (payer.Bic is { } payerBic && !string.Equals(payerBic, context.BankBic, StringComparison.Ordinal))
                {
                    errors.Add("payer.bic", IsBic(payerBic) ? "payer_bic_mismatch" : "bic_invalid");
                }
            }

            // A bank abroad takes foreign currency only: a tenge order naming one is judged as a domestic order (a BIC not of Kazakhstan).
            var abroad = beneficiary is not null && currency is { } orderCurrency && orderCurrency != Currency.KZT && IsAbroad(beneficiary.Bic);
            if (beneficiary is not null && abroad)
            {
                // A bank abroad (a foreign-currency payment): its own account numbers, no Kazakh BIN, and its country.
                if (errors.Required("beneficiary.name", beneficiary.Name) && beneficiary.Name!.Length > MaxNameLength)
                {
                    errors.Add("beneficiary.name", "name_too_long", MaxNameLength);
                }

                if (errors.Required("beneficiary.iban", beneficiary.Iban) && !IsForeignAccount(beneficiary.Iban!))
                {
                    errors.Add("beneficiary.iban", "account_invalid");
                }

                if (beneficiary.Idn is { Length: > 35 })
                {
                    errors.Add("beneficiary.idn", "idn_invalid");
                }

                if (errors.Required("beneficiary.country", beneficiary.Country)
                    && !(beneficiary.Country!.Length == 2 && beneficiary.Country.All(char.IsAsciiLetterUpper) && beneficiary.Country != "KZ"))
                {
                    errors.Add("beneficiary.country", "country_invalid");
                }

                CheckEconomicCode(beneficiary.Code, "beneficiary.code", errors);
            }
            else if (beneficiary is not null)
            {
                if (errors.Required("beneficiary.name", beneficiary.Name) && beneficiary.Name!.Length > MaxNameLength)
                {
                    errors.Add("beneficiary.name", "name_too_long", MaxNameLength);
                }

                if (errors.Required("beneficiary.idn", beneficiary.Idn) && !context.IsIdentifier(beneficiary.Idn!))
                {
                    errors.Add("beneficiary.idn", "idn_invalid");
                }

                var beneficiaryIban = CheckIban(beneficiary.Iban, "beneficiary.iban", errors);
                if (beneficiaryIban is { } b && payerIban is { } p && b == p)
                {
                    errors.Add("beneficiary.iban", "same_account");
                }

                if (errors.Required("beneficiary.bic", beneficiary.Bic))
                {
                    if (!IsBic(beneficiary.Bic!))
                    {
                        errors.Add("beneficiary.bic", "bic_invalid");
                    }
                    else if (beneficiaryIban is { } iban && (iban.BankCode == context.BankCode) != string.Equals(beneficiary.Bic, context.BankBic, StringComparison.Ordinal))
                    {
                        errors.Add("beneficiary.bic", "bic_mismatch");
                    }
                }

                CheckEconomicCode(beneficiary.Code, "beneficiary.code", errors);
            }

            var purposeCode = Text(root, "purposeCode", errors);
            if (purposeCode is not null && !context.PurposeCodes.Contains(purposeCode))
            {
                errors.Add("purposeCode", "purpose_code_unknown");
            }

            var purpose = Text(root, "purpose", errors);
            if (purpose is not null && purpose.Length > MaxPurposeLength)
            {
                errors.Add("purpose", "purpose_too_long", MaxPurposeLength);
            }

            var kbk = Text(root, "kbk", errors, required: false);
            if (kbk is not null && !(kbk.Length == 6 && kbk.All(char.IsAsciiDigit)))
            {
                errors.Add("kbk", "kbk_invalid");
            }

            var control = CheckCurrencyControl(root, beneficiary, abroad, amount, currency, purposeCode, date, context, errors);
            var valueDate = Date(root, "valueDate", errors);
            if (valueDate is { } v)
            {
                if (date is { } issued && v < issued)
                {
                    errors.Add("valueDate", "value_date_before_date");
                }
                else if (v > context.OperationalDay)
                {
                    errors.Add("valueDate", "value_date_future");
                }
            }

            if (errors.Count > 0)
            {
                return (null, [.. errors]);
            }

            return (new PaymentOrder(number!, date!.Value, amount!.Value, currency!.Value, payer!, beneficiary!, purposeCode!, purpose!, valueDate!.Value)
            {
                Kbk = kbk,
                CurrencyControl = control,
            }, []);
        }
    }

    /// <summary>A SWIFT BIC of any country: 4 letters (bank), 2 letters (country), 2 letters or digits (place), optionally 3 more (branch).</summary>
    public static bool IsSwiftBic(string? bic) =>
        bic is { Length: 8 or 11 } && bic[..6].All(char.IsAsciiLetterUpper) && bic[6..].All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c));

    /// <summary>A BIC of a bank outside Kazakhstan.</summary>
    public static bool IsAbroad(string? bic) => IsSwiftBic(bic) && bic![4..6] != "KZ";

    /// <summary>
    /// An account at a bank abroad: an IBAN (two letters, two check digits, up to 30 more; it must pass mod 97), or, where
    /// the country has no IBAN (the US, China…), its account number of 1 to 34 letters and digits.
    /// </summary>
    public static bool IsForeignAccount(string account)
    {
        if (account.Length is < 1 or > 34 || !account.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)))
        {
            return false;
        }

        var looksLikeIban = account.Length >= 15 && char.IsAsciiLetterUpper(account[0]) && char.IsAsciiLetterUpper(account[1])
            && char.IsAsciiDigit(account[2]) && char.IsAsciiDigit(account[3]);
        if (!looksLikeIban)
        {
            return true;
        }

        var remainder = 0;
        foreach (var c in account[4..] + account[..4])
        {
            var value = char.IsAsciiDigit(c) ? c - '0' : c - 'A' + 10;
            remainder = value >= 10 ? ((remainder * 100) + value) % 97 : ((remainder * 10) + value) % 97;
        }

        return remainder == 1;
    }

    /// <summary>
    /// Currency control of a payment to a non-resident (the beneficiary's code starts with 2, or its bank is abroad): from
    /// <see cref="PaymentOrderContext.ContractFromUsd"/> up (0 by default: always) it names the contract, number and date
    /// (not after the order's date); an export or import payment (КНП of sections 7 and 8: goods, works, services) from
    /// <see cref="PaymentOrderContext.RegistrationFromUsd"/> up (USD 50,000, the threshold at which the export-import
    /// rules give a contract its registration number) names that number too. Without rates the USD equivalent is unknown
    /// and the stricter rule applies. Between residents the section is optional.
    /// </summary>
    private static CurrencyControl? CheckCurrencyControl(
        JsonElement root, PaymentParty? beneficiary, bool abroad, decimal? amount, Currency? currency, string? purposeCode, DateOnly? date,
        PaymentOrderContext context, ValidationErrors errors)
    {
        CurrencyControl? control = null;
        if (root.TryGetProperty("currencyControl", out var element) && element.ValueKind != JsonValueKind.Null)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                errors.Add("currencyControl", "type_invalid");
                return null;
            }

            Unknown(element, CurrencyControlFields, "currencyControl.", errors);
            var contractNumber = Text(element, "contractNumber", errors, "currencyControl.contractNumber", required: false);
            var registration = Text(element, "registrationNumber", errors, "currencyControl.registrationNumber", required: false);
            DateOnly? contractDate = null;
            if (Text(element, "contractDate", errors, "currencyControl.contractDate", required: false) is { } text)
            {
                if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                {
                    contractDate = parsed;
                    if (date is { } issued && parsed > issued)
                    {
                        errors.Add("currencyControl.contractDate", "contract_date_after_order");
                    }
                }
                else
                {
                    errors.Add("currencyControl.contractDate", "date_invalid");
                }
            }

            foreach (var (field, value) in new[] { ("contractNumber", contractNumber), ("registrationNumber", registration) })
            {
                if (value is { Length: > MaxContractNumberLength })
                {
                    errors.Add("currencyControl." + field, "contract_number_too_long", MaxContractNumberLength);
                }
            }

            control = new CurrencyControl(contractNumber, contractDate, registration);
        }

        var nonResident = abroad || beneficiary?.Code is ['2', _];
        if (!nonResident || amount is not { } sum || currency is not { } c)
        {
            return control;
        }

        var usd = c == Currency.USD ? sum : context.UsdEquivalent?.Invoke(sum, c);
        if (usd is null || usd >= context.ContractFromUsd)
        {
            if (control?.ContractNumber is null)
            {
                errors.Add("currencyControl.contractNumber", "currency_control_required");
            }

            if (control?.ContractDate is null)
            {
                errors.Add("currencyControl.contractDate", "currency_control_required");
            }
        }

        if (purposeCode is ['7' or '8', _, _] && (usd is null || usd >= context.RegistrationFromUsd) && control?.RegistrationNumber is null)
        {
            errors.Add("currencyControl.registrationNumber", "registration_number_required", context.RegistrationFromUsd);
        }

        return control;
    }

    /// <summary>A two-digit code of residence (1 resident, 2 non-resident) and economic sector (1–9): КОд and КБе.</summary>
    public static bool IsEconomicCode(string? code) =>
        code is { Length: 2 } && code[0] is '1' or '2' && code[1] is >= '1' and <= '9';

    /// <summary>A SWIFT-form BIC of a Kazakh bank: 4 letters, <c>KZ</c>, 2 letters or digits, optionally 3 more.</summary>
    public static bool IsBic(string bic) =>
        bic.Length is 8 or 11 && bic[..4].All(char.IsAsciiLetterUpper) && bic.AsSpan(4, 2).SequenceEqual("KZ")
        && bic[6..].All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c));

    /// <summary>Every order's number (1–9 letters and digits) and date (not after receipt, at most MaxAgeDays before it).</summary>
    internal static (string? Number, DateOnly? Date) NumberAndDate(JsonElement root, PaymentOrderContext context, ValidationErrors errors)
    {
        var number = Text(root, "number", errors);
        if (number is not null && (number.Length > MaxNumberLength || !number.All(char.IsAsciiLetterOrDigit)))
        {
            errors.Add("number", "number_invalid", MaxNumberLength);
        }

        var date = Date(root, "date", errors);
        if (date is { } d)
        {
            if (d > context.ReceiptDate)
            {
                errors.Add("date", "date_in_future");
            }
            else if (context.ReceiptDate.DayNumber - d.DayNumber > context.MaxAgeDays)
            {
                errors.Add("date", "date_stale", context.MaxAgeDays);
            }
        }

        return (number, date);
    }

    internal static void CheckEconomicCode(string? code, string field, ValidationErrors errors)
    {
        if (errors.Required(field, code) && !IsEconomicCode(code))
        {
            errors.Add(field, "economic_code_invalid");
        }
    }

    internal static Iban? CheckIban(string? text, string field, ValidationErrors errors)
    {
        if (!errors.Required(field, text))
        {
            return null;
        }

        if (Iban.TryParse(text, out var iban) && iban.Value == text)
        {
            return iban;
        }

        errors.Add(field, "iban_invalid");
        return null;
    }

    internal static decimal? Amount(JsonElement root, Currency? currency, ValidationErrors errors)
    {
        var text = Text(root, "amount", errors);
        if (text is null)
        {
            return null;
        }

        if (text.Length > 24 || !decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount > MaxAmount)
        {
            errors.Add("amount", "amount_invalid");
            return null;
        }

        if (amount <= 0)
        {
            errors.Add("amount", "amount_not_positive");
            return null;
        }

        if (currency is { } c && !Money.HasValidScale(amount, c))
        {
            errors.Add("amount", "amount_scale", c.MinorUnits());
            return null;
        }

        return amount;
    }

    private static PaymentParty? Party(JsonElement root, string name, HashSet<string> fields, ValidationErrors errors)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            errors.Add(name, "required");
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(name, "type_invalid");
            return null;
        }

        Unknown(element, fields, name + ".", errors);
        string? Field(string field) => fields.Contains(field) ? Text(element, field, errors, name + "." + field, required: false) : null;
        return new PaymentParty(Field("name"), Field("idn"), Field("iban"), Field("bic"), Field("code")) { Country = Field("country") };
    }

    internal static DateOnly? Date(JsonElement root, string name, ValidationErrors errors)
    {
        var text = Text(root, name, errors);
        if (text is null)
        {
            return null;
        }

        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        errors.Add(name, "date_invalid");
        return null;
    }

    internal static string? Text(JsonElement element, string name, ValidationErrors errors, string? field = null, bool required = true)
    {
        field ??= name;
        if (!element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(field, "required");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            errors.Add(field, "type_invalid");
            return null;
        }

        var text = value.GetString()!;
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                errors.Add(field, "required");
            }

            return null;
        }

        return text;
    }

    internal static void Unknown(JsonElement element, HashSet<string> known, string prefix, ValidationErrors errors)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                errors.Add(prefix + property.Name, "unknown_field");
            }
        }
    }
}

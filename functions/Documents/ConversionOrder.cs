using System.Text.Json;
using BusinessApi.Accounts;
using BusinessApi.Platform.Http;

namespace BusinessApi.Documents;

/// <summary>
/// An order to convert money between two of the customer's own accounts in different currencies (R-34, clause 3.12),
/// at the bank's rate of the operation date: <see cref="Amount"/> in <see cref="AmountCurrency"/> fixes one side (what
/// leaves the debited account, or what arrives on the credited one) and the other side is computed at execution.
/// </summary>
public sealed record ConversionOrder(
    string Number,
    DateOnly Date,
    string DebitIban,
    Currency DebitCurrency,
    string CreditIban,
    Currency CreditCurrency,
    decimal Amount,
    Currency AmountCurrency,
    string Purpose) : ISignedOrder
{
    public const string Type = "conversionOrder";

    string ISignedOrder.Type => Type;

    DateOnly ISignedOrder.IssuedOn => Date;

    public string NumberScope => ScopeOf(DebitIban);

    /// <summary>A conversion's number is unique per debited account and date among conversions.</summary>
    public static string ScopeOf(string debitIban) => "conversion|" + debitIban;

    /// <summary>The owner of both accounts, as the bank knows it (the counterparty of each side in statements).</summary>
    public string? OwnerName { get; init; }

    public string? OwnerIdn { get; init; }

    /// <summary>
    /// The payment purpose code of the operation (resolution 203, section 2 "operations with foreign currency"):
    /// 213 the purchase of foreign currency for tenge, 223 the sale of foreign currency for tenge, 233 the conversion of
    /// one foreign currency into another.
    /// </summary>
    public string PurposeCode => (DebitCurrency, CreditCurrency) switch
    {
        (Currency.KZT, _) => "213",
        (_, Currency.KZT) => "223",
        _ => "233",
    };
}

/// <summary>The rules of form of a conversion order; pure, every broken rule at once.</summary>
public static class ConversionOrderRules
{
    private static readonly HashSet<string> Fields = new(StringComparer.Ordinal)
    {
        "type", "number", "date", "debitIban", "creditIban", "amount", "amountCurrency", "purpose",
    };

    public static (ConversionOrder? Order, IReadOnlyList<FieldError> Errors) Validate(JsonElement root, PaymentOrderContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var errors = new ValidationErrors();
        PaymentOrderRules.Unknown(root, Fields, "", errors);
        var (number, date) = PaymentOrderRules.NumberAndDate(root, context, errors);

        var debit = Account(root, "debitIban", "payer_account_unknown", context, errors);
        var credit = Account(root, "creditIban", "credit_account_unknown", context, errors);
        if (debit is { } a && credit is { } b)
        {
            if (a.Iban == b.Iban)
            {
                errors.Add("creditIban", "same_account");
            }
            else if (a.Currency == b.Currency)
            {
                errors.Add("creditIban", "conversion_same_currency");
            }
        }

        Currency? amountCurrency = null;
        if (PaymentOrderRules.Text(root, "amountCurrency", errors) is { } code)
        {
            if (!Currencies.TryParse(code, out var parsed))
            {
                errors.Add("amountCurrency", "currency_unknown");
            }
            else if (debit is { } x && credit is { } y && parsed != x.Currency && parsed != y.Currency)
            {
                errors.Add("amountCurrency", "amount_currency_invalid", x.Currency.ToString(), y.Currency.ToString());
            }
            else
            {
                amountCurrency = parsed;
            }
        }

        var amount = PaymentOrderRules.Amount(root, amountCurrency, errors);
        var purpose = PaymentOrderRules.Text(root, "purpose", errors);
        if (purpose is { Length: > PaymentOrderRules.MaxPurposeLength })
        {
            errors.Add("purpose", "purpose_too_long", PaymentOrderRules.MaxPurposeLength);
        }

        if (errors.Count > 0)
        {
            return (null, [.. errors]);
        }

        return (new ConversionOrder(number!, date!.Value, debit!.Value.Iban, debit.Value.Currency, credit!.Value.Iban, credit.Value.Currency,
            amount!.Value, amountCurrency!.Value, purpose!) { OwnerIdn = context.PayerIdn, OwnerName = context.OwnerName }, []);
    }

    private static (string Iban, Currency Currency)? Account(JsonElement root, string field, string unknown, PaymentOrderContext context, ValidationErrors errors)
    {
        if (PaymentOrderRules.CheckIban(PaymentOrderRules.Text(root, field, errors), field, errors) is not { } iban)
        {
            return null;
        }

        if (!context.CustomerAccounts.TryGetValue(iban.Value, out var currency))
        {
            errors.Add(field, unknown);
            return null;
        }

        return (iban.Value, currency);
    }
}

/// <summary>What the bank must look up before the rules run, read from the signed content in one pass.</summary>
/// <param name="Type">The content's <c>type</c>, or null (malformed content is the payment order rules' to report).</param>
/// <param name="Accounts">The customer accounts it names: a payment's payer, a conversion's two accounts.</param>
/// <param name="MayNeedRates">Currency control may need the bank's rates: an order in a foreign currency, or to a non-resident.</param>
public sealed record OrderPreview(string? Type, IReadOnlyList<Iban> Accounts, bool MayNeedRates);

/// <summary>Reads any signed order: its <c>type</c> says which rules apply (a payment order when it names none).</summary>
public static class SignedOrders
{
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 8 };

    private static readonly OrderPreview Unreadable = new(null, [], false);

    public static (ISignedOrder? Order, IReadOnlyList<FieldError> Errors) Validate(ReadOnlyMemory<byte> content, string? type, PaymentOrderContext context)
    {
        if (type == ConversionOrder.Type)
        {
            using var document = JsonDocument.Parse(content, Strict);
            return ConversionOrderRules.Validate(document.RootElement, context);
        }

        return PaymentOrderRules.Validate(content, context);
    }

    /// <summary>
    /// The number row (<see cref="DocumentStore.NumberRow"/>) the content states, read without judging the order: its type,
    /// number, date and debited account when each is present and well formed; null otherwise (the verified order claims then).
    /// </summary>
    public static string? NumberRowOf(ReadOnlyMemory<byte> content)
    {
        try
        {
            using var document = JsonDocument.Parse(content, Strict);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var type = Text(root, "type") ?? PaymentOrder.Type;
            var debit = type switch
            {
                PaymentOrder.Type => root.TryGetProperty("payer", out var payer) ? Text(payer, "iban") : null,
                ConversionOrder.Type => Text(root, "debitIban"),
                _ => null,
            };
            var number = Text(root, "number");
            if (debit is null || !Iban.TryParse(debit, out var iban) || iban.Value != debit
                || number is not { Length: > 0 and <= PaymentOrderRules.MaxNumberLength } || !number.All(char.IsAsciiLetterOrDigit)
                || !DateOnly.TryParseExact(Text(root, "date"), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var date))
            {
                return null;
            }

            return DocumentStore.NumberRow(type == ConversionOrder.Type ? ConversionOrder.ScopeOf(debit) : PaymentOrder.ScopeOf(debit), date, number);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static OrderPreview Preview(ReadOnlyMemory<byte> content)
    {
        try
        {
            using var document = JsonDocument.Parse(content, Strict);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Unreadable;
            }

            var accounts = new List<Iban>();
            root.TryGetProperty("payer", out var payer);
            root.TryGetProperty("beneficiary", out var beneficiary);
            foreach (var text in new[] { Text(payer, "iban"), Text(root, "debitIban"), Text(root, "creditIban") })
            {
                if (Iban.TryParse(text, out var iban))
                {
                    accounts.Add(iban);
                }
            }

            var foreign = Text(root, "currency") is { } currency && currency != "KZT";
            var nonResident = Text(beneficiary, "code") is ['2', _];
            return new OrderPreview(Text(root, "type"), accounts, foreign || nonResident);
        }
        catch (JsonException)
        {
            return Unreadable;
        }
    }
}

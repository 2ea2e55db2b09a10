using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Http;

namespace BusinessApi.Documents;

[JsonConverter(typeof(JsonStringEnumConverter<DocumentStatus>))]
public enum DocumentStatus
{
    /// <summary>Taken in; identification and the EDS not yet verified.</summary>
    [JsonStringEnumMemberName("received")]
    Received,

    /// <summary>Identification and EDS verified, the document accepted; waiting for or in execution.</summary>
    [JsonStringEnumMemberName("processing")]
    Processing,

    [JsonStringEnumMemberName("executed")]
    Executed,

    [JsonStringEnumMemberName("refused")]
    Refused,

    /// <summary>Formed, not yet signed by everyone the account's specimen card requires (a draft, or partly signed).</summary>
    [JsonStringEnumMemberName("awaitingSignatures")]
    AwaitingSignatures,

    /// <summary>Withdrawn by its creator or an admin, or not fully signed within the signature window: never an instruction.</summary>
    [JsonStringEnumMemberName("cancelled")]
    Cancelled,
}

/// <summary>The refusal reasons of R-36 (clause 5.2.8) and R-37, as stable codes (<c>reasonCode</c>).</summary>
public static class RefusalReasons
{
    public const string InsufficientFunds = "insufficient_funds";
    public const string InvalidDocument = "invalid_document";
    public const string AccountRestricted = "account_restricted";
    public const string AuthenticationFailed = "authentication_failed";
    public const string CredentialsCompromised = "credentials_compromised";
    public const string Aml = "aml";
    public const string ServiceSuspended = "service_suspended";
    public const string ServiceTerminated = "service_terminated";

    /// <summary>A document cancelled by its creator or an admin before it was fully signed.</summary>
    public const string CancelledByCustomer = "cancelled_by_customer";

    /// <summary>A document not fully signed within Documents:SignatureWindowDays.</summary>
    public const string SignatureWindowExpired = "signature_window_expired";

    /// <summary>A conversion whose operation date has no published rates: never converted at a guessed rate.</summary>
    public const string RateUnavailable = "rate_unavailable";

    public static readonly IReadOnlyList<string> All =
        [InsufficientFunds, InvalidDocument, AccountRestricted, AuthenticationFailed, CredentialsCompromised, Aml, ServiceSuspended, ServiceTerminated,
            CancelledByCustomer, SignatureWindowExpired, RateUnavailable];
}

/// <summary>What a document is waiting for while it is <c>processing</c>.</summary>
public static class DocumentWaits
{
    public const string OperationalDay = "operationalDay";
    public const string AmlReview = "amlReview";
}

/// <summary>One status change, with its time .</summary>
public sealed record DocumentStatusChange(DocumentStatus Status, DateTimeOffset At)
{
    public string? ReasonCode { get; init; }

    /// <summary>The precise check that failed (e.g. <c>certificate_revoked</c>), under the broad <see cref="ReasonCode"/>.</summary>
    public string? Failure { get; init; }

    public string? Note { get; init; }
}

/// <summary>A broken rule of form, as stored with the document (the message is rendered in the reader's language).</summary>
public sealed record DocumentError(string Field, string Code, IReadOnlyList<string> Arguments)
{
    public static DocumentError Of(FieldError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new(error.Field, error.Code, [.. error.Arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "")]);
    }
}

/// <summary>
/// The document's money side, once validated: what was (or will be) posted. Stored with the document and
/// shown as is; amounts are strings in minor units, as everywhere in the API.
/// </summary>
public sealed record DocumentSummary(
    string Number,
    DateOnly Date,
    [property: JsonConverter(typeof(MinorUnitsAmountConverter))] decimal Amount,
    string Currency,
    string PayerIban,
    string BeneficiaryName,
    string BeneficiaryIdn,
    string BeneficiaryIban,
    string BeneficiaryBic,
    string PurposeCode,
    string Purpose,
    DateOnly ValueDate,
    string Route)
{
    [JsonConverter(typeof(MinorUnitsAmountConverter))]
    public decimal? Commission { get; init; }

    /// <summary>The payer's name as signed, when the order names it.</summary>
    public string? PayerName { get; init; }

    /// <summary>The payer's IIN/BIN as signed; checked against the account's owner.</summary>
    public string? PayerIdn { get; init; }

    /// <summary>The budget classification code (КБК) of a payment to the budget, as signed.</summary>
    public string? Kbk { get; init; }

    /// <summary>The beneficiary's country, for a bank abroad.</summary>
    public string? BeneficiaryCountry { get; init; }

    /// <summary>The contract a payment to a non-resident is made under, as signed.</summary>
    public CurrencyControl? CurrencyControl { get; init; }

    /// <summary>A conversion order's two sides: the currencies as signed, and the amounts and rate once executed.</summary>
    public ConversionSummary? Conversion { get; init; }

    /// <summary>The summary of any signed order; a conversion names the customer on both sides and the bank as both banks.</summary>
    public static DocumentSummary Of(ISignedOrder order, string bankCode, string bankBic) => order switch
    {
        PaymentOrder payment => Of(payment, payment.IsInternal(bankCode)),
        ConversionOrder c => new(c.Number, c.Date, c.Amount, c.AmountCurrency.ToString(), c.DebitIban, c.OwnerName ?? "", c.OwnerIdn ?? "", c.CreditIban,
            bankBic, c.PurposeCode, c.Purpose, c.Date, PaymentRoutes.Internal)
        {
            PayerName = c.OwnerName,
            PayerIdn = c.OwnerIdn,
            Conversion = new ConversionSummary(c.DebitCurrency.ToString(), c.CreditCurrency.ToString()),
        },
        _ => throw new ArgumentOutOfRangeException(nameof(order), order?.Type, "Unknown kind of order."),
    };

    public static DocumentSummary Of(PaymentOrder order, bool internalBeneficiary)
    {
        ArgumentNullException.ThrowIfNull(order);
        return new(
            order.Number, order.Date, order.Amount, order.Currency.ToString(), order.Payer.Iban!, order.Beneficiary.Name!, order.Beneficiary.Idn!, order.Beneficiary.Iban!,
            order.Beneficiary.Bic!, order.PurposeCode, order.Purpose, order.ValueDate, internalBeneficiary ? PaymentRoutes.Internal : PaymentRoutes.Interbank)
        {
            PayerName = order.Payer.Name,
            PayerIdn = order.Payer.Idn,
            Kbk = order.Kbk,
            BeneficiaryCountry = order.Beneficiary.Country,
            CurrencyControl = order.CurrencyControl,
        };
    }
}

/// <summary>
/// A conversion's two sides. <c>amount</c>/<c>currency</c> of the summary is the side the customer fixed; the other is
/// computed at execution at the bank's rate of the operation date (<see cref="RateDate"/>, version <see cref="RateVersion"/>).
/// <see cref="Rate"/> is credit units per debit unit, shown to 6 decimal places; the amounts are computed from the
/// published buy and sell rates exactly and rounded once.
/// </summary>
public sealed record ConversionSummary(string DebitCurrency, string CreditCurrency)
{
    [JsonConverter(typeof(MinorUnitsAmountConverter))]
    public decimal? DebitAmount { get; init; }

    [JsonConverter(typeof(MinorUnitsAmountConverter))]
    public decimal? CreditAmount { get; init; }

    public decimal? Rate { get; init; }

    public DateOnly? RateDate { get; init; }

    public int? RateVersion { get; init; }
}

/// <summary>
/// An amount as a string with two decimals (<c>"150000.00"</c>): every currency here has 2 minor units
/// (<see cref="Accounts.Currencies.MinorUnits"/>). Reads a string or a number.
/// </summary>
public sealed class MinorUnitsAmountConverter : JsonConverter<decimal>
{
    public override decimal Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        reader.TokenType == System.Text.Json.JsonTokenType.String
            ? decimal.Parse(reader.GetString()!, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)
            : reader.GetDecimal();

    public override void Write(System.Text.Json.Utf8JsonWriter writer, decimal value, System.Text.Json.JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString("F2", CultureInfo.InvariantCulture));
    }
}

public static class PaymentRoutes
{
    public const string Internal = "internal";
    public const string Interbank = "interbank";
}

/// <summary>A stored document as the API shows it.</summary>
public sealed record Document(string DocumentId, string CustomerId, string Type, DocumentStatus Status, DateTimeOffset ReceivedAt, DateOnly OperationalDate)
{
    public required string UserId { get; init; }

    public required string ClientId { get; init; }

    /// <summary>R-36: a refusal must reach the customer by the end of the operational day of receipt.</summary>
    public required DateTimeOffset RefusalDeadline { get; init; }

    /// <summary>R-33: not refused by then, the document counts as executed.</summary>
    public required DateTimeOffset DeemedExecutedAt { get; init; }

    public required string CmsSha256 { get; init; }

    public IReadOnlyList<DocumentStatusChange> StatusHistory { get; init; } = [];

    public string? WaitingFor { get; init; }

    public DocumentSummary? Summary { get; init; }

    public SignatureFacts? Signer { get; init; }

    public IReadOnlyList<DocumentError> Errors { get; init; } = [];

    public string? TransactionId { get; init; }

    public string? ArchiveSha256 { get; init; }

    public string? ReceiptSha256 { get; init; }

    /// <summary>Set by the deadline job (its own column): not terminal by <see cref="DeemedExecutedAt"/>, escalated to operators.</summary>
    [JsonIgnore]
    public DateTimeOffset? OverdueSince { get; init; }

    /// <summary>The operator released the document after an anti-money-laundering hold.</summary>
    public bool AmlReleased { get; init; }

    /// <summary>The signatures collected so far, as the workflow last saw them (a document signed at once has one).</summary>
    public IReadOnlyList<DocumentSignature> Signatures { get; init; } = [];

    /// <summary>A document awaiting signatures that is not fully signed by then is cancelled.</summary>
    public DateTimeOffset? SignatureWindowEndsAt { get; init; }

    /// <summary>When the account's signature rule was met: operational-day timing counts from here.</summary>
    public DateTimeOffset? SignedAt { get; init; }

    /// <summary>The document waited (for the operational day or an operator), so it has a row in the R-33 due index and maybe an alert.</summary>
    public bool Waited { get; init; }

    /// <summary>
    /// The number row intake claimed for it in the same transaction (<see cref="DocumentStore.NumberRow"/>), read off the
    /// signed content before verification; the order, once verified, holds that number without a claim of its own.
    /// </summary>
    public string? NumberClaim { get; init; }

    [JsonIgnore]
    public DocumentStatusChange? Last => StatusHistory.Count > 0 ? StatusHistory[^1] : null;

    [JsonIgnore]
    public bool IsTerminal => Status is DocumentStatus.Executed or DocumentStatus.Refused or DocumentStatus.Cancelled;
}

/// <summary>Document ids: <c>doc_</c>, the customer id's 20 hex digits, 12 hex digits of the receipt time in ms, 8 random.</summary>
public static class DocumentIds
{
    public const string Prefix = "doc_";
    public const int Length = 44;

    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdef");

    public static string New(string customerId, DateTimeOffset receivedAt) =>
        Prefix + customerId[4..] + TimeKey(receivedAt) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>The id prefix of documents of <paramref name="customerId"/> received from <paramref name="at"/> on; ids sort by receipt.</summary>
    public static string Floor(string customerId, DateTimeOffset at) => Prefix + customerId[4..] + TimeKey(at);

    public static bool IsWellFormed(string? id) =>
        id is { Length: Length } && id.StartsWith(Prefix, StringComparison.Ordinal) && !id.AsSpan(4).ContainsAnyExcept(HexDigits);

    public static string CustomerOf(string documentId) => "cus_" + documentId[4..24];

    private static string TimeKey(DateTimeOffset at) =>
        Math.Clamp(at.ToUnixTimeMilliseconds(), 0, 0xFFFF_FFFF_FFFFL).ToString("x12", CultureInfo.InvariantCulture);
}

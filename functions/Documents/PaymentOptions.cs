using System.ComponentModel.DataAnnotations;
namespace BusinessApi.Documents;

/// <summary>Settings of payment services (appsettings.json <c>payments</c>).</summary>
public sealed class PaymentOptions
{
    public const string Section = "Payments";

    /// <summary>A payment order is presented within this many calendar days of its date (payment rules of the National Bank: 10).</summary>
    [Range(1, 10)]
    public int MaxDocumentAgeDays { get; set; } = 10;

    /// <summary>A file replacing the shipped payment purpose codes (same JSON format).</summary>
    public string? PurposeCodesPath { get; set; }

    /// <summary>The commission schedule until an operator publishes one (<c>PUT /ops/tariffs</c>).</summary>
    public List<Tariff> Tariffs { get; set; } = [];

    /// <summary>The monthly API support fee until an operator publishes tariffs (clause 3.9); none by default.</summary>
    public PeriodicFee? ApiSupportFee { get; set; }

    /// <summary>Thresholds of currency control for payments to non-residents.</summary>
    public CurrencyControlOptions CurrencyControl { get; set; } = new();

    /// <summary>Anti-money-laundering rules: a matching document is held for an operator (R-36 e).</summary>
    public List<AmlRule> AmlRules { get; set; } = [];

    /// <summary>How long a document held for anti-money-laundering review waits for an operator before it is refused.</summary>
    [Range(1, 365)]
    public int AmlReviewDays { get; set; } = 30;
}

/// <summary>
/// One anti-money-laundering rule: documents in <see cref="Currency"/> (any when empty) of at least
/// <see cref="MinAmount"/>, with a purpose code among <see cref="PurposeCodes"/> (any when empty), on
/// <see cref="Route"/> (any when empty), are held for an operator.
/// </summary>
public sealed class AmlRule
{
    public string Name { get; set; } = "";

    public string? Currency { get; set; }

    public decimal MinAmount { get; set; }

    public List<string> PurposeCodes { get; set; } = [];

    public string? Route { get; set; }

    public bool Matches(DocumentSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return (string.IsNullOrEmpty(Currency) || Currency == summary.Currency)
            && summary.Amount >= MinAmount
            && (PurposeCodes.Count == 0 || PurposeCodes.Contains(summary.PurposeCode))
            && (string.IsNullOrEmpty(Route) || Route == summary.Route);
    }

    /// <summary>The first rule that holds <paramref name="summary"/>, or null.</summary>
    public static AmlRule? FirstMatch(IEnumerable<AmlRule> rules, DocumentSummary summary) => rules.FirstOrDefault(r => r.Matches(summary));
}

/// <summary>Currency control of payments to non-residents (section <c>Payments:CurrencyControl</c>), in USD equivalents at the bank's mid rate of the receipt date.</summary>
public sealed class CurrencyControlOptions
{
    /// <summary>From this USD equivalent up, the payment names its contract (number and date); 0: always.</summary>
    [Range(0, 1_000_000_000)]
    public decimal ContractFromUsd { get; set; }

    /// <summary>From this USD equivalent up, an export or import payment names the contract's registration number (the export-import rules' USD 50,000).</summary>
    [Range(0, 1_000_000_000)]
    public decimal RegistrationFromUsd { get; set; } = 50_000m;
}

/// <summary>Documents several people sign (section <c>Documents</c>).</summary>
public sealed class DocumentOptions
{
    public const string Section = "Documents";

    /// <summary>A document awaiting signatures that is not fully signed within this many days of its first submission is cancelled.</summary>
    [Range(1, 90)]
    public int SignatureWindowDays { get; set; } = 10;
}

using System.ComponentModel.DataAnnotations;

namespace BusinessApi.Accounts;

/// <summary>The bank's own identity in account numbers and statements (appsettings.json <c>bank</c>).</summary>
public sealed class BankOptions
{
    public const string Section = "Bank";

    /// <summary>The 3-digit bank code in positions 5–7 of the bank's IBANs; accounts are opened only under it.</summary>
    [RegularExpression("^[0-9]{3}$")]
    public string IbanCode { get; set; } = "998";

    [Required]
    public string Bic { get; set; } = "TSESKZKA";

    [Required]
    public string Name { get; set; } = "АО «Alatau City Bank»";
}

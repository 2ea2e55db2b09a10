using System.Diagnostics.CodeAnalysis;

namespace BusinessApi.Accounts;

/// <summary>
/// A Kazakhstan IBAN: <c>KZ</c>, two check digits, a 3-digit bank code and a 13-character account,
/// 20 characters in all, checked with ISO 13616 mod 97. Spaces and lower case are accepted on input
/// and dropped; <see cref="Value"/> is the electronic form.
/// </summary>
public readonly record struct Iban
{
    public const int Length = 20;

    private Iban(string value) => Value = value;

    public string Value { get; }

    /// <summary>The bank's 3-digit code (positions 5–7).</summary>
    public string BankCode => Value.Substring(4, 3);

    public static bool TryParse([NotNullWhen(true)] string? text, out Iban iban)
    {
        iban = default;
        if (text is null)
        {
            return false;
        }

        var compact = text.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant();
        if (compact.Length != Length || !compact.StartsWith("KZ", StringComparison.Ordinal)
            || compact.AsSpan(2, 5).ContainsAnyExceptInRange('0', '9') // check digits and bank code
            || !compact.All(char.IsAsciiLetterOrDigit)
            || Mod97(compact) != 1)
        {
            return false;
        }

        iban = new Iban(compact);
        return true;
    }

    public static Iban Parse(string text) =>
        TryParse(text, out var iban) ? iban : throw new FormatException("Not a valid KZ IBAN (20 characters, mod-97 check).");

    /// <summary>The two check digits that make <c>KZ??{bban}</c> valid (for building test and demo accounts).</summary>
    public static string CheckDigitsFor(string bban)
    {
        ArgumentNullException.ThrowIfNull(bban);
        var remainder = Mod97("KZ00" + bban.ToUpperInvariant());
        return (98 - remainder).ToString("D2", System.Globalization.CultureInfo.InvariantCulture);
    }

    public override string ToString() => Value;

    /// <summary>ISO 7064 mod 97-10 over the rearranged IBAN (first four characters moved to the end, letters as 10–35).</summary>
    private static int Mod97(string iban)
    {
        var remainder = 0;
        foreach (var c in string.Concat(iban.AsSpan(4), iban.AsSpan(0, 4)))
        {
            var value = char.IsAsciiDigit(c) ? c - '0' : c - 'A' + 10;
            remainder = value >= 10 ? ((remainder * 100) + value) % 97 : ((remainder * 10) + value) % 97;
        }

        return remainder;
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BusinessApi.Customers;

/// <summary>
/// The control digit shared by Kazakhstan's 12-digit IIN and BIN (Government decree No. 565 of 11 June
/// 2003): digits 1–11 weighted 1…11, modulo 11; a remainder of 10 is recomputed with weights
/// 3…11,1,2; a second 10 means the number is never issued.
/// </summary>
public static class TaxIdentifierCheck
{
    private static readonly int[] First = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    private static readonly int[] Second = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

    /// <summary>The control digit for the first 11 digits, or null when none exists.</summary>
    public static int? ControlDigit(ReadOnlySpan<char> elevenDigits)
    {
        if (elevenDigits.Length != 11 || !IsDigits(elevenDigits))
        {
            return null;
        }

        var remainder = Weighted(elevenDigits, First);
        if (remainder == 10)
        {
            remainder = Weighted(elevenDigits, Second);
        }

        return remainder == 10 ? null : remainder;
    }

    public static bool IsValid(ReadOnlySpan<char> twelveDigits) =>
        twelveDigits.Length == 12 && IsDigits(twelveDigits) && ControlDigit(twelveDigits[..11]) == twelveDigits[11] - '0';

    /// <summary>Twelve digits whatever their control digit: what a sandbox accepts of NCA RK's test identifiers.</summary>
    public static bool IsTestIdentifier(ReadOnlySpan<char> text) => text.Length == 12 && IsDigits(text);

    internal static bool IsDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static int Weighted(ReadOnlySpan<char> digits, int[] weights)
    {
        var sum = 0;
        for (var i = 0; i < 11; i++)
        {
            sum += (digits[i] - '0') * weights[i];
        }

        return sum % 11;
    }
}

/// <summary>
/// An individual identification number (ИИН): birth date YYMMDD, then century and sex (1–6), a serial
/// and the control digit. A User's certificate carries it as <c>SERIALNUMBER=IIN…</c>.
/// </summary>
public readonly record struct Iin
{
    private Iin(string value, DateOnly birthDate)
    {
        Value = value;
        BirthDate = birthDate;
    }

    public string Value { get; }

    public DateOnly BirthDate { get; }

    public static bool TryParse([NotNullWhen(true)] string? text, out Iin iin)
    {
        iin = default;
        if (text is not { Length: 12 } || !TaxIdentifierCheck.IsValid(text))
        {
            return false;
        }

        var centuryDigit = text[6] - '0';
        if (centuryDigit is < 1 or > 6)
        {
            return false;
        }

        var century = centuryDigit switch { 1 or 2 => 1800, 3 or 4 => 1900, _ => 2000 };
        var year = century + int.Parse(text.AsSpan(0, 2), CultureInfo.InvariantCulture);
        var month = int.Parse(text.AsSpan(2, 2), CultureInfo.InvariantCulture);
        var day = int.Parse(text.AsSpan(4, 2), CultureInfo.InvariantCulture);
        if (month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        iin = new Iin(text, new DateOnly(year, month, day));
        return true;
    }

    public static Iin Parse(string text) =>
        TryParse(text, out var iin) ? iin : throw new FormatException("Not a valid IIN (12 digits, a birth date and a correct control digit).");

    public override string ToString() => Value;
}

/// <summary>
/// A business identification number (БИН): year and month of registration, entity type (4 resident
/// legal entity, 5 non-resident, 6 individual entrepreneur in joint venture), division (0 head office,
/// 1 branch, 2 representative office, 3 peasant farm), a serial and the control digit.
/// </summary>
public readonly record struct Bin
{
    private Bin(string value) => Value = value;

    public string Value { get; }

    public static bool TryParse([NotNullWhen(true)] string? text, out Bin bin)
    {
        bin = default;
        if (text is not { Length: 12 } || !TaxIdentifierCheck.IsValid(text))
        {
            return false;
        }

        var month = int.Parse(text.AsSpan(2, 2), CultureInfo.InvariantCulture);
        if (month is < 1 or > 12 || text[4] is < '4' or > '6' || text[5] is < '0' or > '3')
        {
            return false;
        }

        bin = new Bin(text);
        return true;
    }

    public static Bin Parse(string text) =>
        TryParse(text, out var bin) ? bin : throw new FormatException("Not a valid BIN (12 digits, registration month, entity type and a correct control digit).");

    public override string ToString() => Value;
}

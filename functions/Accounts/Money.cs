using System.Globalization;
using System.Text.Json.Serialization;

namespace BusinessApi.Accounts;

/// <summary>The currencies accounts are kept in, with their minor units (ISO 4217).</summary>
public enum Currency
{
    // ISO 4217 codes stay upper case in JSON, whatever the naming policy for other enums.
    [JsonStringEnumMemberName("KZT")]
    KZT,
    [JsonStringEnumMemberName("USD")]
    USD,
    [JsonStringEnumMemberName("EUR")]
    EUR,
    [JsonStringEnumMemberName("RUB")]
    RUB,
    [JsonStringEnumMemberName("CNY")]
    CNY,
}

public static class Currencies
{
    /// <summary>Digits after the decimal point: every currency here has 2 (tiyn, cents, kopecks, fen).</summary>
    public static int MinorUnits(this Currency currency) => currency switch
    {
        Currency.KZT or Currency.USD or Currency.EUR or Currency.RUB or Currency.CNY => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(currency), currency, "Unknown currency."),
    };

    public static bool TryParse(string? code, out Currency currency) =>
        Enum.TryParse(code, ignoreCase: false, out currency) && Enum.IsDefined(currency) && code!.Length == 3;
}

/// <summary>
/// An amount in a currency, exact (<see cref="decimal"/>) and never finer than the currency's minor
/// unit. Arithmetic refuses to mix currencies; computed amounts (commissions, penalties) are brought
/// to the minor unit with <see cref="Round"/>.
/// </summary>
public readonly record struct Money
{
    public Money(decimal amount, Currency currency)
    {
        if (decimal.Round(amount, currency.MinorUnits()) != amount)
        {
            throw new ArgumentException($"{amount.ToString(CultureInfo.InvariantCulture)} has more than {currency.MinorUnits()} decimal places for {currency}.", nameof(amount));
        }

        Amount = amount;
        Currency = currency;
    }

    public decimal Amount { get; }

    public Currency Currency { get; }

    public static Money Zero(Currency currency) => new(0m, currency);

    /// <summary>Rounds a computed amount to the minor unit, halves away from zero (as tiyn are rounded in practice).</summary>
    public static Money Round(decimal amount, Currency currency) =>
        new(decimal.Round(amount, currency.MinorUnits(), MidpointRounding.AwayFromZero), currency);

    /// <summary>Whether <paramref name="amount"/> is expressible in <paramref name="currency"/> (no finer than its minor unit).</summary>
    public static bool HasValidScale(decimal amount, Currency currency) => decimal.Round(amount, currency.MinorUnits()) == amount;

    public static Money operator +(Money left, Money right) => new(left.Amount + right.Amount, Same(left, right));

    public static Money operator -(Money left, Money right) => new(left.Amount - right.Amount, Same(left, right));

    public static Money Add(Money left, Money right) => left + right;

    public static Money Subtract(Money left, Money right) => left - right;

    public bool IsNegative => Amount < 0;

    /// <summary>The invariant text form, always with the minor unit: <c>150000.00 KZT</c>.</summary>
    public override string ToString() => $"{Amount.ToString("F" + Currency.MinorUnits().ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)} {Currency}";

    private static Currency Same(Money left, Money right) =>
        left.Currency == right.Currency ? left.Currency : throw new InvalidOperationException($"Cannot combine {left.Currency} and {right.Currency}.");
}

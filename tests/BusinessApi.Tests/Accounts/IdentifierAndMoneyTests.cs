using System.Globalization;
using BusinessApi.Accounts;
using BusinessApi.Customers;
using CsCheck;

namespace BusinessApi.Tests.Accounts;

/// <summary>The reusable validators the accounts and payment-order rules stand on.</summary>
public sealed class IdentifierAndMoneyTests
{
    [Theory]
    [InlineData("061211600012", 2006, 12, 11)] // published example
    [InlineData("900101300017", 1990, 1, 1)] // control digit computed independently (7)
    public void Iin_Valid_ParsesItsBirthDate(string text, int year, int month, int day)
    {
        Assert.True(Iin.TryParse(text, out var iin));
        Assert.Equal(new DateOnly(year, month, day), iin.BirthDate);
    }

    [Theory]
    [InlineData("061211600013")] // wrong control digit
    [InlineData("06121160001")] // 11 digits
    [InlineData("0612116000123")] // 13 digits
    [InlineData("06121160001a")]
    [InlineData("000740000728")] // a BIN, not an IIN (month 07 but day 40)
    [InlineData("")]
    [InlineData(null)]
    public void Iin_Invalid_IsRefused(string? text) => Assert.False(Iin.TryParse(text, out _));

    [Theory]
    [InlineData("000740000728")]
    [InlineData("200240900095")]
    public void Bin_PublishedExamples_AreValid(string text) => Assert.True(Bin.TryParse(text, out _));

    [Theory]
    [InlineData("000740000729")] // wrong control digit
    [InlineData("061211600012")] // an IIN (5th digit 1 is no entity type)
    [InlineData("001340000720")] // month 13
    public void Bin_Invalid_IsRefused(string text) => Assert.False(Bin.TryParse(text, out _));

    [Fact]
    public void ControlDigit_IsTheOnlyDigitThatValidates() =>
        Gen.String[Gen.Char['0', '9'], 11, 11].Sample(prefix =>
        {
            var control = TaxIdentifierCheck.ControlDigit(prefix);
            var valid = Enumerable.Range(0, 10).Where(d => TaxIdentifierCheck.IsValid(prefix + d.ToString(CultureInfo.InvariantCulture))).ToList();
            return control is null ? valid.Count == 0 : valid.SequenceEqual([control.Value]);
        }, iter: 2000);

    [Theory]
    [InlineData("KZ86125KZT5004100100")] // ISO 13616 registry example for Kazakhstan
    [InlineData("KZ86 125K ZT50 0410 0100")]
    [InlineData("kz86125kzt5004100100")]
    public void Iban_RegistryExample_IsValid_InAnyCommonSpelling(string text)
    {
        Assert.True(Iban.TryParse(text, out var iban));
        Assert.Equal("KZ86125KZT5004100100", iban.Value);
        Assert.Equal("125", iban.BankCode);
    }

    [Theory]
    [InlineData("KZ87125KZT5004100100")] // check digits
    [InlineData("KZ86125KZT500410010")] // 19 characters
    [InlineData("DE89370400440532013000")] // valid, but not Kazakh
    [InlineData("KZ86A25KZT5004100100")] // bank code not digits
    [InlineData("KZ86125KZT50041001-0")]
    [InlineData("")]
    public void Iban_Invalid_IsRefused(string text) => Assert.False(Iban.TryParse(text, out _));

    /// <summary>
    /// ISO 7064 mod 97-10 detects every substitution of a digit by a digit or a letter by a letter (a
    /// letter counts as two digits, so letter-for-digit swaps shift the rest and are not guaranteed).
    /// </summary>
    [Fact]
    public void Iban_AnyLikeForLikeSingleCharacterChange_IsDetected() =>
        Gen.Select(Gen.Int[100, 999], Gen.String[Gen.Char["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"], 13, 13], Gen.Int[4, 19], Gen.Char["0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"])
            .Sample((bank, account, position, replacement) =>
            {
                var bban = bank.ToString(CultureInfo.InvariantCulture) + account;
                var iban = "KZ" + Iban.CheckDigitsFor(bban) + bban;
                var changed = iban[..position] + replacement + iban[(position + 1)..];
                var likeForLike = char.IsAsciiDigit(iban[position]) == char.IsAsciiDigit(replacement);
                return Iban.TryParse(iban, out _) && (changed == iban || !likeForLike || !Iban.TryParse(changed, out _));
            }, iter: 2000);

    [Theory]
    [InlineData("150000.00", Currency.KZT, true)]
    [InlineData("150000.5", Currency.KZT, true)]
    [InlineData("0.01", Currency.USD, true)]
    [InlineData("0.001", Currency.EUR, false)]
    [InlineData("10.125", Currency.KZT, false)]
    public void Money_RefusesAmountsFinerThanTheMinorUnit(string amount, Currency currency, bool valid)
    {
        var value = decimal.Parse(amount, CultureInfo.InvariantCulture);

        Assert.Equal(valid, Money.HasValidScale(value, currency));
        if (valid)
        {
            Assert.Equal(value, new Money(value, currency).Amount);
        }
        else
        {
            Assert.Throws<ArgumentException>(() => new Money(value, currency));
        }
    }

    [Theory]
    [InlineData("15.005", "15.01")] // half away from zero
    [InlineData("15.0049", "15.00")]
    [InlineData("-15.005", "-15.01")]
    [InlineData("0.015", "0.02")]
    public void Money_Round_ToTheTiyn(string computed, string expected) =>
        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), Money.Round(decimal.Parse(computed, CultureInfo.InvariantCulture), Currency.KZT).Amount);

    [Fact]
    public void Money_Arithmetic_StaysInOneCurrency()
    {
        var sum = new Money(100.10m, Currency.KZT) + new Money(0.90m, Currency.KZT);

        Assert.Equal("101.00 KZT", sum.ToString());
        Assert.Throws<InvalidOperationException>(() => new Money(1m, Currency.KZT) + new Money(1m, Currency.USD));
    }

    [Theory]
    [InlineData("KZT", true)]
    [InlineData("CNY", true)]
    [InlineData("kzt", false)]
    [InlineData("GBP", false)]
    [InlineData("0", false)]
    public void Currency_Codes(string code, bool known) => Assert.Equal(known, Currencies.TryParse(code, out _));
}

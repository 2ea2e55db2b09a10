using System.Security.Cryptography;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Customers;

namespace BusinessApi.Tests.Accounts;

/// <summary>Valid identifiers and ledger shapes for tests: IBANs under the bank's code, BINs with their control digit.</summary>
public static class BankData
{
    public const string BankCode = "998";

    public static Iban NewIban(string bankCode = BankCode)
    {
        var bban = bankCode + string.Concat(Enumerable.Range(0, 13).Select(_ => (char)('0' + RandomNumberGenerator.GetInt32(10))));
        return Iban.Parse("KZ" + Iban.CheckDigitsFor(bban) + bban);
    }

    /// <summary>A valid IIN of a person born in 1960–1999 (check digit per decree 565).</summary>
    public static string NewIin()
    {
        while (true)
        {
            var eleven = $"{RandomNumberGenerator.GetInt32(60, 100):D2}{RandomNumberGenerator.GetInt32(1, 13):D2}{RandomNumberGenerator.GetInt32(1, 29):D2}{RandomNumberGenerator.GetInt32(3, 5)}{RandomNumberGenerator.GetInt32(0, 10000):D4}";
            if (TaxIdentifierCheck.ControlDigit(eleven) is { } digit)
            {
                return eleven + digit;
            }
        }
    }

    public static string NewBin()
    {
        while (true)
        {
            var eleven = $"{RandomNumberGenerator.GetInt32(0, 26):D2}{RandomNumberGenerator.GetInt32(1, 13):D2}40{RandomNumberGenerator.GetInt32(0, 100000):D5}";
            if (TaxIdentifierCheck.ControlDigit(eleven) is { } digit)
            {
                return eleven + digit;
            }
        }
    }

    public static LedgerAccountId Cash(Currency currency = Currency.KZT) => LedgerAccountId.ForBank(BankAccount.Cash, currency);

    public static LedgerAccountId Settlement(Currency currency = Currency.KZT) => LedgerAccountId.ForBank(BankAccount.InterbankSettlement, currency);

    public static LedgerAccountId Income(Currency currency = Currency.KZT) => LedgerAccountId.ForBank(BankAccount.CommissionIncome, currency);

    public static LedgerTransaction CashIn(string id, LedgerAccountId account, decimal amount, Currency currency = Currency.KZT) =>
        new(id, "cashIn", [new LedgerLeg(Cash(currency), -amount, currency), new LedgerLeg(account, amount, currency)]);

    /// <summary>A payment to another bank with the bank's commission: debit amount + fee; credit settlement and income.</summary>
    public static LedgerTransaction Payment(string id, LedgerAccountId payer, decimal amount, decimal fee = 0m, Currency currency = Currency.KZT)
    {
        List<LedgerLeg> legs =
        [
            new(payer, -amount, currency) { Purpose = "payment", Counterparty = new Counterparty("Beneficiary LLP", "KZ86125KZT5004100100", "000740000728", "KCJBKZKX") },
            new(Settlement(currency), amount, currency),
        ];
        if (fee > 0m)
        {
            legs.Add(new(payer, -fee, currency) { Purpose = "commission" });
            legs.Add(new(Income(currency), fee, currency));
        }

        return new LedgerTransaction(id, "payment", legs);
    }
}

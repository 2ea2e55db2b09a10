using System.Buffers;

namespace BusinessApi.Accounts.Ledger;

/// <summary>Checks on a transaction before it is posted; pure.</summary>
public static class LedgerRules
{
    public const int MaxLegs = 20;
    public const int MaxIdLength = 160;

    private static readonly SearchValues<char> IdCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    /// <summary>Ids of transactions, holds and restrictions: 1–160 of <c>A-Za-z0-9._:-</c> (safe as storage keys).</summary>
    public static bool IsValidId(string? id) =>
        id is { Length: > 0 and <= MaxIdLength } && !id.AsSpan().ContainsAnyExcept(IdCharacters);

    /// <summary>Why <paramref name="transaction"/> cannot be posted as it stands, or null when it is well formed.</summary>
    public static string? Problem(LedgerTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        if (!IsValidId(transaction.Id))
        {
            return "the id must be 1-160 of A-Za-z0-9._:-";
        }

        if (transaction.HoldId is not null && !IsValidId(transaction.HoldId))
        {
            return "the hold id must be 1-160 of A-Za-z0-9._:-";
        }

        if (transaction.Legs.Count is < 2 or > MaxLegs)
        {
            return $"a transaction has 2 to {MaxLegs} legs";
        }

        foreach (var leg in transaction.Legs)
        {
            if (leg.Account == default)
            {
                return "every leg needs an account";
            }

            if (leg.Amount == 0m || !Money.HasValidScale(leg.Amount, leg.Currency))
            {
                return $"leg amounts are non-zero and in whole minor units of {leg.Currency}";
            }
        }

        foreach (var currency in transaction.Legs.GroupBy(l => l.Currency))
        {
            if (currency.Sum(l => l.Amount) != 0m)
            {
                return $"the {currency.Key} legs do not balance";
            }
        }

        if (transaction.Legs.Where(l => !l.Account.IsBank && l.Amount < 0).Select(l => l.Account).Distinct().Count() > 1)
        {
            return "at most one customer account may be debited by one transaction";
        }

        return null;
    }

    /// <summary>
    /// The account whose write commits the transaction: the debited customer account (its funds are
    /// checked in that same write), else the first customer account, else the first leg's account.
    /// </summary>
    public static LedgerAccountId PrimaryAccount(LedgerTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return transaction.Legs.FirstOrDefault(l => !l.Account.IsBank && l.Amount < 0)?.Account
            ?? transaction.Legs.FirstOrDefault(l => !l.Account.IsBank)?.Account
            ?? transaction.Legs[0].Account;
    }
}

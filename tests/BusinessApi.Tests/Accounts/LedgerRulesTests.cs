using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using CsCheck;

namespace BusinessApi.Tests.Accounts;

/// <summary>The ledger's pure rules: what a debit may do, and which transactions are well formed.</summary>
public sealed class LedgerRulesTests
{
    private static readonly LedgerAccountId Customer = LedgerAccountId.ForIban(BankData.NewIban());

    private static AccountState Account(decimal balance, decimal held = 0m, decimal arrested = 0m, int fullArrests = 0, int suspensions = 0) => new()
    {
        Id = Customer,
        Kind = LedgerAccountKind.Customer,
        Currency = Currency.KZT,
        Balance = balance,
        Held = held,
        Arrested = arrested,
        FullArrests = fullArrests,
        Suspensions = suspensions,
    };

    [Theory]
    [InlineData(1000, 0, 0, 1000)]
    [InlineData(1000, 300, 0, 700)]
    [InlineData(1000, 300, 200, 500)]
    [InlineData(1000, 0, 5000, 0)]
    public void Available_IsBalanceLessHoldsAndArrests_NeverNegative(decimal balance, decimal held, decimal arrested, decimal available) =>
        Assert.Equal(available, Account(balance, held, arrested).Available);

    [Fact]
    public void Available_WhileDebitsBlocked_IsZero()
    {
        Assert.Equal(0m, Account(1000m, fullArrests: 1).Available);
        Assert.Equal(0m, Account(1000m, suspensions: 1).Available);
    }

    [Fact]
    public void CheckDebit_WithinAvailable_IsAllowed_ToTheLastTiyn() => Assert.Null(Account(100.01m, held: 0.01m).CheckDebit(100m));

    [Fact]
    public void CheckDebit_OneTiynOver_IsInsufficientFunds() => Assert.Equal(LedgerRefusal.InsufficientFunds, Account(100m).CheckDebit(100.01m));

    [Fact]
    public void CheckDebit_WhenOnlyTheArrestStandsInTheWay_IsAccountRestricted() =>
        Assert.Equal(LedgerRefusal.AccountRestricted, Account(1000m, arrested: 600m).CheckDebit(500m));

    [Fact]
    public void CheckDebit_WhenMoneyIsShortEvenWithoutTheArrest_IsInsufficientFunds() =>
        Assert.Equal(LedgerRefusal.InsufficientFunds, Account(1000m, arrested: 600m).CheckDebit(1500m));

    [Fact]
    public void CheckDebit_UnderSuspensionOrFullArrest_IsAccountRestricted_EvenForOneTiyn()
    {
        Assert.Equal(LedgerRefusal.AccountRestricted, Account(1000m, suspensions: 1).CheckDebit(0.01m));
        Assert.Equal(LedgerRefusal.AccountRestricted, Account(1000m, fullArrests: 1).CheckDebit(0.01m));
    }

    [Fact]
    public void CheckDebit_OnClosedAccount_IsAccountClosed() =>
        Assert.Equal(LedgerRefusal.AccountClosed, (Account(1000m) with { Status = AccountStatus.Closed }).CheckDebit(1m));

    [Fact]
    public void CheckDebit_OnTheBanksOwnAccount_IsNeverLimited() =>
        Assert.Null(AccountState.NewBankAccount(BankData.Cash(), Currency.KZT, default).CheckDebit(1_000_000m));

    [Fact]
    public void Book_KeepsRunningTotals_AndNeverGoesBackInDays()
    {
        var day = new DateOnly(2026, 11, 25);
        var state = Account(0m).Book(100m, day).Book(-30m, day.AddDays(-1));

        Assert.Equal(70m, state.Balance);
        Assert.Equal(30m, state.TotalDebits);
        Assert.Equal(100m, state.TotalCredits);
        Assert.Equal(2, state.Sequence);
        Assert.Equal(day, state.LastDay);
    }

    [Fact]
    public void Restrictions_AddThenLift_RestoreTheHead()
    {
        var arrest = new Restriction("r1", RestrictionKind.Arrest, 250m, "order 1", default, "op");
        var everything = new Restriction("r2", RestrictionKind.Arrest, null, "order 2", default, "op");
        var suspension = new Restriction("r3", RestrictionKind.DebitSuspension, null, "order 3", default, "op");
        var start = Account(1000m);

        var restricted = start.WithRestriction(arrest, +1).WithRestriction(everything, +1).WithRestriction(suspension, +1);
        var lifted = restricted.WithRestriction(arrest, -1).WithRestriction(everything, -1).WithRestriction(suspension, -1);

        Assert.Equal((250m, 1, 1), (restricted.Arrested, restricted.FullArrests, restricted.Suspensions));
        Assert.Equal(start, lifted);
        Assert.False(arrest.BlocksDebits);
        Assert.True(everything.BlocksDebits);
        Assert.True(suspension.BlocksDebits);
    }

    [Fact]
    public void Problem_OfAWellFormedPaymentWithCommission_IsNull() =>
        Assert.Null(LedgerRules.Problem(BankData.Payment("pay:1", Customer, 150_000m, 250m)));

    [Theory]
    [InlineData("unbalanced")]
    [InlineData("zero")]
    [InlineData("fraction")]
    [InlineData("one leg")]
    [InlineData("bad id")]
    [InlineData("two payers")]
    [InlineData("mixed currencies")]
    public void Problem_OfAMalformedTransaction_IsNamed(string flaw)
    {
        var other = LedgerAccountId.ForIban(BankData.NewIban());
        var transaction = flaw switch
        {
            "unbalanced" => new LedgerTransaction("t1", "x", [new(Customer, -10m, Currency.KZT), new(BankData.Settlement(), 9.99m, Currency.KZT)]),
            "zero" => new LedgerTransaction("t1", "x", [new(Customer, 0m, Currency.KZT), new(BankData.Settlement(), 0m, Currency.KZT)]),
            "fraction" => new LedgerTransaction("t1", "x", [new(Customer, -0.001m, Currency.KZT), new(BankData.Settlement(), 0.001m, Currency.KZT)]),
            "one leg" => new LedgerTransaction("t1", "x", [new(Customer, 0.01m, Currency.KZT)]),
            "bad id" => BankData.Payment("pay/1", Customer, 10m),
            "two payers" => new LedgerTransaction("t1", "x", [new(Customer, -10m, Currency.KZT), new(other, -10m, Currency.KZT), new(BankData.Settlement(), 20m, Currency.KZT)]),
            _ => new LedgerTransaction("t1", "x", [new(Customer, -10m, Currency.KZT), new(BankData.Settlement(Currency.USD), 10m, Currency.USD)]),
        };

        Assert.NotNull(LedgerRules.Problem(transaction));
    }

    [Fact]
    public void PrimaryAccount_IsTheDebitedCustomerAccount_ElseTheCreditedOne()
    {
        Assert.Equal(Customer, LedgerRules.PrimaryAccount(BankData.Payment("p", Customer, 10m, 1m)));
        Assert.Equal(Customer, LedgerRules.PrimaryAccount(BankData.CashIn("c", Customer, 10m)));
    }

    [Fact]
    public void Problem_RandomBalancedTransactions_AreAccepted_AndAnyOneTiynChangeIsCaught()
    {
        var legs = Gen.Int[1, 1_000_000_00].Select(minor => minor / 100m).Array[1, 8];
        legs.Sample(amounts =>
        {
            var total = amounts.Sum();
            var transaction = new LedgerTransaction("p", "x",
            [
                new(Customer, -total, Currency.KZT),
                .. amounts.Select((a, i) => new LedgerLeg(i % 2 == 0 ? BankData.Settlement() : BankData.Income(), a, Currency.KZT)),
            ]);
            Assert.Null(LedgerRules.Problem(transaction));

            var tampered = transaction with { Legs = [.. transaction.Legs.Select((l, i) => i == 1 ? l with { Amount = l.Amount + 0.01m } : l)] };
            Assert.NotNull(LedgerRules.Problem(tampered));
        });
    }

    [Fact]
    public void LedgerAccountId_ForIban_HidesTheIban_AndRoundTrips()
    {
        var iban = BankData.NewIban();
        var id = LedgerAccountId.ForIban(iban);

        Assert.DoesNotContain(iban.Value[4..], id.Value, StringComparison.Ordinal);
        Assert.True(LedgerAccountId.TryParse(id.Value, out var parsed));
        Assert.Equal(id, parsed);
        Assert.True(LedgerAccountId.TryParse("bank-interbank-settlement-usd", out var bank));
        Assert.True(bank.TryGetBankAccount(out var purpose, out var currency));
        Assert.Equal((BankAccount.InterbankSettlement, Currency.USD), (purpose, currency));
        Assert.False(LedgerAccountId.TryParse("bank-vault-kzt", out _));
        Assert.False(LedgerAccountId.TryParse("KZ86125KZT5004100100", out _));
    }
}

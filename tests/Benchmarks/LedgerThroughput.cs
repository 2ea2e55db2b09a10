using System.Globalization;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Benchmarks;

/// <summary>
/// Ledger postings through the real <see cref="Ledger"/> on Azurite. Each posting is a payment to
/// another bank with the bank's commission: two debits on the customer's account (checked against its
/// available balance), a credit to interbank settlement and one to commission income. Measured spread
/// over many accounts, and all on one hot account.
/// </summary>
public sealed class LedgerThroughput(string connectionString, int accounts, TimeSpan duration)
{
    public async Task<LedgerFigures> MeasureAsync(int spreadCallers, int hotCallers, CancellationToken cancellationToken = default)
    {
        var prefix = "l" + Guid.NewGuid().ToString("N")[..10];
        var app = BusinessApi.Testing.InstrumentedApp.Create(
            [
                "--urls=http://127.0.0.1:0",
                $"--AzureWebJobsStorage={connectionString}",
                $"--Storage:TablePrefix={prefix}",
                "--Logging:LogLevel:Default=Warning",
                $"--Operations:ApiKeys={new string('b', 40)}",
                "--Operations:AllowStaticKeys=true", // the benchmarks act as the break-glass operator
                "--Operations:FourEyes=false",
                "--Timers:ledger-outbox:Schedule=",
            ],
            includeLocalSettings: false);
        await app.StartAsync(cancellationToken);
        try
        {
            var ledger = app.Services.GetRequiredService<Ledger>();
            var directory = app.Services.GetRequiredService<AccountDirectory>();
            var monitor = app.Services.GetRequiredService<StorageCallMonitor>();
            var today = KazakhstanTime.LocalDate(DateTimeOffset.UtcNow);

            var ids = new LedgerAccountId[accounts];
            await Parallel.ForEachAsync(Enumerable.Range(0, accounts), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var bban = "998" + i.ToString("D13", CultureInfo.InvariantCulture);
                var iban = Iban.Parse("KZ" + Iban.CheckDigitsFor(bban) + bban);
                var (_, state) = await directory.OpenAsync("cus_00000000000000000001", iban, Currency.KZT, today, ct);
                ids[i] = state.Id;
                await ledger.PostAsync(CashIn($"fund-{i}", state.Id, 1_000_000_000m), ct);
            });

            var sequence = 0L;
            var callsBefore = monitor.Calls;
            var spread = await Load.RunAsync("postings over " + accounts.ToString("N0", CultureInfo.InvariantCulture) + " accounts", "postings/s", spreadCallers, duration, async (worker, _) =>
            {
                var n = Interlocked.Increment(ref sequence);
                var result = await ledger.PostAsync(Payment($"s-{n}", ids[Random.Shared.Next(ids.Length)]), cancellationToken);
                return result.Outcome == PostingOutcome.Posted ? 1 : 0;
            }, cancellationToken);
            var spreadCalls = monitor.Calls - callsBefore;

            var hotAccount = ids[0];
            callsBefore = monitor.Calls;
            var hot = await Load.RunAsync("debits on one hot account", "postings/s", hotCallers, duration, async (worker, _) =>
            {
                var n = Interlocked.Increment(ref sequence);
                var result = await ledger.PostAsync(Payment($"h-{n}", hotAccount), cancellationToken);
                return result.Outcome == PostingOutcome.Posted ? 1 : 0;
            }, cancellationToken);
            var hotCalls = monitor.Calls - callsBefore;

            var balanced = (await app.Services.GetRequiredService<LedgerReports>().TrialBalanceAsync(cancellationToken)).All(l => l.Balanced && l.InTransit == 0m);
            return new LedgerFigures(spread, (double)spreadCalls / Math.Max(1, spread.Operations), hot, (double)hotCalls / Math.Max(1, hot.Operations), balanced);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    private static LedgerTransaction CashIn(string id, LedgerAccountId account, decimal amount) => new(id, "cashIn",
    [
        new LedgerLeg(LedgerAccountId.ForBank(BankAccount.Cash, Currency.KZT), -amount, Currency.KZT),
        new LedgerLeg(account, amount, Currency.KZT),
    ]);

    private static LedgerTransaction Payment(string id, LedgerAccountId payer) => new(id, "payment",
    [
        new LedgerLeg(payer, -150.00m, Currency.KZT) { Purpose = "payment", Counterparty = new Counterparty("Beneficiary LLP", "KZ86125KZT5004100100", "000740000728", "KCJBKZKX") },
        new LedgerLeg(LedgerAccountId.ForBank(BankAccount.InterbankSettlement, Currency.KZT), 150.00m, Currency.KZT),
        new LedgerLeg(payer, -0.35m, Currency.KZT) { Purpose = "commission" },
        new LedgerLeg(LedgerAccountId.ForBank(BankAccount.CommissionIncome, Currency.KZT), 0.35m, Currency.KZT),
    ]);
}

public sealed record LedgerFigures(Measurement Spread, double SpreadCallsPerPosting, Measurement Hot, double HotCallsPerPosting, bool BooksBalanced);

using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

public enum FeeStatus
{
    /// <summary>Not (wholly) paid: the rest is owed and is debited as money arrives (clause 5.2.9).</summary>
    Owed,

    Paid,
}

/// <summary>A fee the customer owes the bank, and how much of it was debited so far; its id names what it is for (e.g. <c>api-support|2026-12</c>).</summary>
public sealed record FeeDebt(string FeeId, string CustomerId, decimal Amount, Currency Currency, string Purpose, DateTimeOffset CreatedAt)
{
    public decimal Paid { get; init; }

    /// <summary>How many debits paid it so far: the next debit's transaction id is numbered after them.</summary>
    public int Debits { get; init; }

    public FeeStatus Status => Paid >= Amount ? FeeStatus.Paid : FeeStatus.Owed;

    public decimal Owed => Amount - Paid;
}

/// <summary>
/// Fees from the terms (clauses 3.9 and 5.2.9): a fee is recorded once under its id (table <c>FeeDebts</c>, partition the
/// customer, rows <c>d|{feeId}</c>, which sort oldest period first), then debited directly from the customer's accounts in
/// its currency, as much as each account's available money allows — never past a hold, an arrest or a debit suspension,
/// which the ledger judges in the same write. What is left stays owed, and is debited, oldest fee first, when money
/// arrives: right after a cash-in, and by the <c>fee-debts</c> job every few minutes. Every debit is a ledger transaction
/// <c>fee:{customer}:{feeId}:{n}</c> (n counts the fee's debits), so a step repeated after a crash debits once.
/// </summary>
public sealed partial class FeeCollector(
    StorageResources storage, AccountDirectory accounts, Ledger ledger, NoticeChannel notices, AuditJournal audit, IOptions<BankOptions> bank,
    TimeProvider time, ILogger<FeeCollector> logger)
{
    public const string TableName = "FeeDebts";
    private const string OpenPartition = "open";

    private readonly TableClient _table = storage.Table(TableName);

    /// <summary>Records the fee once (a second call with the same id changes nothing) and debits what the accounts allow now.</summary>
    public async Task<FeeDebt> ChargeAsync(string customerId, string feeId, Money amount, string purpose, CancellationToken cancellationToken)
    {
        var debt = new FeeDebt(feeId, customerId, amount.Amount, amount.Currency, purpose, time.GetUtcNow());
        try
        {
            // The open marker first: a fee recorded is always found by the settlement job, even if this step stops here.
            await _table.UpsertEntityAsync(new TableEntity(OpenPartition, customerId), TableUpdateMode.Replace, cancellationToken);
            await _table.AddEntityAsync(ToEntity(debt), cancellationToken);
            await audit.AppendAsync(new AuditRecord(customerId, "system", "fee.charged", AuditOutcome.Success)
            {
                Target = "fees/" + feeId,
                Details = new Dictionary<string, string> { ["amount"] = amount.ToString(), ["purpose"] = purpose },
            }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // charged before (a rerun of the job, another instance, a restart): settle what is still owed, nothing more
        }

        await SettleAsync(customerId, cancellationToken);
        var now = (await GetAsync(customerId, feeId, cancellationToken))!;
        if (now.Debits == 0)
        {
            // Nothing could be debited yet: the customer learns the fee is owed (its id makes a rerun tell once).
            await notices.AddAsync(new NoticeRequest(customerId, NoticeKinds.FeeOwed, $"fee:{customerId}:{feeId}:owed", time.GetUtcNow(), null,
                [purpose, Money.Zero(amount.Currency).ToString(), "—", amount.ToString()]), cancellationToken);
        }

        return now;
    }

    public async Task<FeeDebt?> GetAsync(string customerId, string feeId, CancellationToken cancellationToken)
    {
        var row = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, Row(feeId), cancellationToken: cancellationToken);
        return row.HasValue ? FromEntity(row.Value!) : null;
    }

    /// <summary>The customer's fees, oldest first.</summary>
    public async Task<IReadOnlyList<FeeDebt>> ListAsync(string customerId, CancellationToken cancellationToken)
    {
        var list = new List<FeeDebt>();
        await foreach (var row in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey ge {"d|"} and RowKey lt {"d}"}"),
            cancellationToken: cancellationToken))
        {
            list.Add(FromEntity(row));
        }

        return list;
    }

    /// <summary>Customers with fees still owed (the settlement job's work list).</summary>
    public async IAsyncEnumerable<string> OwingCustomersAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {OpenPartition}"), select: ["RowKey"],
            cancellationToken: cancellationToken))
        {
            yield return row.RowKey;
        }
    }

    /// <summary>Debits what is owed, oldest fee first, as far as the accounts' available money goes; answers what is still owed.</summary>
    public async Task<decimal> SettleAsync(string customerId, CancellationToken cancellationToken)
    {
        var owed = 0m;
        foreach (var debt in await ListAsync(customerId, cancellationToken))
        {
            var current = debt;
            if (current.Status == FeeStatus.Paid)
            {
                continue;
            }

            foreach (var view in await accounts.ListViewsAsync(customerId, cancellationToken))
            {
                if (current.Status == FeeStatus.Paid)
                {
                    break;
                }

                if (view.State.Currency != current.Currency || view.State.Available <= 0 || view.State.Iban is null)
                {
                    continue;
                }

                current = await DebitAsync(current, view.State, cancellationToken) ?? current;
            }

            owed += current.Owed;
            if (current.Status == FeeStatus.Owed)
            {
                break; // in order: a later fee waits until the older one is paid
            }
        }

        if (owed == 0m)
        {
            await _table.DeleteEntityAsync(OpenPartition, customerId, ETag.All, cancellationToken);
        }

        return owed;
    }

    /// <summary>One debit towards <paramref name="debt"/> from <paramref name="account"/>: posted, then recorded on the fee (ETag-checked); null when nothing moved.</summary>
    private async Task<FeeDebt?> DebitAsync(FeeDebt debt, AccountState account, CancellationToken cancellationToken)
    {
        var id = string.Create(CultureInfo.InvariantCulture, $"fee:{debt.CustomerId}:{debt.FeeId.Replace('|', ':')}:{debt.Debits + 1}");
        var amount = Math.Min(debt.Owed, account.Available);
        var owner = bank.Value;
        var transaction = new LedgerTransaction(id, "fee",
        [
            new LedgerLeg(account.Id, -amount, debt.Currency)
            {
                Counterparty = new Counterparty(owner.Name, null, null, owner.Bic),
                Purpose = debt.Purpose,
                PurposeCode = Accounts.Statements.KnownPurposeCodes.BankCommission,
                DocumentNumber = debt.FeeId,
            },
            new LedgerLeg(LedgerAccountId.ForBank(BankAccount.CommissionIncome, debt.Currency), amount, debt.Currency),
        ])
        {
            Reference = debt.FeeId,
            ValueDate = KazakhstanTime.LocalDate(time.GetUtcNow()),
        };
        var result = await ledger.PostAsync(transaction, cancellationToken);
        if (!result.IsPosted)
        {
            return null; // refused (restricted, or the money went meanwhile): owed still
        }

        if (result.Outcome == PostingOutcome.AlreadyPosted && await ledger.GetTransactionAsync(account.Id, id, cancellationToken) is { } stored)
        {
            amount = -stored.Transaction.Legs[0].Amount; // a debit an earlier attempt made: count what it took
        }

        var row = await _table.GetEntityAsync<TableEntity>(debt.CustomerId, Row(debt.FeeId), cancellationToken: cancellationToken);
        var fresh = FromEntity(row.Value);
        if (fresh.Debits >= debt.Debits + 1)
        {
            return fresh; // another settler recorded this debit
        }

        var paid = fresh with { Paid = fresh.Paid + amount, Debits = fresh.Debits + 1 };
        try
        {
            await _table.UpdateEntityAsync(ToEntity(paid), row.Value.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return null; // another settler moved it first; the next run judges afresh
        }

        var kind = paid.Status == FeeStatus.Paid ? NoticeKinds.FeeDebited : NoticeKinds.FeeOwed;
        await notices.AddAsync(new NoticeRequest(debt.CustomerId, kind, $"{id}:{kind}", time.GetUtcNow(), null,
            [debt.Purpose, Money.Round(amount, debt.Currency).ToString(), account.Iban!, Money.Round(paid.Owed, debt.Currency).ToString()]), cancellationToken);
        LogDebited(logger, debt.FeeId, paid.Debits);
        return paid;
    }

    private static string Row(string feeId) => "d|" + feeId;

    private static TableEntity ToEntity(FeeDebt debt) => new(debt.CustomerId, Row(debt.FeeId))
    {
        ["Amount"] = debt.Amount.ToString(CultureInfo.InvariantCulture),
        ["Currency"] = debt.Currency.ToString(),
        ["Purpose"] = debt.Purpose,
        ["CreatedAt"] = debt.CreatedAt,
        ["Paid"] = debt.Paid.ToString(CultureInfo.InvariantCulture),
        ["Debits"] = debt.Debits,
    };

    private static FeeDebt FromEntity(TableEntity row) =>
        new(row.RowKey[2..], row.PartitionKey, decimal.Parse(row.GetString("Amount")!, CultureInfo.InvariantCulture), Enum.Parse<Currency>(row.GetString("Currency")!),
            row.GetString("Purpose") ?? "", row.GetDateTimeOffset("CreatedAt") ?? default)
        {
            Paid = decimal.Parse(row.GetString("Paid") ?? "0", CultureInfo.InvariantCulture),
            Debits = row.GetInt32("Debits") ?? 0,
        };

    [LoggerMessage(Level = LogLevel.Information, Message = "Fee {FeeId}: debit {Debits} recorded")]
    private static partial void LogDebited(ILogger logger, string feeId, int debits);
}

/// <summary>
/// The monthly fee for the API's technical support (clause 3.9), when the tariffs set one: on the 1st of each month
/// (local) every customer not terminated is charged once for the month, under the fee id <c>api-support|yyyy-MM</c>; a
/// rerun, a catch-up after downtime or a second instance finds the fee recorded and charges nothing more.
/// </summary>
public sealed partial class ApiSupportFeeJob(TariffStore tariffs, CustomerStore customers, FeeCollector fees, TimeProvider time, ILogger<ApiSupportFeeJob> logger)
    : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:api-support-fee:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "api-support-fee";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 0 3 1 * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        if ((await tariffs.GetAsync(cancellationToken)).ApiSupportFee is not { } fee || !Currencies.TryParse(fee.Currency, out var currency))
        {
            return;
        }

        var period = KazakhstanTime.LocalDate(run.ScheduledFor);
        var month = period.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var charged = 0;
        await foreach (var customer in customers.ListAsync(cancellationToken))
        {
            if (customer.StatusAt(time.GetUtcNow()) == CustomerStatus.Terminated || KazakhstanTime.LocalDate(customer.CreatedAt) > period.AddMonths(1).AddDays(-period.Day))
            {
                continue; // terminated, or connected after the month ended
            }

            await fees.ChargeAsync(customer.CustomerId, "api-support|" + month, new Money(fee.Amount, currency),
                $"Вознаграждение за техническое сопровождение API за {month}", cancellationToken);
            charged++;
        }

        LogRun(logger, month, charged);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API support fee for {Month}: {Customers} customers charged or found charged")]
    private static partial void LogRun(ILogger logger, string month, int customers);
}

/// <summary>Debits fees still owed when money has arrived (clause 5.2.9), every few minutes, oldest fee first per customer.</summary>
public sealed class FeeDebtSettlementJob(FeeCollector fees) : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:fee-debts:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "fee-debts";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 */5 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        await foreach (var customerId in fees.OwingCustomersAsync(cancellationToken))
        {
            await fees.SettleAsync(customerId, cancellationToken);
        }
    }
}

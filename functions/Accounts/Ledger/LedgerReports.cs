using Azure.Data.Tables;

namespace BusinessApi.Accounts.Ledger;

/// <summary>
/// A statement for days <c>From</c>..<c>To</c> (local): the opening and closing balances, the period's
/// debit and credit totals, and one page of entries. The figures come from the running totals each
/// entry carries, so they are exact whichever page is read and however long the period.
/// </summary>
public sealed record StatementPage(
    DateOnly From,
    DateOnly To,
    decimal OpeningBalance,
    decimal ClosingBalance,
    decimal TotalDebits,
    decimal TotalCredits,
    int? EntryCount,
    IReadOnlyList<LedgerEntry> Entries,
    string? Continuation)
{
    /// <summary>The sequence number of the period's last entry as of these figures: entries booked after them belong to a later statement.</summary>
    public long LastSequence { get; init; }
}

/// <summary>Per currency: the sum of all balances and of legs still on their way (outbox); they cancel out when the books balance.</summary>
public sealed record TrialBalanceLine(Currency Currency, decimal Balances, decimal InTransit, int Accounts)
{
    public bool Balanced => Balances + InTransit == 0m;
}

/// <summary>An account's entries checked against its head: contiguous sequence, running figures, balance.</summary>
public sealed record AccountVerification(bool Consistent, long Entries, decimal EntriesSum, decimal HeadBalance, IReadOnlyList<string> Problems);

/// <summary>Reads over the ledger: statements for customers, trial balance and verification for operators.</summary>
public sealed class LedgerReports(Ledger ledger)
{
    private TableClient Table => ledger.Storage.Table;

    public async Task<StatementPage?> ReadStatementAsync(
        LedgerAccountId account, DateOnly from, DateOnly to, string? continuation, int pageSize, CancellationToken cancellationToken)
    {
        var end = LedgerRows.EntriesFrom(to.AddDays(1));
        var openingTask = FirstEntryFromAsync(account, LedgerRows.EntriesFrom(from), cancellationToken);
        var closingTask = FirstEntryFromAsync(account, end, cancellationToken);
        // A page size of 0 asks for the figures alone (a statement file streams its entries afterwards).
        var pageTask = pageSize > 0
            ? ReadEntriesAsync(account, LedgerRows.EntriesFrom(from), end, continuation, pageSize, cancellationToken)
            : Task.FromResult<(List<LedgerEntry>, string?)>(([], null));
        await Task.WhenAll(openingTask, closingTask, pageTask);

        // The head is read last, so it is at least as new as every entry read: a period reaching today closes on it.
        var head = await ledger.GetAccountAsync(account, cancellationToken);
        if (head is null)
        {
            return null;
        }

        var (opening, closing, (entries, next)) = (openingTask.Result, closingTask.Result, pageTask.Result);
        var (openingBalance, openingDebits, openingCredits) = opening is null
            ? (head.Balance, head.TotalDebits, head.TotalCredits)
            : (opening.BalanceBefore, opening.DebitsBefore, opening.CreditsBefore);
        var (closingBalance, closingDebits, closingCredits) = closing is null
            ? (head.Balance, head.TotalDebits, head.TotalCredits)
            : (closing.BalanceBefore, closing.DebitsBefore, closing.CreditsBefore);
        int? count = opening is null || opening.Day > to
            ? 0
            : (int)((closing?.Sequence ?? head.Sequence + 1) - opening.Sequence);

        return new StatementPage(from, to, openingBalance, closingBalance,
            closingDebits - openingDebits, closingCredits - openingCredits, count, entries, next)
        {
            LastSequence = (closing?.Sequence ?? head.Sequence + 1) - 1,
        };
    }

    /// <summary>
    /// The account's entries of days <paramref name="from"/>..<paramref name="to"/> in booking order, read a page at a time
    /// and handed on one by one: a statement of any length is written with the memory of one page.
    /// </summary>
    public async IAsyncEnumerable<LedgerEntry> StreamEntriesAsync(
        LedgerAccountId account, DateOnly from, DateOnly to, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {account.Value} and RowKey ge {LedgerRows.EntriesFrom(from)} and RowKey lt {LedgerRows.EntriesFrom(to.AddDays(1))}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            yield return LedgerRows.ToEntry(row);
        }
    }

    /// <summary>Sums every head and every leg still in an outbox, per currency. Reads the whole table: an operator's check, not a hot path.</summary>
    public async Task<IReadOnlyList<TrialBalanceLine>> TrialBalanceAsync(CancellationToken cancellationToken)
    {
        var balances = new Dictionary<Currency, (decimal Sum, int Count)>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {LedgerRows.Head}"), cancellationToken: cancellationToken))
        {
            var state = LedgerRows.ToState(row);
            var (sum, count) = balances.GetValueOrDefault(state.Currency);
            balances[state.Currency] = (sum + state.Balance, count + 1);
        }

        var inTransit = new Dictionary<Currency, decimal>();
        var outbox = TableClient.CreateQueryFilter($"RowKey ge {LedgerRows.OutboxStart} and RowKey lt {LedgerRows.OutboxEnd}");
        await foreach (var row in Table.QueryAsync<TableEntity>(outbox, cancellationToken: cancellationToken))
        {
            if (!LedgerAccountId.TryParse(row.PartitionKey, out var primary))
            {
                continue;
            }

            var transaction = LedgerRows.ToOutboxTransaction(row);
            foreach (var group in transaction.Legs.Where(l => l.Account != primary).GroupBy(l => l.Account))
            {
                // A leg counts as in transit until its account has booked the transaction.
                if (await ledger.Storage.ReadRowAsync(group.Key, LedgerRows.Transaction(transaction.Id), cancellationToken) is null)
                {
                    foreach (var leg in group)
                    {
                        inTransit[leg.Currency] = inTransit.GetValueOrDefault(leg.Currency) + leg.Amount;
                    }
                }
            }
        }

        return [.. balances.Keys.Union(inTransit.Keys).Order().Select(c =>
            new TrialBalanceLine(c, balances.GetValueOrDefault(c).Sum, inTransit.GetValueOrDefault(c), balances.GetValueOrDefault(c).Count))];
    }

    /// <summary>Replays an account's entries: sequence without gaps, each running figure right, and the last equal to the head.</summary>
    public async Task<AccountVerification?> VerifyAccountAsync(LedgerAccountId account, CancellationToken cancellationToken)
    {
        var head = await ledger.GetAccountAsync(account, cancellationToken);
        if (head is null)
        {
            return null;
        }

        var problems = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {account.Value} and RowKey ge {"e|"} and RowKey lt {LedgerRows.EntriesEnd}");
        long expected = 1;
        decimal balance = 0m, debits = 0m, credits = 0m;
        DateOnly? lastDay = null;
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var entry = LedgerRows.ToEntry(row);
            balance += entry.Amount;
            debits += entry.Amount < 0 ? -entry.Amount : 0m;
            credits += entry.Amount > 0 ? entry.Amount : 0m;
            if (entry.Sequence != expected)
            {
                problems.Add($"entry {entry.Sequence} found where {expected} was expected");
            }

            if (entry.BalanceAfter != balance || entry.DebitsAfter != debits || entry.CreditsAfter != credits)
            {
                problems.Add($"entry {entry.Sequence} carries running figures that do not add up");
            }

            if (lastDay is { } day && entry.Day < day)
            {
                problems.Add($"entry {entry.Sequence} goes back in days");
            }

            lastDay = entry.Day;
            expected = entry.Sequence + 1;
        }

        if (expected - 1 != head.Sequence || balance != head.Balance || debits != head.TotalDebits || credits != head.TotalCredits)
        {
            problems.Add("the head does not match its entries");
        }

        return new AccountVerification(problems.Count == 0, expected - 1, balance, head.Balance, problems);
    }

    private async Task<(List<LedgerEntry> Entries, string? Continuation)> ReadEntriesAsync(
        LedgerAccountId account, string fromKey, string endKey, string? continuation, int pageSize, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {account.Value} and RowKey ge {fromKey} and RowKey lt {endKey}");
        await foreach (var page in Table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(continuation, pageSize))
        {
            return ([.. page.Values.Select(LedgerRows.ToEntry)], page.ContinuationToken);
        }

        return ([], null);
    }

    private async Task<LedgerEntry?> FirstEntryFromAsync(LedgerAccountId account, string fromKey, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {account.Value} and RowKey ge {fromKey} and RowKey lt {LedgerRows.EntriesEnd}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1, cancellationToken: cancellationToken))
        {
            return LedgerRows.ToEntry(row);
        }

        return null;
    }
}

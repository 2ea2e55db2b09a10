using BusinessApi.Accounts.Ledger;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Accounts;

/// <summary>
/// The bank's view of accounts and of the books: any customer account by IBAN, the bank's own
/// accounts by ledger id (<c>bank-cash-kzt</c>, …), one transaction, an account's entries replayed
/// against its head, and the trial balance.
/// </summary>
public static class OperatorAccountViews
{
    /// <summary><c>GET /api/v1/ops/accounts/{iban}</c>: the customer's view plus owner and lifted restrictions.</summary>
    public static async Task<Results<Ok<OperatorAccountResponse>, ProblemResult>> GetAccountAsync(
        string iban, AccountDirectory accounts, Ledger.Ledger ledger, CancellationToken cancellationToken)
    {
        var lookup = await accounts.LookupAsync(iban, cancellationToken);
        return lookup.Found
            ? TypedResults.Ok(new OperatorAccountResponse(lookup.Account.Id.Value, lookup.Account.CustomerId,
                await InformationServices.ViewAsync(lookup.Account, ledger, includeLifted: true, cancellationToken)))
            : lookup.Problem;
    }

    /// <summary><c>GET /api/v1/ops/accounts/{iban}/statement</c>: any customer's statement.</summary>
    public static async Task<Results<Ok<StatementResponse>, ProblemResult>> GetStatementAsync(
        string iban, DateOnly? from, DateOnly? to, int? pageSize, string? continuation,
        AccountDirectory accounts, LedgerReports reports, CancellationToken cancellationToken)
    {
        if (InformationServices.CheckStatementQuery(iban, from, to, pageSize, continuation, out var parsed, out var page) is { } invalid)
        {
            return invalid;
        }

        return await accounts.FindAsync(parsed, cancellationToken) is { } state
            ? await InformationServices.StatementAsync(state, from!.Value, to!.Value, page, reports, cancellationToken)
            : ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
    }

    /// <summary><c>GET /api/v1/ops/ledger/accounts/{accountId}</c>: a ledger account by id, the bank's own included.</summary>
    public static async Task<Results<Ok<OperatorAccountResponse>, ProblemResult>> GetLedgerAccountAsync(
        string accountId, Ledger.Ledger ledger, CancellationToken cancellationToken)
    {
        if (!LedgerAccountId.TryParse(accountId, out var id))
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        var state = await ledger.GetAccountAsync(id, cancellationToken);
        if (state is null && id.TryGetBankAccount(out _, out var currency))
        {
            // The bank's accounts exist from their first entry; before it they stand at zero.
            state = AccountState.NewBankAccount(id, currency, default);
        }

        return state is null
            ? ProblemResult.For(new ApiProblem(PlatformProblems.NotFound))
            : TypedResults.Ok(new OperatorAccountResponse(id.Value, state.CustomerId, await InformationServices.ViewAsync(state, ledger, includeLifted: true, cancellationToken)));
    }

    /// <summary><c>GET /api/v1/ops/ledger/accounts/{accountId}/statement</c>.</summary>
    public static async Task<Results<Ok<StatementResponse>, ProblemResult>> GetLedgerStatementAsync(
        string accountId, DateOnly? from, DateOnly? to, int? pageSize, string? continuation,
        Ledger.Ledger ledger, LedgerReports reports, CancellationToken cancellationToken)
    {
        if (InformationServices.CheckStatementQuery(null, from, to, pageSize, continuation, out _, out var page) is { } invalid)
        {
            return invalid;
        }

        return LedgerAccountId.TryParse(accountId, out var id) && await ledger.GetAccountAsync(id, cancellationToken) is { } state
            ? await InformationServices.StatementAsync(state, from!.Value, to!.Value, page, reports, cancellationToken)
            : ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
    }

    /// <summary><c>GET /api/v1/ops/accounts/{iban}/transactions/{transactionId}</c>: a transaction as booked on that account.</summary>
    public static async Task<Results<Ok<TransactionResponse>, ProblemResult>> GetTransactionAsync(
        string iban, string transactionId, AccountDirectory accounts, Ledger.Ledger ledger, CancellationToken cancellationToken)
    {
        var lookup = await accounts.LookupAsync(iban, cancellationToken);
        if (!lookup.Found)
        {
            return lookup.Problem;
        }

        return await ledger.GetTransactionAsync(lookup.Account.Id, transactionId, cancellationToken) is { } stored
            ? TypedResults.Ok(TransactionResponse.From(stored))
            : ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
    }

    /// <summary><c>GET /api/v1/ops/accounts/{iban}/verification</c>: the entries replayed against the head.</summary>
    public static async Task<Results<Ok<AccountVerification>, ProblemResult>> VerifyAsync(
        string iban, AccountDirectory accounts, LedgerReports reports, CancellationToken cancellationToken)
    {
        var lookup = await accounts.LookupAsync(iban, cancellationToken);
        if (!lookup.Found)
        {
            return lookup.Problem;
        }

        return await reports.VerifyAccountAsync(lookup.Account.Id, cancellationToken) is { } verification
            ? TypedResults.Ok(verification)
            : ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
    }

    /// <summary><c>GET /api/v1/ops/ledger/trial-balance</c>: per currency, all balances plus legs in transit must sum to zero.</summary>
    public static async Task<Ok<TrialBalanceResponse>> TrialBalanceAsync(LedgerReports reports, CancellationToken cancellationToken)
    {
        var lines = await reports.TrialBalanceAsync(cancellationToken);
        return TypedResults.Ok(new TrialBalanceResponse(lines.All(l => l.Balanced),
            [.. lines.Select(l => new TrialBalanceLineResponse(l.Currency, AmountText.Format(l.Balances, l.Currency), AmountText.Format(l.InTransit, l.Currency), l.Accounts, l.Balanced))]));
    }
}

public sealed record OperatorAccountResponse(string LedgerAccountId, string? CustomerId, AccountResponse Account);

public sealed record TrialBalanceResponse(bool Balanced, IReadOnlyList<TrialBalanceLineResponse> Currencies);

public sealed record TrialBalanceLineResponse(Currency Currency, string Balances, string InTransit, int Accounts, bool Balanced);

public sealed record TransactionLegResponse(string LedgerAccountId, string Amount, Currency Currency, Counterparty? Counterparty, string? Purpose, string? DocumentId);

public sealed record TransactionResponse(string TransactionId, string Kind, DateTimeOffset PostedAt, string? Reference, DateOnly? ValueDate, IReadOnlyList<TransactionLegResponse> Legs)
{
    public static TransactionResponse From(StoredTransaction stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var tx = stored.Transaction;
        return new(tx.Id, tx.Kind, stored.PostedAt, tx.Reference, tx.ValueDate,
            [.. tx.Legs.Select(l => new TransactionLegResponse(l.Account.Value, AmountText.Format(l.Amount, l.Currency), l.Currency, l.Counterparty, l.Purpose, l.DocumentId))]);
    }
}

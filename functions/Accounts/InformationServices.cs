using System.Security.Claims;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Accounts;

/// <summary>
/// Information services: a customer's accounts with balances, available amounts and
/// restrictions, and statements. Balances are read from the account's head at the moment of the request.
/// </summary>
public static class InformationServices
{
    /// <summary>Five years back: the archive's horizon .</summary>
    public const int MaxPeriodDays = 1827;

    /// <summary><c>GET /api/v1/accounts</c>.</summary>
    public static async Task<Ok<IReadOnlyList<AccountResponse>>> ListAccountsAsync(
        ClaimsPrincipal user, AccountDirectory accounts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var views = await accounts.ListViewsAsync(user.CustomerId()!, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<AccountResponse>>([.. views.Where(v => user.MayAccessAccount(v.State.Iban ?? "")).Select(v => AccountResponse.From(v.State, v.Restrictions))]);
    }

    /// <summary><c>GET /api/v1/accounts/{iban}</c>: 404 for an IBAN that is not the caller's, whether or not it exists.</summary>
    public static async Task<Results<Ok<AccountResponse>, ProblemResult>> GetAccountAsync(
        string iban, ClaimsPrincipal user, AccountDirectory accounts, CancellationToken cancellationToken)
    {
        if (!Iban.TryParse(iban, out var parsed))
        {
            return InvalidIban();
        }

        return await accounts.FindViewForCallerAsync(parsed, user, cancellationToken) is { } view
            ? TypedResults.Ok(AccountResponse.From(view.State, view.Restrictions))
            : ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
    }

    /// <summary><c>GET /api/v1/accounts/{iban}/statement?from&amp;to&amp;pageSize&amp;continuation</c>.</summary>
    public static async Task<Results<Ok<StatementResponse>, ProblemResult>> GetStatementAsync(
        string iban,
        DateOnly? from,
        DateOnly? to,
        int? pageSize,
        string? continuation,
        ClaimsPrincipal user,
        AccountDirectory accounts,
        LedgerReports reports,
        CancellationToken cancellationToken)
    {
        if (CheckStatementQuery(iban, from, to, pageSize, continuation, out var parsed, out var page) is { } invalid)
        {
            return invalid;
        }

        var state = await accounts.FindForCallerAsync(parsed, user, cancellationToken);
        return state is null
            ? ProblemResult.For(new ApiProblem(PlatformProblems.NotFound))
            : await StatementAsync(state, from!.Value, to!.Value, page, reports, cancellationToken);
    }

    internal static ProblemResult? CheckStatementQuery(
        string? iban, DateOnly? from, DateOnly? to, int? pageSize, string? continuation, out Iban parsed, out (int Size, string? Token) page)
    {
        var errors = new ValidationErrors();
        parsed = default;
        if (iban is not null && !Iban.TryParse(iban, out parsed))
        {
            errors.Add("iban", "invalid_iban");
        }

        errors.Required("from", from);
        errors.Required("to", to);
        if (from is { } start && to is { } end)
        {
            if (start > end)
            {
                errors.Add("from", "invalid_period");
            }
            else if (end.DayNumber - start.DayNumber + 1 > MaxPeriodDays)
            {
                errors.Add("to", "period_too_long", MaxPeriodDays);
            }
        }

        page = Paging.Read(errors, pageSize, continuation);
        return errors.Count > 0 ? ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] }) : null;
    }

    internal static async Task<Results<Ok<StatementResponse>, ProblemResult>> StatementAsync(
        AccountState state, DateOnly from, DateOnly to, (int Size, string? Token) page, LedgerReports reports, CancellationToken cancellationToken)
    {
        var statement = await reports.ReadStatementAsync(state.Id, from, to, page.Token, page.Size, cancellationToken);
        if (statement is null)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        var currency = state.Currency;
        return TypedResults.Ok(new StatementResponse(
            state.Iban ?? state.Id.Value,
            currency,
            statement.From,
            statement.To,
            AmountText.Format(statement.OpeningBalance, currency),
            AmountText.Format(statement.ClosingBalance, currency),
            AmountText.Format(statement.TotalDebits, currency),
            AmountText.Format(statement.TotalCredits, currency),
            statement.EntryCount,
            [.. statement.Entries.Select(e => StatementEntryResponse.From(e, currency))],
            Paging.Continuation(statement.Continuation)));
    }

    internal static async Task<AccountResponse> ViewAsync(AccountState state, Ledger.Ledger ledger, bool includeLifted, CancellationToken cancellationToken) =>
        AccountResponse.From(state, await ledger.ListRestrictionsAsync(state.Id, includeLifted, cancellationToken));

    internal static ProblemResult InvalidIban() =>
        ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("iban", "invalid_iban")] });

    internal static DateOnly Today(TimeProvider time) => KazakhstanTime.LocalDate(time.GetUtcNow());
}

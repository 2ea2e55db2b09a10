using System.Security.Claims;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Accounts.Statements;
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

    /// <summary>
    /// <c>GET /api/v1/accounts/{iban}/statement?from&amp;to&amp;format&amp;pageSize&amp;continuation</c>: paged JSON by default; with
    /// <c>format=mt940|camt053|1c</c> the whole period as one file, streamed (paging does not apply).
    /// </summary>
    public static async Task<Results<Ok<StatementResponse>, StatementFileResult, ProblemResult>> GetStatementAsync(
        string iban,
        DateOnly? from,
        DateOnly? to,
        string? format,
        int? pageSize,
        string? continuation,
        ClaimsPrincipal user,
        AccountDirectory accounts,
        LedgerReports reports,
        CustomerStore customers,
        Microsoft.Extensions.Options.IOptions<BankOptions> bank,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (CheckStatementQuery(iban, from, to, pageSize, continuation, out var parsed, out var page, format) is { } invalid)
        {
            return invalid;
        }

        var state = await accounts.FindForCallerAsync(parsed, user, cancellationToken);
        if (state is null)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        if (StatementFormats.Writer(format) is { } writer)
        {
            return await FileAsync(writer, state, from!.Value, to!.Value, reports, customers, bank.Value, time, cancellationToken);
        }

        return (await StatementAsync(state, from!.Value, to!.Value, page, reports, cancellationToken)).Result switch
        {
            Ok<StatementResponse> ok => ok,
            ProblemResult problem => problem,
            var other => throw new InvalidOperationException($"Unexpected statement result {other}."),
        };
    }

    /// <summary>A statement file: the period's figures first, then the entries streamed up to the last one those figures count.</summary>
    internal static async Task<Results<Ok<StatementResponse>, StatementFileResult, ProblemResult>> FileAsync(
        IStatementWriter writer, AccountState state, DateOnly from, DateOnly to, LedgerReports reports, CustomerStore customers, BankOptions bank,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var figures = await reports.ReadStatementAsync(state.Id, from, to, null, pageSize: 0, cancellationToken);
        if (figures is null)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        var owner = state.CustomerId is { } customerId ? await customers.GetCachedAsync(customerId, cancellationToken) : null;
        var header = new StatementHeader(state.Iban ?? state.Id.Value, state.Currency, owner?.Name ?? bank.Name, owner?.Bin ?? "", bank.Bic, bank.Name,
            from, to, figures.OpeningBalance, figures.ClosingBalance, figures.TotalDebits, figures.TotalCredits, figures.EntryCount ?? 0, time.GetUtcNow());
        return new StatementFileResult(writer, header, state.Id, figures.LastSequence, reports);
    }

    internal static ProblemResult? CheckStatementQuery(
        string? iban, DateOnly? from, DateOnly? to, int? pageSize, string? continuation, out Iban parsed, out (int Size, string? Token) page, string? format = null)
    {
        var errors = new ValidationErrors();
        if (format is not null && !StatementFormats.All.Contains(format))
        {
            errors.Add("format", "statement_format_unknown", string.Join(", ", StatementFormats.All));
        }

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

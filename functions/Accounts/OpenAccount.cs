using System.Security.Claims;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BusinessApi.Accounts;

/// <summary><c>POST /api/v1/ops/customers/{customerId}/accounts</c>: opens an account under one of the bank's IBANs.</summary>
public static class OpenAccount
{
    public static async Task<Results<Created<AccountResponse>, Ok<AccountResponse>, ProblemResult>> HandleAsync(
        string customerId,
        OpenAccountRequest request,
        HttpContext httpContext,
        CustomerStore customers,
        AccountDirectory accounts,
        AuditJournal audit,
        IOptions<BankOptions> bank,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(httpContext);
        var iban = Iban.Parse(request.Iban!);
        if (iban.BankCode != bank.Value.IbanCode)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("iban", "foreign_iban", [bank.Value.IbanCode])] });
        }

        var customer = await customers.GetAsync(customerId, cancellationToken);
        if (customer is null)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        if (customer.Status != CustomerStatus.Active)
        {
            return ProblemResult.For(new ApiProblem(CustomerProblems.CustomerNotActive));
        }

        var currency = Currencies.TryParse(request.Currency, out var parsedCurrency) ? parsedCurrency : throw new InvalidOperationException("Validated before.");
        var (created, state) = await accounts.OpenAsync(customer.CustomerId, iban, currency, KazakhstanTime.LocalDate(time.GetUtcNow()), cancellationToken);
        if (state.CustomerId != customer.CustomerId || state.Currency != currency)
        {
            return ProblemResult.For(new ApiProblem(AccountProblems.AccountExists));
        }

        var response = AccountResponse.From(state, []);
        if (!created)
        {
            // The same opening again (a retry): the account is as asked.
            return TypedResults.Ok(response);
        }

        await audit.AppendAsync(new AuditRecord(customer.CustomerId, httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "operator", "account.opened", AuditOutcome.Success)
        {
            Target = $"accounts/{iban.Value}",
            CorrelationId = httpContext.TraceIdentifier,
            Details = new Dictionary<string, string> { ["currency"] = currency.ToString() },
        }, cancellationToken);
        return TypedResults.Created($"/api/v1/ops/accounts/{iban.Value}", response);
    }
}

/// <param name="Iban">The account's IBAN under the bank's code (20 characters, KZ).</param>
/// <param name="Currency">KZT, USD, EUR, RUB or CNY.</param>
public sealed record OpenAccountRequest(string? Iban, string? Currency) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("iban", Iban) && !Accounts.Iban.TryParse(Iban, out _))
        {
            errors.Add("iban", "invalid_iban");
        }

        if (errors.Required("currency", Currency) && !Currencies.TryParse(Currency, out _))
        {
            errors.Add("currency", "unsupported_currency", string.Join(", ", Enum.GetNames<Currency>()));
        }
    }
}

public static class AccountProblems
{
    public static readonly ProblemType AccountExists = new("account_exists", StatusCodes.Status409Conflict);

    /// <summary>The ledger refused: the reason code is in <c>reasonCode</c>.</summary>
    public static readonly ProblemType PostingRefused = new("posting_refused", StatusCodes.Status422UnprocessableEntity);

    public static ApiProblem Refused(LedgerRefusal refusal) => ApiProblem.Of(PostingRefused, refusal.Code()) with
    {
        Extensions = new Dictionary<string, object?> { ["reasonCode"] = refusal.Code() },
    };
}

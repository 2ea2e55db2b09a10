using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Http.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BusinessApi.Accounts;

/// <summary>
/// <c>POST /api/v1/ops/accounts/{iban}/credits</c>: cash paid in at the bank's desk. Debit the bank's
/// cash account, credit the customer's. The transaction id derives from the operator and the
/// Idempotency-Key, so the same key never credits twice, even after its replay record has expired.
/// </summary>
public static class CreditAccount
{
    public const string Kind = "cashIn";
    public const int MaxReferenceLength = 200;

    public static async Task<Results<Created<CreditResponse>, Ok<CreditResponse>, ProblemResult>> HandleAsync(
        string iban,
        CreditRequest request,
        HttpContext httpContext,
        AccountDirectory accounts,
        Ledger.Ledger ledger,
        AuditJournal audit,
        IOptions<BankOptions> bank,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(httpContext);
        var lookup = await accounts.LookupAsync(iban, cancellationToken);
        if (!lookup.Found)
        {
            return lookup.Problem;
        }

        var (account, parsed) = (lookup.Account, lookup.Iban);
        var amount = request.Amount!.Value;
        if (!AmountText.IsValid(amount, account.Currency))
        {
            return AmountText.Invalid("amount", account.Currency);
        }

        var actor = httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "operator";
        var key = httpContext.Request.Headers[IdempotencyMiddleware.HeaderName].ToString();
        var transactionId = "cash-in:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(actor + "\n" + key)))[..40];
        var reference = request.Reference!.Trim();
        var transaction = new LedgerTransaction(transactionId, Kind,
        [
            new LedgerLeg(LedgerAccountId.ForBank(BankAccount.Cash, account.Currency), -amount, account.Currency)
            {
                Counterparty = new Counterparty(null, account.Iban, null, bank.Value.Bic),
                Purpose = "Взнос наличных денег",
            },
            new LedgerLeg(account.Id, amount, account.Currency)
            {
                Counterparty = new Counterparty(bank.Value.Name, null, null, bank.Value.Bic),
                Purpose = "Взнос наличных денег",
            },
        ])
        {
            Reference = reference,
            ValueDate = InformationServices.Today(time),
        };

        var result = await ledger.PostAsync(transaction, cancellationToken);
        if (result.Outcome == PostingOutcome.Refused)
        {
            return ProblemResult.For(AccountProblems.Refused(result.Refusal!.Value));
        }

        var now = await ledger.GetAccountAsync(account.Id, cancellationToken) ?? account;
        var response = new CreditResponse(transactionId, parsed.Value, AmountText.Format(amount, now.Currency), now.Currency,
            AmountText.Format(now.Balance, now.Currency), AmountText.Format(now.Available, now.Currency), result.PostedAt,
            result.Outcome == PostingOutcome.AlreadyPosted);
        if (result.Outcome == PostingOutcome.AlreadyPosted)
        {
            return TypedResults.Ok(response);
        }

        await audit.AppendAsync(new AuditRecord(account.CustomerId ?? AuditJournal.SystemSubject, actor, "account.credited", AuditOutcome.Success)
        {
            Target = $"accounts/{parsed.Value}",
            CorrelationId = httpContext.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["transactionId"] = transactionId,
                ["amount"] = response.Amount,
                ["currency"] = now.Currency.ToString(),
                ["reference"] = reference,
            },
        }, cancellationToken);
        return TypedResults.Created($"/api/v1/ops/accounts/{parsed.Value}/transactions/{transactionId}", response);
    }
}

/// <param name="Amount">Positive, in whole minor units (a JSON number or a string such as <c>"1500.00"</c>).</param>
/// <param name="Reference">The cash order's number or other reference, 1–200 characters.</param>
public sealed record CreditRequest(
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] decimal? Amount,
    string? Reference) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("amount", Amount) && Amount <= 0m)
        {
            errors.Add("amount", "invalid_amount", AmountText.Format(AmountText.MaxAmount, Currency.KZT));
        }

        if (errors.Required("reference", Reference) && Reference!.Trim().Length > CreditAccount.MaxReferenceLength)
        {
            errors.Add("reference", "too_long", CreditAccount.MaxReferenceLength);
        }
    }
}

/// <param name="AlreadyPosted">True when this key's credit was posted before (nothing changed now).</param>
public sealed record CreditResponse(
    string TransactionId,
    string Iban,
    string Amount,
    Currency Currency,
    string Balance,
    string Available,
    DateTimeOffset? PostedAt,
    bool AlreadyPosted);

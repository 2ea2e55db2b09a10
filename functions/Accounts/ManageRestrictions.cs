using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Http.Idempotency;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Accounts;

/// <summary>
/// R-36 c: authorities' arrests and debit suspensions, registered and lifted by the bank's operators
/// (<c>POST /api/v1/ops/accounts/{iban}/restrictions</c>, <c>DELETE …/restrictions/{id}</c>). They take
/// effect in the account's head in the same write, so no debit after the answer can pass them.
/// </summary>
public static class ManageRestrictions
{
    public const int MaxReferenceLength = 200;

    public static async Task<Results<Created<RestrictionResponse>, Ok<RestrictionResponse>, ProblemResult>> AddAsync(
        string iban,
        AddRestrictionRequest request,
        HttpContext httpContext,
        AccountDirectory accounts,
        Ledger.Ledger ledger,
        AuditJournal audit,
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
        if (request.Amount is { } amount && !AmountText.IsValid(amount, account.Currency))
        {
            return AmountText.Invalid("amount", account.Currency);
        }

        var actor = httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "operator";
        var key = httpContext.Request.Headers[IdempotencyMiddleware.HeaderName].ToString();

        // With an Idempotency-Key the id is derived from it, so a retry registers nothing new even after the key's record expired.
        var id = "rst_" + (key.Length > 0
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(actor + "\n" + account.Id.Value + "\n" + key)))[..24]
            : Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));
        var restriction = new Restriction(id, request.Kind!.Value, request.Amount, request.Reference!.Trim(), time.GetUtcNow(), actor)
        {
            Authority = request.Authority?.Trim(),
        };
        var result = await ledger.AddRestrictionAsync(account.Id, restriction, cancellationToken);
        if (result.Outcome == LedgerChangeOutcome.NotFound || result.Restriction is null)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        var response = RestrictionResponse.From(result.Restriction, account.Currency);
        if (result.Outcome == LedgerChangeOutcome.Unchanged)
        {
            return TypedResults.Ok(response);
        }

        await AuditAsync(audit, account, parsed, actor, "account.restriction_added", result.Restriction, httpContext, cancellationToken);
        return TypedResults.Created($"/api/v1/ops/accounts/{parsed.Value}/restrictions/{id}", response);
    }

    public static async Task<Results<Ok<RestrictionResponse>, ProblemResult>> LiftAsync(
        string iban,
        string restrictionId,
        string? reference,
        HttpContext httpContext,
        AccountDirectory accounts,
        Ledger.Ledger ledger,
        AuditJournal audit,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (reference is { Length: > MaxReferenceLength })
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("reference", "too_long", [MaxReferenceLength])] });
        }

        var lookup = await accounts.LookupAsync(iban, cancellationToken);
        if (!lookup.Found)
        {
            return lookup.Problem;
        }

        var (account, parsed) = (lookup.Account, lookup.Iban);
        if (!LedgerRules.IsValidId(restrictionId))
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        var actor = httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "operator";
        var result = await ledger.LiftRestrictionAsync(account.Id, restrictionId, actor, reference?.Trim(), cancellationToken);
        if (result.Restriction is null)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        if (result.Outcome == LedgerChangeOutcome.Applied)
        {
            await AuditAsync(audit, account, parsed, actor, "account.restriction_lifted", result.Restriction, httpContext, cancellationToken);
        }

        // Lifting twice answers the same: the restriction is lifted.
        return TypedResults.Ok(RestrictionResponse.From(result.Restriction, account.Currency));
    }

    /// <summary><c>GET /api/v1/ops/accounts/{iban}/restrictions</c>: all of them, lifted ones included.</summary>
    public static async Task<Results<Ok<IReadOnlyList<RestrictionResponse>>, ProblemResult>> ListAsync(
        string iban, AccountDirectory accounts, Ledger.Ledger ledger, CancellationToken cancellationToken)
    {
        var lookup = await accounts.LookupAsync(iban, cancellationToken);
        if (!lookup.Found)
        {
            return lookup.Problem;
        }

        var account = lookup.Account;
        var all = await ledger.ListRestrictionsAsync(account.Id, includeLifted: true, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<RestrictionResponse>>([.. all.Select(r => RestrictionResponse.From(r, account.Currency))]);
    }

    private static Task<AuditEntry> AuditAsync(
        AuditJournal audit, AccountState account, Iban iban, string actor, string action, Restriction restriction, HttpContext httpContext, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string>
        {
            ["restrictionId"] = restriction.Id,
            ["kind"] = restriction.Kind.ToString(),
            ["reference"] = (action.EndsWith("lifted", StringComparison.Ordinal) ? restriction.LiftReference : restriction.Reference) ?? "",
        };
        if (restriction.Amount is { } amount)
        {
            details["amount"] = AmountText.Format(amount, account.Currency);
        }

        return audit.AppendAsync(new AuditRecord(account.CustomerId ?? AuditJournal.SystemSubject, actor, action, AuditOutcome.Success)
        {
            Target = $"accounts/{iban.Value}",
            CorrelationId = httpContext.TraceIdentifier,
            Details = details,
        }, cancellationToken);
    }
}

/// <param name="Kind"><c>arrest</c> (with an amount: that much is frozen; without: everything, no debits) or <c>debitSuspension</c>.</param>
/// <param name="Amount">Only for an arrest of an amount.</param>
/// <param name="Reference">The authority's order: number and date, 1–200 characters.</param>
/// <param name="Authority">Who ordered it (court, tax authority, enforcement officer).</param>
public sealed record AddRestrictionRequest(
    RestrictionKind? Kind,
    [property: JsonNumberHandling(JsonNumberHandling.AllowReadingFromString)] decimal? Amount,
    string? Reference,
    string? Authority) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("kind", Kind) && Kind == RestrictionKind.DebitSuspension && Amount is not null)
        {
            errors.Add("amount", "amount_not_allowed");
        }

        if (Amount is <= 0m)
        {
            errors.Add("amount", "invalid_amount", AmountText.Format(AmountText.MaxAmount, Currency.KZT));
        }

        if (errors.Required("reference", Reference) && Reference!.Trim().Length > ManageRestrictions.MaxReferenceLength)
        {
            errors.Add("reference", "too_long", ManageRestrictions.MaxReferenceLength);
        }

        if (Authority is { Length: > ManageRestrictions.MaxReferenceLength })
        {
            errors.Add("authority", "too_long", ManageRestrictions.MaxReferenceLength);
        }
    }
}

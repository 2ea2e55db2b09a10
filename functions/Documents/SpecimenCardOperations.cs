using System.Text.Json;
using BusinessApi.Accounts;
using BusinessApi.Customers;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Documents;

/// <summary>
/// The bank's side of specimen-signature cards (terms 3.2, 3.6, 6.1.11, 7.2.5): an operator records who signs an
/// account and under which rule, and ends a signer's power at once. Every change is journaled, and the
/// account's documents still collecting signatures are judged again under the card in force.
/// </summary>
public static class SpecimenCardOperations
{
    public static async Task<Results<Ok<SpecimenCardResponse>, ProblemResult>> PutAsync(
        string iban, SignatureRuleRequest request, HttpContext context, AccountDirectory accounts, UserService users, SpecimenCardStore cards,
        SignatureCollector collector, PowerTerms terms, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (await OwnerAsync(iban, accounts, cancellationToken) is not { } customerId)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        var errors = new List<FieldError>();
        foreach (var (signer, index) in request.Signers!.Select((s, i) => (s, i)))
        {
            if ((await users.GetAsync(signer.UserId!, cancellationToken))?.User is not { } user || user.CustomerId != customerId)
            {
                errors.Add(new FieldError($"signers[{index}].userId", "user_unknown"));
            }
        }

        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = errors });
        }

        var now = time.GetUtcNow();
        var by = context.User.Actor();
        var signers = request.Signers!.Select(s => new CardSigner(s.UserId!, s.Group!) { ValidUntil = s.ValidUntil }).ToList();
        for (var round = 0; ; round++)
        {
            var read = await cards.GetForChangeAsync(customerId, iban, cancellationToken);
            if (await cards.PutAsync(customerId, iban, request.Rule!, signers, read, now, by, cancellationToken))
            {
                break;
            }

            if (round == 5)
            {
                return ProblemResult.For(DocumentProblems.SignatureRuleConflict);
            }
        }

        await audit.AppendAsync(new AuditRecord(customerId, by, "signature_rule.updated", AuditOutcome.Success)
        {
            Target = "accounts/" + iban + "/signature-rule",
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["rule"] = request.Rule!,
                ["signers"] = JsonSerializer.Serialize(request.Signers, PlatformExtensions.JsonOptions),
            },
        }, cancellationToken);
        foreach (var signer in signers)
        {
            await terms.ScheduleAsync(PowerTerms.CardKey(customerId, iban, signer.UserId), signer.ValidUntil, cancellationToken);
        }

        await collector.ReviewAsync(customerId, iban, cancellationToken);
        return TypedResults.Ok(SpecimenCardResponse.Of((await cards.GetAsync(customerId, iban, null, cancellationToken))!.Card, now));
    }

    public static async Task<Results<Ok<SpecimenCardResponse>, ProblemResult>> GetAsync(
        string iban, AccountDirectory accounts, SpecimenCardStore cards, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await OwnerAsync(iban, accounts, cancellationToken) is not { } customerId)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        return await cards.GetAsync(customerId, iban, null, cancellationToken) is { } read
            ? TypedResults.Ok(SpecimenCardResponse.Of(read.Card, time.GetUtcNow()))
            : ProblemResult.For(DocumentProblems.SignatureRuleNotFound);
    }

    /// <summary>The customer's own view: who signs the account and under which rule (the caller's powers must reach it).</summary>
    public static async Task<Results<Ok<SpecimenCardResponse>, ProblemResult>> GetForCustomerAsync(
        string iban, HttpContext context, AccountDirectory accounts, SpecimenCardStore cards, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await OwnerAsync(iban, accounts, cancellationToken) != context.User.CustomerId() || !context.User.MayAccessAccount(iban))
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        return await GetAsync(iban, accounts, cards, time, cancellationToken);
    }

    /// <summary>
    /// Ends one signer's power on the card now (R-14: a signer replaced). From this instant their new signatures are
    /// refused, and documents of the account still collecting lose the signatures they gave.
    /// </summary>
    public static async Task<Results<Ok<SpecimenCardResponse>, ProblemResult>> EndSignerAsync(
        string iban, string userId, EndSignerRequest? request, HttpContext context, AccountDirectory accounts, SpecimenCardStore cards,
        SignatureCollector collector, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await OwnerAsync(iban, accounts, cancellationToken) is not { } customerId)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        var now = time.GetUtcNow();
        var by = context.User.Actor();
        for (var round = 0; ; round++)
        {
            var read = await cards.GetAsync(customerId, iban, [userId], cancellationToken);
            if (read?.Card.ActiveSigner(userId, now) is not { } signer || !read.SignerETags.ContainsKey(userId))
            {
                return ProblemResult.For(DocumentProblems.SignerNotOnCard);
            }

            if (await cards.EndAsync(read, signer with { EndedAt = now, EndedBy = by, EndReason = request?.Reason }, cancellationToken))
            {
                break;
            }

            if (round == 5)
            {
                return ProblemResult.For(DocumentProblems.SignatureRuleConflict);
            }
        }

        var voided = await collector.ReviewAsync(customerId, iban, cancellationToken);
        await audit.AppendAsync(new AuditRecord(customerId, by, "signature_rule.signer_ended", AuditOutcome.Success)
        {
            Target = "accounts/" + iban + "/signature-rule/signers/" + userId,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["reason"] = request?.Reason ?? "",
                ["documentsReviewed"] = voided.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
        }, cancellationToken);
        return TypedResults.Ok(SpecimenCardResponse.Of((await cards.GetAsync(customerId, iban, null, cancellationToken))!.Card, now));
    }

    private static async Task<string?> OwnerAsync(string iban, AccountDirectory accounts, CancellationToken cancellationToken) =>
        Iban.TryParse(iban, out var parsed) ? (await accounts.FindAsync(parsed, cancellationToken))?.CustomerId : null;
}

/// <param name="Rule"><c>first</c> (one signature of the first group) or <c>first+second</c> (one of each, by two people).</param>
public sealed record SignatureRuleRequest(string? Rule, IReadOnlyList<CardSignerRequest>? Signers) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("rule", Rule) && !SignatureRules.All.Contains(Rule))
        {
            errors.Add("rule", "invalid_value");
        }

        if (!errors.Required("signers", Signers))
        {
            return;
        }

        if (Signers!.Count is 0 or > SpecimenCardStore.MaxSigners)
        {
            errors.Add("signers", "count_out_of_range", 1, SpecimenCardStore.MaxSigners);
            return;
        }

        foreach (var (signer, index) in Signers.Select((s, i) => (s, i)))
        {
            if (signer is null || !User.IsWellFormedId(signer.UserId))
            {
                errors.Add($"signers[{index}].userId", "invalid_value");
            }

            if (signer is null || !SignatureGroups.All.Contains(signer.Group))
            {
                errors.Add($"signers[{index}].group", "invalid_value");
            }
        }

        if (Signers.Where(s => s is not null).GroupBy(s => s.UserId).Any(g => g.Count() > 1))
        {
            errors.Add("signers", "duplicate_signer");
        }

        if (Rule is { } rule && SignatureRules.All.Contains(rule) && SignatureRules.Missing(rule, Signers.Select(s => s?.Group)) is [var missing, ..])
        {
            errors.Add("signers", "group_missing", missing);
        }
    }
}

/// <param name="Group"><c>first</c> (the head) or <c>second</c> (the chief accountant).</param>
/// <param name="ValidUntil">The end of the signer's power as the bank holds it (a power of attorney's term); none: until ended.</param>
public sealed record CardSignerRequest(string? UserId, string? Group, DateTimeOffset? ValidUntil);

public sealed record EndSignerRequest(string? Reason) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Reason is { Length: > 500 })
        {
            errors.Add("reason", "too_long", 500);
        }
    }
}

/// <param name="Active">Whether the signer's power is in force now.</param>
public sealed record CardSignerResponse(string UserId, string Group, DateTimeOffset? ValidUntil, DateTimeOffset? EndedAt, string? EndedBy, string? EndReason, bool Active);

public sealed record SpecimenCardResponse(string Iban, string Rule, IReadOnlyList<CardSignerResponse> Signers, DateTimeOffset UpdatedAt, string UpdatedBy)
{
    public static SpecimenCardResponse Of(SpecimenCard card, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(card);
        return new(card.Iban, card.Rule,
            [.. card.Signers.Select(s => new CardSignerResponse(s.UserId, s.Group, s.ValidUntil, s.EndedAt, s.EndedBy, s.EndReason, s.IsActiveAt(now)))],
            card.UpdatedAt, card.UpdatedBy);
    }
}

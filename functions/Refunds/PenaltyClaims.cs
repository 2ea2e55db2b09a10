using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Documents;
using BusinessApi.Documents.Signatures;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using BusinessApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Refunds;

/// <summary>A customer's written demand for the clause 7.4 penalty on a late execution, and the bank's decision.</summary>
public sealed record PenaltyClaim(
    string DocumentId, string CustomerId, string PayerIban, string Currency,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(MinorUnitsAmountConverter))] decimal DocumentAmount,
    DateOnly DueOn, DateOnly ExecutedOn, int DaysLate,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(MinorUnitsAmountConverter))] decimal Penalty,
    DateTimeOffset ClaimedAt, string ClaimedBy)
{
    /// <summary><c>pending</c> (with operators), <c>paid</c> (credited to the account) or <c>rejected</c>.</summary>
    public string Status { get; init; } = "pending";

    public DateTimeOffset? DecidedAt { get; init; }

    public string? DecidedBy { get; init; }

    public string? Comment { get; init; }

    public string? TransactionId { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public ETag ETag { get; init; }
}

/// <summary>
/// <c>POST /documents/{documentId}/penalty-claims</c> (R-41): for a document executed later than its operational day
/// while the money sufficed (execution itself proves it did; a refusal for lack of funds earns nothing), the claim is
/// computed by <see cref="PenaltyRules"/> and recorded for the bank's approval. Approval credits the payer account
/// from the bank's penalty expense account in one ledger transaction with a stable id. One claim per document.
/// </summary>
public sealed class PenaltyClaims(StorageResources storage, Ledger ledger, NoticeChannel notices, AuditJournal audit, TimeProvider time)
{
    public const string TableName = "PenaltyClaims";
    private const string Partition = "claims";

    public static readonly ProblemType NotEligible = new("penalty_not_applicable", StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType ClaimExists = new("penalty_claim_exists", StatusCodes.Status409Conflict);
    public static readonly ProblemType ClaimNotFound = new("penalty_claim_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType ClaimDecided = new("penalty_claim_decided", StatusCodes.Status409Conflict);

    private readonly TableClient _table = storage.Table(TableName);

    public static string TransactionId(string documentId) => "penalty:" + documentId;

    public async Task<PenaltyClaim?> GetAsync(string documentId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(Partition, documentId, cancellationToken: cancellationToken);
        return found.HasValue ? FromEntity(found.Value!) : null;
    }

    public async Task<IReadOnlyList<PenaltyClaim>> ListAsync(string? status, CancellationToken cancellationToken)
    {
        var filter = status is null ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition}") : TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and Status eq {status}");
        var result = new List<PenaltyClaim>();
        await foreach (var e in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            result.Add(FromEntity(e));
            if (result.Count == 1000)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>Pays (credits the penalty) or rejects a pending claim; answers the claim as decided, or null when it does not exist.</summary>
    public async Task<(PenaltyClaim? Claim, bool Decided)> DecideAsync(string documentId, bool approve, string by, string? comment, string? correlationId, CancellationToken cancellationToken)
    {
        if (await GetAsync(documentId, cancellationToken) is not { } claim)
        {
            return (null, false);
        }

        var now = time.GetUtcNow();
        var claimedHere = claim.Status == "pending";
        if (claimedHere)
        {
            // The decision is claimed (ETag-checked) before any money moves: of an approval and a rejection made at
            // once, exactly one stands, and a rejected claim never has a credit behind it.
            var claimed = claim with { Status = approve ? "approved" : "rejected", DecidedAt = now, DecidedBy = by, Comment = comment };
            try
            {
                var written = await _table.UpdateEntityAsync(ToEntity(claimed), claim.ETag, TableUpdateMode.Replace, cancellationToken);
                claim = claimed with { ETag = written.Headers.ETag ?? ETag.All };
            }
            catch (RequestFailedException ex) when (ex.Status == 412)
            {
                return (await GetAsync(documentId, cancellationToken), false); // decided concurrently
            }
        }
        else if (!(claim.Status == "approved" && approve))
        {
            return (claim, false); // decided already
        }

        // From here on the approval is this request's (claimed above) or an earlier one's, cut short by a crash or
        // still in flight: every step below is idempotent, so it is finished either way, but only the request that
        // claimed the decision answers "decided"; the others learn it was decided already.

        var decided = claim;
        if (approve)
        {
            var currency = Enum.Parse<Currency>(claim.Currency);
            var purpose = $"Неустойка по п. 7.4 Условий: {claim.DaysLate} дн. × 0,01% от суммы документа {claim.DocumentId}";
            var posted = await ledger.PostAsync(new LedgerTransaction(TransactionId(documentId), "penalty",
            [
                new LedgerLeg(LedgerAccountId.ForBank(BankAccount.PenaltyExpense, currency), -claim.Penalty, currency) { Purpose = purpose, DocumentId = documentId },
                new LedgerLeg(LedgerAccountId.ForIban(Iban.Parse(claim.PayerIban)), claim.Penalty, currency) { Purpose = purpose, DocumentId = documentId },
            ])
            {
                Reference = "penalty " + documentId,
                ValueDate = KazakhstanTime.LocalDate(claim.DecidedAt ?? now),
            }, cancellationToken);
            if (!posted.IsPosted)
            {
                throw new InvalidOperationException($"The penalty for {documentId} could not be credited: {posted.Refusal}.");
            }

            decided = claim with { Status = "paid", TransactionId = posted.TransactionId };
            await _table.UpdateEntityAsync(ToEntity(decided), ETag.All, TableUpdateMode.Replace, cancellationToken); // approved → paid only: the same content from any finisher
        }

        await notices.AddAsync(new NoticeRequest(claim.CustomerId, NoticeKinds.PenaltyClaimDecided, "penalty:" + documentId, now, documentId,
            [documentId, decided.Status, claim.Penalty.ToString("F2", CultureInfo.InvariantCulture), claim.Currency]), cancellationToken);
        await audit.AppendAsync(new AuditRecord(claim.CustomerId, by, approve ? "penalty.paid" : "penalty.rejected", AuditOutcome.Success)
        {
            Target = "documents/" + documentId,
            CorrelationId = correlationId,
            Details = new Dictionary<string, string> { ["penalty"] = claim.Penalty.ToString("F2", CultureInfo.InvariantCulture), ["daysLate"] = claim.DaysLate.ToString(CultureInfo.InvariantCulture) },
        }, cancellationToken);
        return (decided, claimedHere);
    }

    // ---- endpoints ----

    public const string InstructionType = "penaltyClaim";
    public const string ArchiveName = "penalty-claim.p7s";

    public static async Task<Results<Created<PenaltyClaim>, ProblemResult>> PostAsync(
        string documentId, HttpContext context, DocumentStore documents, SignedInstructionReader reader, DocumentArchive archive, PenaltyClaims claims,
        AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(reader);
        var document = await documents.FindForCallerAsync(documentId, context.User, cancellationToken);
        if (document is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        var (assessment, refusal) = PenaltyRules.Assess(document);
        if (assessment is null)
        {
            return ProblemResult.For(new ApiProblem(NotEligible) { Extensions = new Dictionary<string, object?> { ["reasonCode"] = refusal } });
        }

        var summary = document.Summary!;

        // Clause 7.4's written demand, R-12: signed by a user who may sign on the payer account, kept byte for byte.
        var (signed, signatureProblem) = await reader.ReadAsync<PenaltyClaimRequest>(context, InstructionType, document.DocumentId,
            user => user.Functions.Contains(UserFunctions.Sign) && user.Powers.MayAccess(summary.PayerIban), cancellationToken);
        if (signed is null)
        {
            return signatureProblem!;
        }

        await archive.WriteOnceAsync(DocumentArchive.PathOf(document, ArchiveName), signed.Cms, cancellationToken);
        var claim = new PenaltyClaim(document.DocumentId, document.CustomerId, summary.PayerIban, summary.Currency, summary.Amount, assessment.DueOn, assessment.ExecutedOn,
            assessment.DaysLate, assessment.Amount, time.GetUtcNow(), context.User.Actor());
        try
        {
            await claims._table.AddEntityAsync(ToEntity(claim), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return ProblemResult.For(new ApiProblem(ClaimExists) { Extensions = new Dictionary<string, object?> { ["claim"] = await claims.GetAsync(document.DocumentId, cancellationToken) } });
        }

        await audit.AppendAsync(new AuditRecord(document.CustomerId, context.User.Actor(), "penalty.claimed", AuditOutcome.Success)
        {
            Target = "documents/" + document.DocumentId,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string> { ["penalty"] = claim.Penalty.ToString("F2", CultureInfo.InvariantCulture), ["daysLate"] = claim.DaysLate.ToString(CultureInfo.InvariantCulture) },
        }, cancellationToken);
        return TypedResults.Created($"/api/v1/documents/{document.DocumentId}/penalty-claims", claim);
    }

    public static async Task<Results<Ok<PenaltyClaim>, ProblemResult>> GetForCustomerAsync(
        string documentId, HttpContext context, DocumentStore documents, PenaltyClaims claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await documents.FindForCallerAsync(documentId, context.User, cancellationToken) is null
            ? ProblemResult.For(DocumentProblems.DocumentNotFound)
            : await claims.GetAsync(documentId, cancellationToken) is { } claim ? TypedResults.Ok(claim) : ProblemResult.For(ClaimNotFound);
    }

    public static async Task<Ok<PenaltyClaimListResponse>> ListForOperatorsAsync(string? status, PenaltyClaims claims, CancellationToken cancellationToken) =>
        TypedResults.Ok(new PenaltyClaimListResponse(await claims.ListAsync(status, cancellationToken)));

    public static async Task<Results<Ok<PenaltyClaim>, ProblemResult>> PostDecisionAsync(
        string documentId, PenaltyDecisionRequest request, HttpContext context, PenaltyClaims claims, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var (claim, decided) = await claims.DecideAsync(documentId, request.Approve!.Value, context.User.Actor(), request.Comment, context.TraceIdentifier, cancellationToken);
        return claim is null ? ProblemResult.For(ClaimNotFound)
            : !decided ? ProblemResult.For(new ApiProblem(ClaimDecided) { Extensions = new Dictionary<string, object?> { ["claim"] = claim } })
            : TypedResults.Ok(claim);
    }

    private static TableEntity ToEntity(PenaltyClaim claim) => new(Partition, claim.DocumentId)
    {
        ["CustomerId"] = claim.CustomerId,
        ["PayerIban"] = claim.PayerIban,
        ["Currency"] = claim.Currency,
        ["DocumentAmount"] = claim.DocumentAmount.ToString(CultureInfo.InvariantCulture),
        ["DueOn"] = claim.DueOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["ExecutedOn"] = claim.ExecutedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["DaysLate"] = claim.DaysLate,
        ["Penalty"] = claim.Penalty.ToString(CultureInfo.InvariantCulture),
        ["ClaimedAt"] = claim.ClaimedAt,
        ["ClaimedBy"] = claim.ClaimedBy,
        ["Status"] = claim.Status,
        ["DecidedAt"] = claim.DecidedAt,
        ["DecidedBy"] = claim.DecidedBy,
        ["Comment"] = claim.Comment,
        ["TransactionId"] = claim.TransactionId,
    };

    private static PenaltyClaim FromEntity(TableEntity e) => new(
        e.RowKey, e.GetString("CustomerId") ?? "", e.GetString("PayerIban") ?? "", e.GetString("Currency") ?? "",
        decimal.Parse(e.GetString("DocumentAmount") ?? "0", CultureInfo.InvariantCulture),
        DateOnly.ParseExact(e.GetString("DueOn") ?? "0001-01-01", "yyyy-MM-dd", CultureInfo.InvariantCulture),
        DateOnly.ParseExact(e.GetString("ExecutedOn") ?? "0001-01-01", "yyyy-MM-dd", CultureInfo.InvariantCulture),
        e.GetInt32("DaysLate") ?? 0, decimal.Parse(e.GetString("Penalty") ?? "0", CultureInfo.InvariantCulture),
        e.GetDateTimeOffset("ClaimedAt") ?? default, e.GetString("ClaimedBy") ?? "")
    {
        Status = e.GetString("Status") ?? "pending",
        DecidedAt = e.GetDateTimeOffset("DecidedAt"),
        DecidedBy = e.GetString("DecidedBy"),
        Comment = e.GetString("Comment"),
        TransactionId = e.GetString("TransactionId"),
        ETag = e.ETag,
    };
}

/// <param name="Approve">true: pay (credit the penalty to the payer account); false: reject.</param>
public sealed record PenaltyDecisionRequest(bool? Approve, string? Comment) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("approve", Approve);
        if (Comment is { Length: > 500 })
        {
            errors.Add("comment", "too_long", 500);
        }
    }
}

public sealed record PenaltyClaimListResponse(IReadOnlyList<PenaltyClaim> Items);

/// <param name="Comment">The customer's words to the bank, if any.</param>
public sealed record PenaltyClaimRequest(string? Comment) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Comment is { Length: > 500 })
        {
            errors.Add("comment", "too_long", 500);
        }
    }
}

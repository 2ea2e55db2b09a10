using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Documents;
using BusinessApi.Documents.Signatures;
using BusinessApi.Notifications;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;
using BusinessApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Refunds;

/// <summary>
/// <c>POST /documents/{documentId}/error-reports</c> (R-50): the customer reports an erroneous or unauthorised
/// execution. Accepted only for an executed document, within 3 operational days after the discovery and 3 years
/// after the execution; one report per document (a repeat answers 409 with the first). Acceptance starts the
/// refund-notice workflow in the same transaction as nothing else: the workflow instance is the report.
/// </summary>
public static class ErrorReports
{
    public static readonly ProblemType NotExecuted = new(RefundRefusals.NotExecuted, StatusCodes.Status409Conflict);
    public static readonly ProblemType TooLate = new(RefundRefusals.ReportTooLate, StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType PeriodExpired = new(RefundRefusals.ReportPeriodExpired, StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType ReportExists = new("error_report_exists", StatusCodes.Status409Conflict);
    public static readonly ProblemType ReportNotFound = new("error_report_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType ReportNotAwaitingOutcome = new("error_report_not_awaiting_outcome", StatusCodes.Status409Conflict);

    public static readonly string[] Kinds = ["erroneous", "unauthorized"];

    public const string InstructionType = "errorReport";
    public const string ArchiveName = "error-report.p7s";

    public static async Task<Results<Accepted<ErrorReportResponse>, ProblemResult>> PostAsync(
        string documentId, HttpContext context, DocumentStore documents, SignedInstructionReader reader, DocumentArchive archive, WorkflowEngine engine, RefundWorkflow workflow,
        CalendarProvider calendars, NoticeChannel notices, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(reader);
        var document = await documents.FindForCallerAsync(documentId, context.User, cancellationToken);
        if (document is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        if (document.Status != DocumentStatus.Executed || document.Summary is not { } summary || document.Last is not { } executed)
        {
            return ProblemResult.For(NotExecuted);
        }

        // R-12: the report is the customer's signed instruction, by a user who may sign on the payer account.
        var (signed, signatureProblem) = await reader.ReadAsync<ErrorReportRequest>(context, InstructionType, document.DocumentId,
            user => user.Functions.Contains(UserFunctions.Sign) && user.Powers.MayAccess(summary.PayerIban), cancellationToken);
        if (signed is null)
        {
            return signatureProblem!;
        }

        var request = signed.Request;

        var now = time.GetUtcNow();
        var today = KazakhstanTime.LocalDate(now);
        var executedOn = KazakhstanTime.LocalDate(executed.At);
        var discoveredOn = request.DiscoveredOn!.Value;
        var errors = new ValidationErrors();
        if (discoveredOn > today)
        {
            errors.Add("discoveredOn", "date_in_future");
        }
        else if (discoveredOn < executedOn)
        {
            errors.Add("discoveredOn", "before_execution", executedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        }

        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var calendar = await calendars.GetAsync(cancellationToken);
        switch (ErrorReportRules.Check(calendar, executedOn, discoveredOn, today))
        {
            case RefundRefusals.ReportPeriodExpired:
                var last = ErrorReportRules.LastDayOfPeriod(executedOn);
                return ProblemResult.For(new ApiProblem(PeriodExpired) { DetailArguments = [Day(last)], Extensions = new Dictionary<string, object?> { ["lastDay"] = last } });
            case RefundRefusals.ReportTooLate:
                var lastDay = ErrorReportRules.LastDayToReport(calendar, discoveredOn);
                return ProblemResult.For(new ApiProblem(TooLate) { DetailArguments = [Day(lastDay)], Extensions = new Dictionary<string, object?> { ["lastDay"] = lastDay } });
        }

        var refund = new RefundCase(document.DocumentId, document.CustomerId, request.Kind!, discoveredOn,
            [.. request.Details!.Select(d => new ReportedError(d.Field!.Trim(), d.Expected, d.Actual))], now, context.User.Actor(),
            summary.Route, summary.Amount, summary.Currency, summary.Number, summary.Date, summary.PayerIban, summary.BeneficiaryIban, summary.BeneficiaryName, summary.BeneficiaryBic,
            RefundNoticeDeadline.For(calendar, now));
        // The signed bytes are kept beside the document, write-once, before the report takes effect.
        var (reportSha256, _) = await archive.WriteOnceAsync(DocumentArchive.PathOf(document, ArchiveName), signed.Cms, cancellationToken);
        refund = refund.With(RefundStatuses.Received, now) with { ReportSha256 = reportSha256 };
        var started = await engine.StartAsync(workflow, RefundWorkflow.Location(document.DocumentId), RefundWorkflow.InstanceId(document.DocumentId), refund, cancellationToken: cancellationToken);
        if (!started)
        {
            var existing = await GetCaseAsync(engine, document.DocumentId, cancellationToken);
            return ProblemResult.For(new ApiProblem(ReportExists) { Extensions = new Dictionary<string, object?> { ["report"] = existing is null ? null : ErrorReportResponse.From(existing) } });
        }

        await notices.AddAsync(new NoticeRequest(document.CustomerId, NoticeKinds.ErrorReportReceived, "error-report:" + document.DocumentId, now, document.DocumentId,
            [summary.Number, Day(summary.Date), request.Kind!, KazakhstanTime.Text(refund.NoticeDeliverBy)]), cancellationToken);
        await audit.AppendAsync(new AuditRecord(document.CustomerId, context.User.Actor(), "document.error_reported", AuditOutcome.Success)
        {
            Target = "documents/" + document.DocumentId,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["kind"] = refund.Kind,
                ["discoveredOn"] = Day(discoveredOn),
                ["fields"] = string.Join(",", refund.Details.Select(d => d.Field)),
                ["noticeDeliverBy"] = refund.NoticeDeliverBy.ToString("O", CultureInfo.InvariantCulture),
                ["reportSha256"] = reportSha256,
                ["certificateSerial"] = signed.Signer.SerialNumber,
            },
        }, cancellationToken);
        return TypedResults.Accepted($"/api/v1/documents/{document.DocumentId}/error-reports", ErrorReportResponse.From(refund));
    }

    public static async Task<Results<Ok<ErrorReportListResponse>, ProblemResult>> ListAsync(
        string documentId, HttpContext context, DocumentStore documents, WorkflowEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await documents.FindForCallerAsync(documentId, context.User, cancellationToken) is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        var refund = await GetCaseAsync(engine, documentId, cancellationToken);
        return TypedResults.Ok(new ErrorReportListResponse(refund is null ? [] : [ErrorReportResponse.From(refund)]));
    }

    public static async Task<Results<Ok<ErrorReportListResponse>, ProblemResult>> ListForOperatorsAsync(
        string? status, StorageResources storage, WorkflowEngine engine, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ListCasesAsync(status is null ? _ => true : s => s == status, storage, engine, cancellationToken));

    /// <summary>The newest 1,000 cases whose status <paramref name="wanted"/> accepts, newest first.</summary>
    private static async Task<ErrorReportListResponse> ListCasesAsync(Func<string, bool> wanted, StorageResources storage, WorkflowEngine engine, CancellationToken cancellationToken)
    {
        var items = new List<ErrorReportResponse>();
        var table = storage.Table(RefundWorkflow.TableName);
        await foreach (var row in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey ge {"wf|"} and RowKey lt {"wf}"}"),
            select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (await GetCaseAsync(engine, row.RowKey[3..], cancellationToken) is { } refund && wanted(refund.Status))
            {
                items.Add(ErrorReportResponse.From(refund));
            }

            if (items.Count >= 1000)
            {
                break;
            }
        }

        return new ErrorReportListResponse([.. items.OrderByDescending(i => i.ReportedAt)]);
    }

    public static async Task<Results<Accepted, ProblemResult>> RecordOutcomeAsync(
        string documentId, RefundOutcomeRequest request, HttpContext context, WorkflowEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (!DocumentIds.IsWellFormed(documentId) || await GetCaseAsync(engine, documentId, cancellationToken) is not { } refund)
        {
            return ProblemResult.For(ReportNotFound);
        }

        if (refund.Status is not (RefundStatuses.NoticeSent or RefundStatuses.AwaitingReturn or RefundStatuses.AwaitingDecision))
        {
            return ProblemResult.For(new ApiProblem(ReportNotAwaitingOutcome) { Extensions = new Dictionary<string, object?> { ["reportStatus"] = refund.Status } });
        }

        if (request.Amount is { } amount && (amount <= 0 || amount > refund.Amount || decimal.Round(amount, 2) != amount))
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("amount", "out_of_range")] });
        }

        var outcome = new RefundOutcome(request.Returned!.Value, request.Amount, request.Comment, context.User.Actor());
        await engine.RaiseEventAsync(RefundWorkflow.Location(documentId), RefundWorkflow.OutcomeEvent, JsonSerializer.Serialize(outcome, PlatformExtensions.JsonOptions), cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    /// <summary><c>GET /ops/refunds?status=pending</c>: returns waiting for an operator (a decision here, or another bank's outcome).</summary>
    public static async Task<Results<Ok<ErrorReportListResponse>, ProblemResult>> ListRefundsForOperatorsAsync(
        string? status, StorageResources storage, WorkflowEngine engine, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ListCasesAsync(status switch
        {
            null => _ => true,
            PendingStatus => IsPending,
            _ => s => s == status,
        }, storage, engine, cancellationToken));

    /// <summary>
    /// <c>POST /ops/refunds/{refundId}/decision {approve, comment, amount?}</c>: for a beneficiary at this bank, the bank's
    /// decision to take the money back (approve) or not; for another bank, whether it returned the money. Journaled;
    /// the payer and a beneficiary here are notified.
    /// </summary>
    public static Task<Results<Accepted, ProblemResult>> DecideAsync(
        string refundId, RefundDecisionRequest request, HttpContext context, WorkflowEngine engine, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return RecordOutcomeAsync(refundId, new RefundOutcomeRequest(request.Approve, request.Amount, request.Comment), context, engine, cancellationToken);
    }

    public const string PendingStatus = "pending";

    private static bool IsPending(string status) => status is RefundStatuses.AwaitingDecision or RefundStatuses.NoticeSent or RefundStatuses.AwaitingReturn;

    public static async Task<RefundCase?> GetCaseAsync(WorkflowEngine engine, string documentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return await engine.GetAsync(RefundWorkflow.Location(documentId), cancellationToken) is { } snapshot
            ? JsonSerializer.Deserialize<RefundCase>(snapshot.Data, PlatformExtensions.JsonOptions)
            : null;
    }

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <param name="Kind"><c>erroneous</c> (executed with wrong details) or <c>unauthorized</c> (not the customer's instruction).</param>
/// <param name="DiscoveredOn">The local date the error was found; the report is due within 3 operational days after it.</param>
/// <param name="Details">The erroneous details: field, what it should have been, what it was.</param>
public sealed record ErrorReportRequest(string? Kind, DateOnly? DiscoveredOn, IReadOnlyList<ErrorDetailRequest>? Details) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("kind", Kind) && !ErrorReports.Kinds.Contains(Kind!, StringComparer.Ordinal))
        {
            errors.Add("kind", "invalid_value");
        }

        errors.Required("discoveredOn", DiscoveredOn);
        if (Details is not { Count: > 0 })
        {
            errors.Add("details", "required");
            return;
        }

        if (Details.Count > 20)
        {
            errors.Add("details", "too_long", 20);
        }

        for (var i = 0; i < Details.Count; i++)
        {
            var d = Details[i];
            if (d is null || string.IsNullOrWhiteSpace(d.Field) || d.Field.Length > 100)
            {
                errors.Add($"details[{i}].field", "required");
            }

            if (d?.Expected is { Length: > 500 } || d?.Actual is { Length: > 500 })
            {
                errors.Add($"details[{i}]", "too_long", 500);
            }
        }
    }
}

public sealed record ErrorDetailRequest(string? Field, string? Expected, string? Actual);

/// <param name="Approve">Take the money back from the beneficiary here (or: the other bank returned it).</param>
/// <param name="Amount">How much, if not the whole amount.</param>
public sealed record RefundDecisionRequest(bool? Approve, decimal? Amount, string? Comment) : IValidatable
{
    public void Validate(ValidationErrors errors) => Check(errors, "approve", Approve, Comment);

    /// <summary>The rules both names of the decision share: the yes or no is required, the comment short.</summary>
    internal static void Check(ValidationErrors errors, string field, bool? decision, string? comment)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required(field, decision);
        if (comment is { Length: > 500 })
        {
            errors.Add("comment", "too_long", 500);
        }
    }
}

/// <param name="Returned">Whether the money came back (from the beneficiary's bank, or the beneficiary here).</param>
/// <param name="Amount">How much came back, if not the whole amount.</param>
public sealed record RefundOutcomeRequest(bool? Returned, decimal? Amount, string? Comment) : IValidatable
{
    public void Validate(ValidationErrors errors) => RefundDecisionRequest.Check(errors, "returned", Returned, Comment);
}

/// <param name="NoticeDeliverBy">The end of the next operational day after the report: the notice on return is due by then (clause 8.2).</param>
public sealed record ErrorReportResponse(
    string RefundId, string DocumentId, string Kind, DateOnly DiscoveredOn, IReadOnlyList<ReportedError> Details, DateTimeOffset ReportedAt, string Route, string Status,
    IReadOnlyList<RefundStatusChange> History, DateTimeOffset NoticeDeliverBy, DateTimeOffset? NoticeSentAt,
    [property: System.Text.Json.Serialization.JsonConverter(typeof(MinorUnitsAmountConverter))] decimal Amount, string Currency, string? ReturnedAmount, string? SettlementMessageId,
    string? ReportSha256)
{
    public static ErrorReportResponse From(RefundCase refund)
    {
        ArgumentNullException.ThrowIfNull(refund);
        return new(refund.RefundId, refund.DocumentId, refund.Kind, refund.DiscoveredOn, refund.Details, refund.ReportedAt, refund.Route, refund.Status, refund.History,
            refund.NoticeDeliverBy, refund.NoticeSentAt, refund.Amount, refund.Currency, refund.ReturnedAmount?.ToString("F2", CultureInfo.InvariantCulture), refund.SettlementMessageId,
            refund.ReportSha256);
    }
}

public sealed record ErrorReportListResponse(IReadOnlyList<ErrorReportResponse> Items);

using BusinessApi.Accounts.Settlement;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Calendar;
using BusinessApi.Documents;
using BusinessApi.Notifications;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Workflows;
using Microsoft.Extensions.Options;

namespace BusinessApi.Refunds;

public static class RefundStatuses
{
    public const string Received = "received";
    public const string WaitingForOperationalDay = "waitingForOperationalDay";
    public const string NoticeSent = "noticeSent";
    public const string AwaitingReturn = "awaitingReturn";

    /// <summary>A beneficiary at this bank was notified; the money moves only on an operator's decision (clause 8.2.1).</summary>
    public const string AwaitingDecision = "awaitingDecision";
    public const string Returned = "returned";
    public const string NotReturned = "notReturned";
    public const string Unresolved = "unresolved";
}

public sealed record ReportedError(string Field, string? Expected, string? Actual);

public sealed record RefundStatusChange(string Status, DateTimeOffset At, string? Note = null);

/// <summary>An error report on an executed document and the return of its money, as the workflow keeps it.</summary>
public sealed record RefundCase(
    string DocumentId, string CustomerId, string Kind, DateOnly DiscoveredOn, IReadOnlyList<ReportedError> Details, DateTimeOffset ReportedAt, string ReportedBy,
    string Route, [property: System.Text.Json.Serialization.JsonConverter(typeof(MinorUnitsAmountConverter))] decimal Amount, string Currency,
    string DocumentNumber, DateOnly DocumentDate, string PayerIban, string BeneficiaryIban, string BeneficiaryName, string BeneficiaryBic,
    DateTimeOffset NoticeDeliverBy)
{
    public string Status { get; init; } = RefundStatuses.Received;

    public IReadOnlyList<RefundStatusChange> History { get; init; } = [];

    public string? BeneficiaryCustomerId { get; init; }

    public DateTimeOffset? NoticeSentAt { get; init; }

    public string? SettlementMessageId { get; init; }

    [System.Text.Json.Serialization.JsonConverter(typeof(MinorUnitsAmountConverter))]
    public decimal? ReturnedAmount { get; init; }

    public string? ReturnTransactionId { get; init; }

    /// <summary>The SHA-256 of the signed report as archived beside its document.</summary>
    public string? ReportSha256 { get; init; }

    /// <summary>The refund's id in the operators' API: its document's id (one report per document).</summary>
    public string RefundId => DocumentId;

    public RefundCase With(string status, DateTimeOffset at, string? note = null) =>
        this with { Status = status, History = [.. History, new RefundStatusChange(status, at, note)] };
}

/// <summary>
/// An operator's decision on the return: for a beneficiary at this bank, whether its money is taken back (by law,
/// on the bank's decision — never automatically); for another bank, what that bank did.
/// </summary>
public sealed record RefundOutcome(bool Returned, decimal? Amount, string? Comment, string By);

public sealed class RefundOptions
{
    public const string Section = "Refunds";

    /// <summary>How long a return may stay open before it is marked unresolved for operators.</summary>
    [Range(1, 3650)]
    public int OutcomeWaitDays { get; set; } = 90;
}

/// <summary>
/// clauses 8.2 and 8.2.1: after an error report, no later than the next operational day, the
/// beneficiary or the beneficiary's bank gets the notice on return of the money. The return itself is made "in
/// the order provided by law": no money leaves a beneficiary without an operator's decision.
/// <list type="bullet">
/// <item>Beneficiary at this bank: the notice goes into the beneficiary's channel at once (with that deadline);
/// the case then waits for an operator's decision (<c>POST /ops/refunds/{refundId}/decision</c>): approved, the
/// beneficiary is debited and the payer credited in one ledger transaction with a stable id; rejected, nothing
/// moves. Both parties are notified either way.</item>
/// <item>Another bank: the outbound message goes through the settlement system, which works in the operational day
/// (a report after hours waits for the next opening — still within the deadline); the case waits for the operator's
/// record of what that bank did.</item>
/// </list>
/// Every status change is kept in the case's history, journaled and notified to the payer.
/// </summary>
public sealed partial class RefundWorkflow : WorkflowDefinition<RefundCase>
{
    public const string WorkflowName = "refund-notice";
    public const string TableName = "ErrorReports";
    public const string OutcomeEvent = "outcome";

    private readonly Ledger _ledger;
    private readonly CalendarProvider _calendars;
    private readonly NoticeChannel _notices;
    private readonly ISettlementGateway _settlement;
    private readonly AuditJournal _audit;
    private readonly IOptions<RefundOptions> _options;
    private readonly IOptions<BankOptions> _bank;
    private readonly ILogger<RefundWorkflow> _logger;

    public RefundWorkflow(Ledger ledger, CalendarProvider calendars, NoticeChannel notices, ISettlementGateway settlement, AuditJournal audit,
        IOptions<RefundOptions> options, IOptions<BankOptions> bank, ILogger<RefundWorkflow> logger)
        : base(WorkflowName)
    {
        _ledger = ledger;
        _calendars = calendars;
        _notices = notices;
        _settlement = settlement;
        _audit = audit;
        _options = options;
        _bank = bank;
        _logger = logger;
        Step("notify", next: ["notify", "outcome", "expired"], NotifyAsync);
        Step("outcome", next: ["closed"], OutcomeAsync);
        Step("expired", next: ["closed"], (context, _) =>
        {
            context.Data = context.Data.With(RefundStatuses.Unresolved, context.Now, "no outcome recorded");
            return Task.FromResult(context.Complete("closed"));
        });
        Terminal("closed");
    }

    public static WorkflowLocation Location(string documentId) => new(TableName, DocumentIds.CustomerOf(documentId), "wf|" + documentId);

    public static string InstanceId(string documentId) => "refund-" + documentId;

    public static string ReturnTransactionId(string documentId) => "refund:" + documentId;

    private async Task<Transition> NotifyAsync(StepContext<RefundCase> context, CancellationToken cancellationToken)
    {
        var refund = context.Data;
        var amountText = refund.Amount.ToString("F2", CultureInfo.InvariantCulture);
        if (refund.Route == PaymentRoutes.Internal)
        {
            var beneficiary = await _ledger.GetAccountViewAsync(LedgerAccountId.ForIban(Iban.Parse(refund.BeneficiaryIban)), cancellationToken);
            var beneficiaryCustomer = beneficiary?.State.CustomerId
                ?? throw new InvalidOperationException($"The beneficiary account of {refund.DocumentId} is not at this bank any more.");
            await _notices.AddAsync(new NoticeRequest(beneficiaryCustomer, NoticeKinds.RefundRequested, "refund-notice:" + refund.DocumentId, context.Now, refund.DocumentId,
                [refund.DocumentNumber, refund.DocumentDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), amountText, refund.Currency, refund.BeneficiaryIban, refund.Kind])
            {
                DeliverBy = refund.NoticeDeliverBy,
            }, cancellationToken);
            context.Data = refund with { BeneficiaryCustomerId = beneficiaryCustomer, NoticeSentAt = context.Now };
            context.Data = context.Data.With(RefundStatuses.NoticeSent, context.Now, "beneficiary notified through the channel")
                .With(RefundStatuses.AwaitingDecision, context.Now, "the money is taken back only on the bank's decision (clause 8.2.1)");
            await NotifyPayerAsync(context.Data, context.Now, cancellationToken);
            return context.WaitForEvent(OutcomeEvent, context.Now.AddDays(_options.Value.OutcomeWaitDays), "outcome", "expired");
        }

        var calendar = await _calendars.GetAsync(cancellationToken);
        if (!calendar.IsOpen(context.Now))
        {
            if (refund.Status != RefundStatuses.WaitingForOperationalDay)
            {
                context.Data = refund.With(RefundStatuses.WaitingForOperationalDay, context.Now);
            }

            return context.WaitUntil(calendar.NextOpening(context.Now), "notify");
        }

        var bank = _bank.Value;
        var message = new SettlementMessage("rtn-" + refund.DocumentId[4..], "returnRequest", context.Now, refund.BeneficiaryBic, refund.BeneficiaryIban, refund.BeneficiaryName,
            bank.Bic, refund.PayerIban, refund.DocumentId, refund.DocumentNumber, refund.DocumentDate, refund.Amount, refund.Currency, refund.Kind,
            string.Join("; ", refund.Details.Select(d => $"{d.Field}: {d.Expected} / {d.Actual}")));
        await _settlement.SendAsync(message, cancellationToken);
        context.Data = refund with { SettlementMessageId = message.MessageId, NoticeSentAt = context.Now };
        context.Data = context.Data.With(RefundStatuses.NoticeSent, context.Now, "notice sent to the beneficiary's bank " + refund.BeneficiaryBic);
        if (context.Now > refund.NoticeDeliverBy)
        {
            LogLate(_logger, refund.DocumentId, refund.NoticeDeliverBy);
            await _audit.AppendAsync(new AuditRecord(refund.CustomerId, "system", "refund.notice_late", AuditOutcome.Failed)
            {
                Target = "documents/" + refund.DocumentId,
                CorrelationId = context.InstanceId,
            }, cancellationToken);
        }

        await NotifyPayerAsync(context.Data, context.Now, cancellationToken);
        return context.WaitForEvent(OutcomeEvent, context.Now.AddDays(_options.Value.OutcomeWaitDays), "outcome", "expired");
    }

    private async Task<Transition> OutcomeAsync(StepContext<RefundCase> context, CancellationToken cancellationToken)
    {
        var refund = context.Data;
        var outcome = JsonSerializer.Deserialize<RefundOutcome>(context.Event?.Payload ?? "null", PlatformExtensions.JsonOptions)
            ?? throw new InvalidOperationException("An outcome event without an outcome.");
        if (!outcome.Returned)
        {
            context.Data = refund.With(RefundStatuses.NotReturned, context.Now, outcome.Comment);
        }
        else
        {
            var amount = outcome.Amount ?? refund.Amount;
            var result = await PostReturnAsync(refund, amount, context.Now, cancellationToken);
            context.Data = result.IsPosted
                ? (refund with { ReturnedAmount = amount, ReturnTransactionId = result.TransactionId }).With(RefundStatuses.Returned, context.Now, outcome.Comment)
                : refund.With(RefundStatuses.NotReturned, context.Now, $"the return could not be posted: {result.Refusal}; {outcome.Comment}");
        }

        await _audit.AppendAsync(new AuditRecord(refund.CustomerId, outcome.By, refund.Route == PaymentRoutes.Internal ? "refund.decided" : "refund.outcome_recorded", AuditOutcome.Success)
        {
            Target = "documents/" + refund.DocumentId,
            CorrelationId = context.InstanceId,
            Details = new Dictionary<string, string>
            {
                ["status"] = context.Data.Status,
                ["approve"] = outcome.Returned ? "true" : "false",
                ["amount"] = context.Data.ReturnedAmount?.ToString("F2", CultureInfo.InvariantCulture) ?? "0.00",
                ["comment"] = outcome.Comment ?? "",
            },
        }, cancellationToken);
        await NotifyPayerAsync(context.Data, context.Now, cancellationToken);
        if (context.Data.BeneficiaryCustomerId is { } beneficiary)
        {
            // The beneficiary at this bank learns the decision on its account too.
            await _notices.AddAsync(new NoticeRequest(beneficiary, NoticeKinds.RefundDecided, "refund-decided:" + refund.DocumentId, context.Now, refund.DocumentId,
                [refund.DocumentNumber, refund.DocumentDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), context.Data.Status,
                    context.Data.ReturnedAmount?.ToString("F2", CultureInfo.InvariantCulture) ?? "0.00", refund.Currency, refund.BeneficiaryIban]), cancellationToken);
        }

        return context.Complete("closed");
    }

    /// <summary>The return: to the payer, from the beneficiary's account here or from the settlement account (money back from the other bank).</summary>
    private Task<PostingResult> PostReturnAsync(RefundCase refund, decimal amount, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var currency = Enum.Parse<Currency>(refund.Currency);
        var source = refund.Route == PaymentRoutes.Internal
            ? LedgerAccountId.ForIban(Iban.Parse(refund.BeneficiaryIban))
            : LedgerAccountId.ForBank(BankAccount.InterbankSettlement, currency);
        var purpose = $"Возврат денег по платёжному поручению № {refund.DocumentNumber} от {refund.DocumentDate:dd.MM.yyyy} (п. 8.2)";
        return _ledger.PostAsync(new LedgerTransaction(ReturnTransactionId(refund.DocumentId), "refund",
        [
            new LedgerLeg(source, -amount, currency) { Purpose = purpose, DocumentId = refund.DocumentId, Counterparty = new Counterparty(null, refund.PayerIban, null, _bank.Value.Bic) },
            new LedgerLeg(LedgerAccountId.ForIban(Iban.Parse(refund.PayerIban)), amount, currency)
            {
                Purpose = purpose, DocumentId = refund.DocumentId, Counterparty = new Counterparty(refund.BeneficiaryName, refund.BeneficiaryIban, null, refund.BeneficiaryBic),
            },
        ])
        {
            Reference = "№ " + refund.DocumentNumber,
            ValueDate = KazakhstanTime.LocalDate(now),
        }, cancellationToken);
    }

    private Task<Notice> NotifyPayerAsync(RefundCase refund, DateTimeOffset now, CancellationToken cancellationToken) =>
        _notices.AddAsync(new NoticeRequest(refund.CustomerId, NoticeKinds.ErrorReportUpdated, $"error-report:{refund.DocumentId}:{refund.History.Count}", now, refund.DocumentId,
            [refund.DocumentNumber, refund.Status, refund.ReturnedAmount?.ToString("F2", CultureInfo.InvariantCulture) ?? "0.00", refund.Currency]), cancellationToken);

    [LoggerMessage(Level = LogLevel.Error, Message = "The return notice for {DocumentId} went out after its deadline {DeliverBy:O} (clause 8.2)")]
    private static partial void LogLate(ILogger logger, string documentId, DateTimeOffset deliverBy);
}

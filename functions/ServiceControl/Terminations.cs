using System.Globalization;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Customers;
using BusinessApi.Documents;
using BusinessApi.Documents.Signatures;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.ServiceControl;

/// <summary>The termination workflow's state: whose service ends, and when.</summary>
public sealed record TerminationRun(string CustomerId, DateOnly EffectiveDate, string Initiator)
{
    public int CredentialsRevoked { get; init; }

    public int UsersSignedOut { get; init; }
}

/// <summary>
/// The end of the API service, at the customer's request (6.2.6) or the bank's (5.2.7), with 3 working days'
/// notice either way. The date is on the customer from the request on, so every check refuses client software from
/// 00:00 of the effective date whatever this workflow's lag; the workflow then makes it final: it waits (a durable
/// timer) for that instant unless cancelled, revokes every Client ID, ends every session, marks the customer
/// terminated and sends the notice. People keep reading in Internet-banking for the archive period.
/// </summary>
public sealed class TerminationWorkflow : WorkflowDefinition<TerminationRun>
{
    public const string WorkflowName = "service-termination";
    public const string CancelEvent = "cancel";

    private readonly CustomerStore _customers;
    private readonly AccessShutdown _shutdown;
    private readonly NoticeChannel _notices;
    private readonly AuditJournal _audit;

    public TerminationWorkflow(CustomerStore customers, AccessShutdown shutdown, NoticeChannel notices, AuditJournal audit)
        : base(WorkflowName)
    {
        _customers = customers;
        _shutdown = shutdown;
        _notices = notices;
        _audit = audit;
        Step("scheduled", next: ["cancelled", "terminate"], (context, _) => Task.FromResult(context.WaitForEvent(CancelEvent, KazakhstanTime.At(context.Data.EffectiveDate, TimeSpan.Zero), "cancelled", "terminate")));
        Step("terminate", next: ["terminated", "withdrawn"], TerminateAsync);
        Step("cancelled", next: ["withdrawn"], (context, _) => Task.FromResult(context.Complete("withdrawn")));
        Terminal("terminated", "withdrawn");
    }

    public static WorkflowLocation Location(string customerId, string instanceId) => new(CustomerStore.TableName, customerId, "wf|" + instanceId);

    private async Task<Transition> TerminateAsync(StepContext<TerminationRun> context, CancellationToken cancellationToken)
    {
        var run = context.Data;
        var customer = await _customers.GetAsync(run.CustomerId, cancellationToken);
        if (customer?.Termination?.EffectiveDate != run.EffectiveDate)
        {
            return context.Complete("withdrawn"); // cancelled or re-dated while the timer fired
        }

        const string actor = "system";
        var (revoked, signedOut) = await _shutdown.ShutAsync(run.CustomerId, CredentialStatus.Revoked, "service_terminated", actor, context.InstanceId, cancellationToken);

        await _customers.ChangeAsync(run.CustomerId, c => c.Status == CustomerStatus.Terminated ? null : c with { Status = CustomerStatus.Terminated, StatusChangedAt = context.Now }, cancellationToken);
        await _notices.AddAsync(new NoticeRequest(run.CustomerId, NoticeKinds.ServiceTerminated, context.InstanceId + ":terminated", context.Now, null,
            [run.EffectiveDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)]), cancellationToken);
        await _audit.AppendAsync(new AuditRecord(run.CustomerId, actor, "customer.terminated", AuditOutcome.Success)
        {
            Target = "customers/" + run.CustomerId,
            CorrelationId = context.InstanceId,
            Details = new Dictionary<string, string>
            {
                ["effectiveDate"] = run.EffectiveDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["initiator"] = run.Initiator,
                ["credentialsRevoked"] = revoked.ToString(CultureInfo.InvariantCulture),
                ["usersSignedOut"] = signedOut.ToString(CultureInfo.InvariantCulture),
            },
        }, cancellationToken);
        context.Data = run with { CredentialsRevoked = revoked, UsersSignedOut = signedOut };
        return context.Complete("terminated");
    }
}

/// <summary>Scheduling and withdrawing terminations, for the customer's admin and for operators.</summary>
public sealed class Terminations(CustomerStore customers, CalendarProvider calendars, WorkflowEngine engine, TerminationWorkflow workflow, NoticeChannel notices,
    AuditJournal audit, TimeProvider time)
{
    public static readonly ProblemType NoticeTooShort = new("termination_notice_too_short", StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType AlreadyScheduled = new("termination_scheduled", StatusCodes.Status409Conflict);
    public static readonly ProblemType NotScheduled = new("termination_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType AlreadyEffective = new("termination_effective", StatusCodes.Status409Conflict);

    public const string ByCustomer = "customer";
    public const string ByBank = "bank";

    public async Task<Results<Ok<TerminationResponse>, ProblemResult>> ScheduleAsync(
        string customerId, TerminationRequest request, string initiator, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var today = KazakhstanTime.LocalDate(now);
        var calendar = await calendars.GetAsync(cancellationToken);
        var earliest = NoticeDeadlines.EarliestTermination(calendar, today);
        var date = request.EffectiveDate!.Value;
        if (date < earliest)
        {
            return ProblemResult.For(new ApiProblem(NoticeTooShort)
            {
                DetailArguments = [earliest.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)],
                Extensions = new Dictionary<string, object?> { ["earliestEffectiveDate"] = earliest },
            });
        }

        Termination? existing = null;
        var termination = new Termination(date, initiator, now, actor, request.Reason);
        var (customer, changed) = await customers.ChangeAsync(customerId, c =>
        {
            existing = c.Termination;
            return existing is null && c.Status != CustomerStatus.Terminated ? c with { Termination = termination } : null;
        }, cancellationToken);
        if (customer is null)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        if (!changed)
        {
            return ProblemResult.For(new ApiProblem(AlreadyScheduled) { Extensions = new Dictionary<string, object?> { ["termination"] = existing } });
        }

        var instanceId = InstanceId(customerId, termination);
        await engine.StartAsync(workflow, TerminationWorkflow.Location(customerId, instanceId), instanceId, new TerminationRun(customerId, date, initiator), cancellationToken: cancellationToken);

        // The bank's own termination must reach the customer 3 working days ahead (5.2.7).
        DateTimeOffset? deliverBy = initiator == ByBank ? NoticeDeadlines.BankTermination(calendar, date) : null;
        await notices.AddAsync(new NoticeRequest(customerId, NoticeKinds.TerminationScheduled, instanceId + ":scheduled", now, null,
            [date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), initiator])
        {
            DeliverBy = deliverBy,
        }, cancellationToken);
        await AuditAsync(customerId, actor, "customer.termination_scheduled", correlationId, termination, cancellationToken);
        return TypedResults.Ok(TerminationResponse.From(termination, now));
    }

    public async Task<Results<Ok<TerminationResponse>, ProblemResult>> WithdrawAsync(string customerId, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Termination? withdrawn = null;
        var (customer, changed) = await customers.ChangeAsync(customerId, c =>
        {
            withdrawn = c.Termination;
            return withdrawn is not null && c.StatusAt(now) != CustomerStatus.Terminated ? c with { Termination = null } : null;
        }, cancellationToken);
        if (customer is null || withdrawn is null)
        {
            return ProblemResult.For(customer is null ? PlatformProblems.NotFound : NotScheduled);
        }

        if (!changed)
        {
            return ProblemResult.For(AlreadyEffective);
        }

        var instanceId = InstanceId(customerId, withdrawn);
        await engine.RaiseEventAsync(TerminationWorkflow.Location(customerId, instanceId), TerminationWorkflow.CancelEvent, null, cancellationToken);
        await notices.AddAsync(new NoticeRequest(customerId, NoticeKinds.TerminationCancelled, instanceId + ":withdrawn", now, null,
            [withdrawn.EffectiveDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)]), cancellationToken);
        await AuditAsync(customerId, actor, "customer.termination_withdrawn", correlationId, withdrawn, cancellationToken);
        return TypedResults.Ok(TerminationResponse.From(withdrawn, now) with { Status = "withdrawn" });
    }

    public async Task<Results<Ok<TerminationResponse>, ProblemResult>> GetAsync(string customerId, CancellationToken cancellationToken) =>
        await customers.GetAsync(customerId, cancellationToken) is { Termination: { } termination }
            ? TypedResults.Ok(TerminationResponse.From(termination, time.GetUtcNow()))
            : ProblemResult.For(NotScheduled);

    private static string InstanceId(string customerId, Termination termination) =>
        $"termination-{customerId}-{termination.RequestedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}";

    private Task<AuditEntry> AuditAsync(string customerId, string actor, string action, string? correlationId, Termination termination, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditRecord(customerId, actor, action, AuditOutcome.Success)
        {
            Target = "customers/" + customerId,
            CorrelationId = correlationId,
            Details = new Dictionary<string, string>
            {
                ["effectiveDate"] = termination.EffectiveDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["initiator"] = termination.Initiator,
                ["reason"] = termination.Reason ?? "",
            },
        }, cancellationToken);

    // ---- endpoints ----

    public const string InstructionType = "terminationRequest";

    /// <summary>The customer's request to end the service: signed with an EDS by an admin, archived byte for byte.</summary>
    public static async Task<Results<Ok<TerminationResponse>, ProblemResult>> RequestByCustomerAsync(
        HttpContext context, SignedInstructionReader reader, DocumentArchive archive, Terminations terminations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(archive);
        var (signed, problem) = await reader.ReadAsync<TerminationRequest>(context, InstructionType, null, user => user.IsAdmin, cancellationToken);
        if (signed is null)
        {
            return problem!;
        }

        // Kept before it takes effect, named by its own hash: a repeat of the same signed request is the same blob.
        var customerId = context.User.CustomerId()!;
        await archive.WriteOnceAsync($"{customerId}/termination/{DocumentArchive.Sha256(signed.Cms)}.p7s", signed.Cms, cancellationToken);
        return await terminations.ScheduleAsync(customerId, signed.Request, ByCustomer, context.User.Actor(), context.TraceIdentifier, cancellationToken);
    }

    public static Task<Results<Ok<TerminationResponse>, ProblemResult>> WithdrawByCustomerAsync(HttpContext context, Terminations terminations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return terminations.WithdrawAsync(context.User.CustomerId()!, context.User.Actor(), context.TraceIdentifier, cancellationToken);
    }

    public static Task<Results<Ok<TerminationResponse>, ProblemResult>> GetForCustomerAsync(HttpContext context, Terminations terminations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return terminations.GetAsync(context.User.CustomerId()!, cancellationToken);
    }

    public static Task<Results<Ok<TerminationResponse>, ProblemResult>> RequestByBankAsync(
        string customerId, TerminationRequest request, HttpContext context, Terminations terminations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return terminations.ScheduleAsync(customerId, request, ByBank, context.User.Actor(), context.TraceIdentifier, cancellationToken);
    }

    public static Task<Results<Ok<TerminationResponse>, ProblemResult>> WithdrawByBankAsync(
        string customerId, HttpContext context, Terminations terminations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return terminations.WithdrawAsync(customerId, context.User.Actor(), context.TraceIdentifier, cancellationToken);
    }
}

/// <param name="EffectiveDate">The first day without the service: at least 3 working days after today (local date).</param>
public sealed record TerminationRequest(DateOnly? EffectiveDate, string? Reason) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("effectiveDate", EffectiveDate);
        if (Reason is { Length: > 500 })
        {
            errors.Add("reason", "too_long", 500);
        }
    }
}

/// <param name="Status"><c>scheduled</c>, <c>effective</c> (from 00:00 local of the date) or <c>withdrawn</c>.</param>
public sealed record TerminationResponse(DateOnly EffectiveDate, DateTimeOffset EffectiveAt, string Initiator, DateTimeOffset RequestedAt, string? Reason, string Status)
{
    public static TerminationResponse From(Termination termination, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(termination);
        var at = KazakhstanTime.At(termination.EffectiveDate, TimeSpan.Zero);
        return new(termination.EffectiveDate, at, termination.Initiator, termination.RequestedAt, termination.Reason, now >= at ? "effective" : "scheduled");
    }
}

using System.Globalization;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.ServiceControl;

/// <summary>
/// <c>POST /ops/customers/{customerId}/suspension</c> and <c>DELETE</c> the same: the bank stops a
/// customer's electronic services on suspicion of unauthorised access, a breach of the terms or a technical fault,
/// with a notice due by the end of the working day after discovery, and resumes them with a notice.
/// </summary>
public sealed class Suspensions(CustomerStore customers, NoticeChannel notices, CalendarProvider calendars, AuditJournal audit, TimeProvider time)
{
    public static readonly ProblemType AlreadySuspended = new("already_suspended", StatusCodes.Status409Conflict);
    public static readonly ProblemType NotSuspended = new("not_suspended", StatusCodes.Status409Conflict);

    /// <summary>Suspends (once: a second suspension answers the first) and sends the notice; false when the customer is already suspended.</summary>
    public async Task<(Customer? Customer, bool Suspended)> SuspendAsync(
        string customerId, string reason, DateTimeOffset discoveredAt, string by, string? comment, string? correlationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (customer, changed) = await customers.ChangeAsync(customerId, c => c.Suspension is null
            ? c with { Suspension = new Suspension(reason, now, discoveredAt, by, comment), Status = c.Status == CustomerStatus.Terminated ? c.Status : CustomerStatus.Suspended, StatusChangedAt = now }
            : null, cancellationToken);
        if (customer is null || !changed)
        {
            return (customer, false);
        }

        var calendar = await calendars.GetAsync(cancellationToken);
        var deliverBy = NoticeDeadlines.Suspension(calendar, discoveredAt);
        await notices.AddAsync(new NoticeRequest(customerId, NoticeKinds.ServiceSuspended, $"suspension:{customerId}:{now.UtcTicks}", now, null,
            [reason, KazakhstanTime.Text(now)])
        {
            DeliverBy = deliverBy,
        }, cancellationToken);
        await audit.AppendAsync(new AuditRecord(customerId, by, "customer.suspended", AuditOutcome.Success)
        {
            Target = "customers/" + customerId,
            CorrelationId = correlationId,
            Details = new Dictionary<string, string>
            {
                ["reason"] = reason,
                ["discoveredAt"] = discoveredAt.ToString("O", CultureInfo.InvariantCulture),
                ["noticeDeliverBy"] = deliverBy.ToString("O", CultureInfo.InvariantCulture),
                ["comment"] = comment ?? "",
            },
        }, cancellationToken);
        return (customer, true);
    }

    public async Task<(Customer? Customer, bool Resumed)> ResumeAsync(string customerId, string by, string? comment, string? correlationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Suspension? ended = null;
        var (customer, changed) = await customers.ChangeAsync(customerId, c =>
        {
            ended = c.Suspension;
            return ended is null ? null : c with { Suspension = null, Status = c.Status == CustomerStatus.Suspended ? CustomerStatus.Active : c.Status, StatusChangedAt = now };
        }, cancellationToken);
        if (customer is null || !changed)
        {
            return (customer, false);
        }

        await notices.AddAsync(new NoticeRequest(customerId, NoticeKinds.ServiceResumed, $"resumption:{customerId}:{now.UtcTicks}", now, null,
            [KazakhstanTime.Text(now)]), cancellationToken);
        await audit.AppendAsync(new AuditRecord(customerId, by, "customer.resumed", AuditOutcome.Success)
        {
            Target = "customers/" + customerId,
            CorrelationId = correlationId,
            Details = new Dictionary<string, string> { ["suspendedFor"] = ended!.Reason, ["suspendedAt"] = ended.Since.ToString("O", CultureInfo.InvariantCulture), ["comment"] = comment ?? "" },
        }, cancellationToken);
        return (customer, true);
    }

    // ---- endpoints ----

    public static async Task<Results<Ok<CustomerResponse>, ProblemResult>> PostAsync(
        string customerId, SuspensionRequest request, HttpContext context, Suspensions suspensions, CustomerStore customers, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var now = time.GetUtcNow();
        if (request.DiscoveredAt > now)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("discoveredAt", "date_in_future")] });
        }

        var (customer, suspended) = await suspensions.SuspendAsync(customerId, request.Reason!, request.DiscoveredAt ?? now, context.User.Actor(), request.Comment,
            context.TraceIdentifier, cancellationToken);
        return customer is null ? ProblemResult.For(PlatformProblems.NotFound)
            : !suspended ? ProblemResult.For(new ApiProblem(AlreadySuspended) { Extensions = new Dictionary<string, object?> { ["suspension"] = customer.Suspension } })
            : TypedResults.Ok(CustomerResponse.From(customer, now));
    }

    public static async Task<Results<Ok<CustomerResponse>, ProblemResult>> DeleteAsync(
        string customerId, string? comment, HttpContext context, Suspensions suspensions, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (customer, resumed) = await suspensions.ResumeAsync(customerId, context.User.Actor(), comment, context.TraceIdentifier, cancellationToken);
        return customer is null ? ProblemResult.For(PlatformProblems.NotFound)
            : !resumed ? ProblemResult.For(NotSuspended)
            : TypedResults.Ok(CustomerResponse.From(customer, time.GetUtcNow()));
    }
}

/// <param name="Reason"><c>unauthorizedAccess</c> (reads stop too), <c>breach</c>, <c>technicalFault</c> or <c>other</c>.</param>
/// <param name="DiscoveredAt">When the grounds were found (default: now); the notice is due by the end of the next working day.</param>
public sealed record SuspensionRequest(string? Reason, DateTimeOffset? DiscoveredAt, string? Comment) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("reason", Reason) && (Reason == SuspensionReasons.SecurityIncident || !SuspensionReasons.All.Contains(Reason!, StringComparer.Ordinal)))
        {
            errors.Add("reason", "unknown_suspension_reason", string.Join(", ", SuspensionReasons.All.Where(r => r != SuspensionReasons.SecurityIncident)));
        }

        if (Comment is { Length: > 500 })
        {
            errors.Add("comment", "too_long", 500);
        }
    }
}

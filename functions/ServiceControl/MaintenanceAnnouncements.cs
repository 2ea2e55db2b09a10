using System.Globalization;
using System.Security.Cryptography;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.ServiceControl;

/// <summary>The broadcast's state: which window, and how far through the customers it has gone.</summary>
public sealed record MaintenanceBroadcast(string MaintenanceId, string Kind, DateTimeOffset? DeliverBy, IReadOnlyList<string> Arguments)
{
    public string? Continuation { get; init; }

    public int Sent { get; init; }
}

/// <summary>
/// Posts a maintenance notice to every customer served: one page of customers per step, the page's position kept
/// in the instance, so a crash resumes where it stopped and a repeated page re-adds nothing (the notice's id is
/// derived from the window and the customer). Each notice carries the terms' deadline, and goes out on every
/// webhook subscribed to it.
/// </summary>
public sealed class MaintenanceBroadcastWorkflow : WorkflowDefinition<MaintenanceBroadcast>
{
    public const string WorkflowName = "maintenance-broadcast";
    private const int PageSize = 100;

    private readonly TableClient _customers;
    private readonly NoticeChannel _notices;

    public MaintenanceBroadcastWorkflow(StorageResources storage, NoticeChannel notices)
        : base(WorkflowName)
    {
        _customers = storage.Table(CustomerStore.TableName);
        _notices = notices;
        Step("send", next: ["send", "sent"], SendAsync);
        Terminal("sent");
    }

    public static WorkflowLocation Location(string maintenanceId) => new(MaintenanceSchedule.TableName, MaintenanceSchedule.Partition, "wf|" + maintenanceId);

    private async Task<Transition> SendAsync(StepContext<MaintenanceBroadcast> context, CancellationToken cancellationToken)
    {
        var run = context.Data;
        var query = _customers.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {"customer"}"), maxPerPage: PageSize,
            select: ["PartitionKey", "Status", "TerminationDate"], cancellationToken: cancellationToken);
        await foreach (var page in query.AsPages(run.Continuation, PageSize).WithCancellation(cancellationToken))
        {
            var today = KazakhstanTime.LocalDate(context.Now).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var served = page.Values.Where(c => c.GetString("Status") != nameof(CustomerStatus.Terminated)
                && string.CompareOrdinal(c.GetString("TerminationDate") ?? "9999-12-31", today) > 0).ToList();
            await Parallel.ForEachAsync(served, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (customer, ct) =>
                await _notices.AddAsync(new NoticeRequest(customer.PartitionKey, run.Kind, $"maintenance:{run.MaintenanceId}:{customer.PartitionKey}", context.Now, run.MaintenanceId,
                    [.. run.Arguments]) { DeliverBy = run.DeliverBy }, ct));
            context.Data = run with { Continuation = page.ContinuationToken, Sent = run.Sent + served.Count };
            return page.ContinuationToken is null ? context.Complete("sent") : context.GoTo("send");
        }

        return context.Complete("sent");
    }
}

/// <summary>
/// <c>POST /ops/maintenance</c> (R-62): planned works must be announced no later than the working day before
/// they start (refused when it is too late to give that notice); emergency works are announced after the fact.
/// The window shows in <c>GET /operational-day</c> and reaches every customer's channel.
/// </summary>
public static class MaintenanceAnnouncements
{
    public static readonly ProblemType NoticeTooLate = new("maintenance_notice_too_late", StatusCodes.Status422UnprocessableEntity);

    public static async Task<Results<Created<MaintenanceResponse>, ProblemResult>> PostAsync(
        MaintenanceRequest request, HttpContext context, MaintenanceSchedule schedule, CalendarProvider calendars, WorkflowEngine engine,
        MaintenanceBroadcastWorkflow broadcast, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var now = time.GetUtcNow();
        var startsAt = request.StartsAt!.Value;
        var endsAt = request.EndsAt!.Value;
        var planned = request.Planned!.Value;
        var calendar = await calendars.GetAsync(cancellationToken);
        DateTimeOffset? deliverBy = null;
        if (planned)
        {
            deliverBy = NoticeDeadlines.PlannedMaintenance(calendar, startsAt);
            if (now > deliverBy || startsAt <= now)
            {
                var earliest = EarliestPlannedStart(calendar, KazakhstanTime.LocalDate(now));
                return ProblemResult.For(new ApiProblem(NoticeTooLate)
                {
                    DetailArguments = [earliest.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)],
                    Extensions = new Dictionary<string, object?> { ["earliestStartDate"] = earliest },
                });
            }
        }

        var window = new MaintenanceWindow("mnt_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), startsAt, endsAt, planned, request.Message!.Trim(), now, context.User.Actor())
        {
            NoticeDeliverBy = deliverBy,
        };
        var run = new MaintenanceBroadcast(window.MaintenanceId, planned ? NoticeKinds.MaintenancePlanned : NoticeKinds.MaintenanceEmergency, deliverBy,
            [KazakhstanTime.Text(startsAt), KazakhstanTime.Text(endsAt), window.Message]);

        // The window and its broadcast commit together: announced means every customer will be told.
        await engine.StartAsync(broadcast, MaintenanceBroadcastWorkflow.Location(window.MaintenanceId), "maintenance-" + window.MaintenanceId, run,
            [new TableTransactionAction(TableTransactionActionType.Add, schedule.ToEntity(window))], cancellationToken: cancellationToken);
        schedule.Forget();
        await audit.AppendAsync(new AuditRecord("bank", context.User.Actor(), planned ? "maintenance.announced" : "maintenance.emergency_reported", AuditOutcome.Success)
        {
            Target = "maintenance/" + window.MaintenanceId,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["startsAt"] = startsAt.ToString("O", CultureInfo.InvariantCulture),
                ["endsAt"] = endsAt.ToString("O", CultureInfo.InvariantCulture),
                ["noticeDeliverBy"] = deliverBy?.ToString("O", CultureInfo.InvariantCulture) ?? "",
            },
        }, cancellationToken);
        return TypedResults.Created($"/api/v1/operational-day", MaintenanceResponse.From(window));
    }

    public static async Task<Ok<IReadOnlyList<MaintenanceResponse>>> ListAsync(MaintenanceSchedule schedule, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<MaintenanceResponse>>([.. (await schedule.CurrentAndUpcomingAsync(time.GetUtcNow(), cancellationToken)).Select(MaintenanceResponse.From)]);

    /// <summary>The first date planned works may start on when announced on <paramref name="today"/>: one whose previous working day is not before today.</summary>
    public static DateOnly EarliestPlannedStart(BankCalendar calendar, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var date = today.AddDays(1);
        while (calendar.AddWorkingDays(date, -1) < today)
        {
            date = date.AddDays(1);
        }

        return date;
    }
}

/// <param name="Planned">true: planned works (announced by the working day before); false: emergency works (announced after the fact).</param>
public sealed record MaintenanceRequest(DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, bool? Planned, string? Message) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("startsAt", StartsAt);
        errors.Required("planned", Planned);
        if (errors.Required("endsAt", EndsAt) && StartsAt is { } start && EndsAt <= start)
        {
            errors.Add("endsAt", "not_after_start");
        }

        if (errors.Required("message", Message) && Message!.Trim().Length > 1000)
        {
            errors.Add("message", "too_long", 1000);
        }
    }
}

public sealed record MaintenanceResponse(string MaintenanceId, DateTimeOffset StartsAt, DateTimeOffset EndsAt, bool Planned, string Message, DateTimeOffset AnnouncedAt, DateTimeOffset? NoticeDeliverBy)
{
    public static MaintenanceResponse From(MaintenanceWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new(window.MaintenanceId, KazakhstanTime.ToLocal(window.StartsAt), KazakhstanTime.ToLocal(window.EndsAt), window.Planned, window.Message, window.AnnouncedAt, window.NoticeDeliverBy);
    }
}

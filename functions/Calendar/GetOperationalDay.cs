using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Calendar;

/// <summary><c>GET /api/v1/operational-day</c>: today's date, hours, open or closed, and the next operational day.</summary>
public static class GetOperationalDay
{
    public static async Task<Ok<OperationalDayResponse>> HandleAsync(CalendarProvider calendars, MaintenanceSchedule maintenance, TimeProvider time, CancellationToken cancellationToken)
    {
        var calendar = await calendars.GetAsync(cancellationToken);
        var windows = await maintenance.CurrentAndUpcomingAsync(time.GetUtcNow(), cancellationToken);
        var now = KazakhstanTime.ToLocal(time.GetUtcNow());
        var today = DateOnly.FromDateTime(now.DateTime);
        var working = calendar.IsWorkingDay(today);
        var operationalDate = calendar.OperationalDayOfReceipt(now);
        var next = calendar.NextWorkingDay(today);
        return TypedResults.Ok(new OperationalDayResponse(
            Now: now,
            TimeZone: "UTC+05:00",
            Date: today,
            IsWorkingDay: working,
            Holiday: calendar.HolidayOn(today)?.Name,
            IsOpen: calendar.IsOpen(now),
            Hours: working ? HoursBody.From(calendar.HoursOn(today)) : null,
            OpensAt: working ? calendar.StartOfOperationalDay(today) : null,
            ClosesAt: working ? calendar.EndOfOperationalDay(today) : null,
            OperationalDate: operationalDate,
            NextOperationalDay: new OperationalDayBody(next, HoursBody.From(calendar.HoursOn(next)), calendar.StartOfOperationalDay(next), calendar.EndOfOperationalDay(next)),
            ScheduleChanges: [.. calendar.HoursChanges.Where(c => c.EffectiveFrom > today).Select(HoursChangeBody.From)],
            CalendarKnown: calendar.Covers(today.Year))
        {
            Maintenance = [.. windows.Select(w => MaintenanceBody.From(w))],
            UnderMaintenance = windows.Any(w => w.StartsAt <= now),
        });
    }
}

/// <param name="Now">The current local time (UTC+5).</param>
/// <param name="OperationalDate">The operational day a document received now is processed in.</param>
/// <param name="CalendarKnown">False when the bank has no holiday data for this year (only weekends are known).</param>
public sealed record OperationalDayResponse(
    DateTimeOffset Now,
    string TimeZone,
    DateOnly Date,
    bool IsWorkingDay,
    string? Holiday,
    bool IsOpen,
    HoursBody? Hours,
    DateTimeOffset? OpensAt,
    DateTimeOffset? ClosesAt,
    DateOnly OperationalDate,
    OperationalDayBody NextOperationalDay,
    IReadOnlyList<HoursChangeBody> ScheduleChanges,
    bool CalendarKnown)
{
    /// <summary>Technical works in progress or announced (5.2.11, 5.2.12), soonest first.</summary>
    public IReadOnlyList<MaintenanceBody> Maintenance { get; init; } = [];

    public bool UnderMaintenance { get; init; }
}

public sealed record MaintenanceBody(string MaintenanceId, DateTimeOffset StartsAt, DateTimeOffset EndsAt, bool Planned, string Message)
{
    public static MaintenanceBody From(MaintenanceWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new(window.MaintenanceId, KazakhstanTime.ToLocal(window.StartsAt), KazakhstanTime.ToLocal(window.EndsAt), window.Planned, window.Message);
    }
}

public sealed record OperationalDayBody(DateOnly Date, HoursBody Hours, DateTimeOffset OpensAt, DateTimeOffset ClosesAt);

/// <summary>Hours as <c>HH:mm</c> local time; <c>close</c> may be <c>24:00</c>.</summary>
public sealed record HoursBody(string Open, string Close)
{
    public static HoursBody From(OperationalHours hours) => new(OperationalHours.Format(hours.Open), OperationalHours.Format(hours.Close));
}

public sealed record HoursChangeBody(DateOnly EffectiveFrom, string Open, string Close, DateTimeOffset PublishedAt)
{
    public static HoursChangeBody From(OperationalHoursChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return new HoursChangeBody(change.EffectiveFrom, OperationalHours.Format(change.Hours.Open), OperationalHours.Format(change.Hours.Close), KazakhstanTime.ToLocal(change.PublishedAt));
    }
}

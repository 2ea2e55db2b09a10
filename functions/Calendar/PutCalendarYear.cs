using System.Globalization;
using System.Security.Claims;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Calendar;

/// <summary>
/// <c>PUT /api/v1/ops/calendar/{year}</c>: replaces the year's holidays and transferred working days
/// (when given) and publishes an operational-hours change (when given), which takes effect no sooner
/// than 3 working days after publication (R-35, clause 3.7). Every change is audited.
/// </summary>
public static class PutCalendarYear
{
    public static async Task<Results<Ok<CalendarYearResponse>, ProblemResult>> HandleAsync(
        int year,
        PutCalendarYearRequest request,
        HttpContext httpContext,
        CalendarProvider calendars,
        CalendarStore store,
        AuditJournal audit,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(httpContext);
        var calendar = await calendars.GetAsync(cancellationToken);
        var existing = calendar.Years.FirstOrDefault(y => y.Year == year);
        var errors = Validate(year, request, existing, out var hours);
        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var now = time.GetUtcNow();
        var actor = httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
        OperationalHoursChange? change = null;
        if (hours is { } newHours)
        {
            var earliest = calendar.EarliestScheduleChange(now);
            var firstOfYear = new DateOnly(year, 1, 1);
            var effectiveFrom = request.OperationalHours!.EffectiveFrom ?? (earliest > firstOfYear ? earliest : firstOfYear);
            if (effectiveFrom < earliest || effectiveFrom.Year != year)
            {
                return ProblemResult.For(ApiProblem.Of(CalendarProblems.ScheduleChangeTooSoon, earliest.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)) with
                {
                    Extensions = new Dictionary<string, object?> { ["earliestEffectiveFrom"] = earliest },
                });
            }

            change = new OperationalHoursChange(effectiveFrom, newHours, now, actor);
        }

        if (request.Holidays is not null || request.TransferredWorkingDays is not null)
        {
            var updated = new CalendarYear(
                year,
                request.Holidays?.Select(h => new CalendarHoliday(h!.Date!.Value, h.Name!.Trim(), h.Kind ?? HolidayKind.Holiday)).OrderBy(h => h.Date).ToList()
                    ?? existing?.Holidays ?? [],
                request.TransferredWorkingDays?.Select(d => new TransferredWorkingDay(d!.Date!.Value, d.Name!.Trim())).OrderBy(d => d.Date).ToList()
                    ?? existing?.TransferredWorkingDays ?? [])
            {
                Source = "published by the bank",
                UpdatedAt = now,
                UpdatedBy = actor,
            };
            await store.SaveYearAsync(updated, cancellationToken);
            await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, actor, "calendar.updated", AuditOutcome.Success)
            {
                Target = $"calendar/{year}",
                CorrelationId = httpContext.TraceIdentifier,
                Details = new Dictionary<string, string>
                {
                    ["holidays"] = updated.Holidays.Count.ToString(CultureInfo.InvariantCulture),
                    ["transferredWorkingDays"] = updated.TransferredWorkingDays.Count.ToString(CultureInfo.InvariantCulture),
                },
            }, cancellationToken);
        }

        if (change is not null)
        {
            await store.SaveHoursChangeAsync(change, cancellationToken);
            await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, actor, "calendar.hours_change_published", AuditOutcome.Success)
            {
                Target = $"calendar/{year}",
                CorrelationId = httpContext.TraceIdentifier,
                Details = new Dictionary<string, string>
                {
                    ["effectiveFrom"] = change.EffectiveFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["hours"] = change.Hours.ToString(),
                },
            }, cancellationToken);
        }

        calendars.Invalidate();
        var refreshed = await calendars.GetAsync(cancellationToken);
        return TypedResults.Ok(CalendarYearResponse.From(refreshed, year) with
        {
            Published = change is null ? null : HoursChangeBody.From(change),
        });
    }

    /// <summary>All rule breaks at once, judged against the year as it will be (<paramref name="existing"/> fills the lists not sent); pure.</summary>
    public static ValidationErrors Validate(int year, PutCalendarYearRequest request, CalendarYear? existing, out OperationalHours? hours)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new ValidationErrors();
        hours = null;
        if (year is < GetCalendarYear.MinYear or > GetCalendarYear.MaxYear)
        {
            errors.Add("year", "out_of_range", GetCalendarYear.MinYear, GetCalendarYear.MaxYear);
            return errors;
        }

        if (request.Holidays is null && request.TransferredWorkingDays is null && request.OperationalHours is null)
        {
            errors.Add("$", "calendar_change_empty");
        }

        var holidayDates = new HashSet<DateOnly>();
        for (var i = 0; i < (request.Holidays?.Count ?? 0); i++)
        {
            var holiday = request.Holidays![i];
            CheckDay(errors, $"holidays[{i}]", year, holiday?.Date, holiday?.Name, holidayDates);
        }

        if (request.Holidays is null)
        {
            holidayDates.UnionWith(existing?.Holidays.Select(h => h.Date) ?? []);
        }

        var workingDates = new HashSet<DateOnly>();
        for (var i = 0; i < (request.TransferredWorkingDays?.Count ?? 0); i++)
        {
            var day = request.TransferredWorkingDays![i];
            var field = $"transferredWorkingDays[{i}]";
            if (CheckDay(errors, field, year, day?.Date, day?.Name, workingDates) is { } date)
            {
                if (holidayDates.Contains(date))
                {
                    errors.Add($"{field}.date", "conflicting_day");
                }
                else if (date.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
                {
                    errors.Add($"{field}.date", "not_a_weekend_day");
                }
            }
        }

        if (request.TransferredWorkingDays is null && request.Holidays is not null)
        {
            foreach (var (working, index) in (existing?.TransferredWorkingDays ?? []).Select((d, i) => (d.Date, i)))
            {
                var clash = request.Holidays.Select((h, i) => (h?.Date, i)).FirstOrDefault(h => h.Date == working);
                if (clash.Date is not null)
                {
                    errors.Add($"holidays[{clash.i}].date", "conflicting_day");
                }
            }
        }

        if (request.OperationalHours is { } change)
        {
            if (errors.Required("operationalHours.open", change.Open) & errors.Required("operationalHours.close", change.Close))
            {
                if (OperationalHours.TryCreate(change.Open, change.Close, out var parsed))
                {
                    hours = parsed;
                }
                else
                {
                    errors.Add("operationalHours", "invalid_hours");
                }
            }

            if (change.EffectiveFrom is { } from && from.Year != year)
            {
                errors.Add("operationalHours.effectiveFrom", "date_outside_year", year);
            }
        }

        return errors;
    }

    private static DateOnly? CheckDay(ValidationErrors errors, string field, int year, DateOnly? date, string? name, HashSet<DateOnly> seen)
    {
        errors.Required($"{field}.name", name);
        if (name is { Length: > 200 })
        {
            errors.Add($"{field}.name", "too_long", 200);
        }

        if (!errors.Required($"{field}.date", date))
        {
            return null;
        }

        if (date!.Value.Year != year)
        {
            errors.Add($"{field}.date", "date_outside_year", year);
            return null;
        }

        if (!seen.Add(date.Value))
        {
            errors.Add($"{field}.date", "duplicate");
            return null;
        }

        return date;
    }
}

/// <param name="Holidays">When given, replaces the year's days off (holidays, religious days, transferred days off).</param>
/// <param name="TransferredWorkingDays">When given, replaces the weekend dates made working by decree.</param>
/// <param name="OperationalHours">When given, publishes new hours from <c>effectiveFrom</c> (default: the earliest allowed).</param>
public sealed record PutCalendarYearRequest(
    IReadOnlyList<HolidayInput?>? Holidays,
    IReadOnlyList<WorkingDayInput?>? TransferredWorkingDays,
    HoursChangeInput? OperationalHours);

public sealed record HolidayInput(DateOnly? Date, string? Name, HolidayKind? Kind);

public sealed record WorkingDayInput(DateOnly? Date, string? Name);

/// <param name="Open">Local opening time, <c>HH:mm</c>.</param>
/// <param name="Close">Local closing time, <c>HH:mm</c> or <c>24:00</c>.</param>
public sealed record HoursChangeInput(string? Open, string? Close, DateOnly? EffectiveFrom);

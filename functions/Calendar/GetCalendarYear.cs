using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Calendar;

/// <summary><c>GET /api/v1/ops/calendar/{year}</c>: the year's days off, extra working days and hours schedule.</summary>
public static class GetCalendarYear
{
    public const int MinYear = 2000;
    public const int MaxYear = 2100;

    public static async Task<Results<Ok<CalendarYearResponse>, NotFound>> HandleAsync(int year, CalendarProvider calendars, CancellationToken cancellationToken)
    {
        if (year is < MinYear or > MaxYear)
        {
            return TypedResults.NotFound();
        }

        var calendar = await calendars.GetAsync(cancellationToken);
        return TypedResults.Ok(CalendarYearResponse.From(calendar, year));
    }
}

public sealed record CalendarYearResponse(
    int Year,
    string Source,
    IReadOnlyList<CalendarHoliday> Holidays,
    IReadOnlyList<TransferredWorkingDay> TransferredWorkingDays,
    IReadOnlyList<string> Weekend,
    bool ApplyPublicHolidays,
    HoursBody ConfiguredHours,
    IReadOnlyList<HoursChangeBody> HoursChanges,
    DateTimeOffset? UpdatedAt,
    string? UpdatedBy)
{
    public HoursChangeBody? Published { get; init; }

    public static CalendarYearResponse From(BankCalendar calendar, int year)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var data = calendar.Years.FirstOrDefault(y => y.Year == year);
        return new CalendarYearResponse(
            year,
            data?.Source ?? "none: only weekends are known for this year",
            data?.Holidays ?? [],
            data?.TransferredWorkingDays ?? [],
            [.. calendar.Rules.Weekend.Order().Select(d => d.ToString())],
            calendar.Rules.ApplyPublicHolidays,
            HoursBody.From(calendar.Rules.BaselineHours),
            [.. calendar.HoursChanges.Select(HoursChangeBody.From)],
            data?.UpdatedAt,
            data?.UpdatedBy);
    }
}

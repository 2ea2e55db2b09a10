using System.Globalization;
using BusinessApi.Calendar;
using BusinessApi.ServiceControl;

namespace BusinessApi.Tests.ServiceControl;

/// <summary>R-60, R-62 and R-06 notice deadlines at their edges, on the published calendar.</summary>
public sealed class NoticeDeadlinesTests
{
    private static readonly BankCalendar Kazakhstan = new(CalendarRules.Default, DefaultCalendars.All, []);

    [Theory]
    [InlineData("2026-11-25T10:00:00+05:00", "2026-11-27T00:00:00+05:00")] // Wednesday: by the end of Thursday
    [InlineData("2026-11-25T23:59:59+05:00", "2026-11-27T00:00:00+05:00")]
    [InlineData("2026-11-27T19:00:00+05:00", "2026-12-01T00:00:00+05:00")] // Friday: by the end of Monday
    [InlineData("2026-11-28T09:00:00+05:00", "2026-12-01T00:00:00+05:00")] // Saturday: Monday too
    [InlineData("2026-12-15T09:00:00+05:00", "2026-12-18T00:00:00+05:00")] // over Independence Day: Thursday 17th
    public void Suspension_IsDueByTheEndOfTheNextWorkingDay(string discoveredAt, string due) =>
        Assert.Equal(T(due), NoticeDeadlines.Suspension(Kazakhstan, T(discoveredAt)));

    [Theory]
    [InlineData("2026-11-27T22:00:00+05:00", "2026-11-27T00:00:00+05:00")] // Friday night: by the end of Thursday
    [InlineData("2026-11-30T02:00:00+05:00", "2026-11-28T00:00:00+05:00")] // Monday 02:00: by the end of Friday
    [InlineData("2026-11-26T00:30:00+05:00", "2026-11-26T00:00:00+05:00")] // just after midnight: Wednesday's end
    public void PlannedMaintenance_IsDueByTheEndOfTheWorkingDayBefore(string startsAt, string due) =>
        Assert.Equal(T(due), NoticeDeadlines.PlannedMaintenance(Kazakhstan, T(startsAt)));

    [Fact]
    public void PlannedMaintenance_StartingSoonerThanTheWorkingDayBeforeEnds_IsDueByItsStart()
    {
        // A working day's end is 24:00 local; a start earlier than that (a calendar quirk) must never be later than the start.
        var startsAt = T("2026-11-25T00:00:00+05:00");
        Assert.True(NoticeDeadlines.PlannedMaintenance(Kazakhstan, startsAt) <= startsAt);
    }

    [Theory]
    [InlineData("2026-11-25", "2026-11-30")] // Wednesday + 3 working days: Monday
    [InlineData("2026-11-27", "2026-12-02")] // Friday: Wednesday
    [InlineData("2026-12-14", "2026-12-18")] // over Independence Day (16th)
    public void EarliestTermination_IsThreeWorkingDaysAhead(string today, string earliest) =>
        Assert.Equal(D(earliest), NoticeDeadlines.EarliestTermination(Kazakhstan, D(today)));

    [Theory]
    [InlineData("2026-12-02", "2026-11-28T00:00:00+05:00")] // Wednesday: end of the Friday before
    [InlineData("2026-12-18", "2026-12-15T00:00:00+05:00")] // Friday after Independence Day (16th): end of Monday 14th
    public void BankTermination_NoticeIsDueThreeWorkingDaysBefore(string effective, string due) =>
        Assert.Equal(T(due), NoticeDeadlines.BankTermination(Kazakhstan, D(effective)));

    private static DateTimeOffset T(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static DateOnly D(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}

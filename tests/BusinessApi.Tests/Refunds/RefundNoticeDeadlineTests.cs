using System.Globalization;
using BusinessApi.Calendar;
using BusinessApi.Refunds;

namespace BusinessApi.Tests.Refunds;

/// <summary>R-51 at its edges, on the published calendar (operational day 09:00–18:00 local).</summary>
public sealed class RefundNoticeDeadlineTests
{
    private static readonly BankCalendar Kazakhstan = new(CalendarRules.Default, DefaultCalendars.All, []);

    [Theory]
    [InlineData("2026-11-25T10:00:00+05:00", "2026-11-26T18:00:00+05:00")] // Wednesday, in hours: Thursday's close
    [InlineData("2026-11-25T08:59:59+05:00", "2026-11-26T18:00:00+05:00")] // before opening: still the next day
    [InlineData("2026-11-25T18:00:00+05:00", "2026-11-26T18:00:00+05:00")] // at the close
    [InlineData("2026-11-25T23:59:59+05:00", "2026-11-26T18:00:00+05:00")] // late evening
    [InlineData("2026-11-27T17:59:59+05:00", "2026-11-30T18:00:00+05:00")] // Friday in hours: Monday
    [InlineData("2026-11-27T19:30:00+05:00", "2026-11-30T18:00:00+05:00")] // Friday 19:30: Monday, not Tuesday (see the type's remarks)
    [InlineData("2026-11-28T12:00:00+05:00", "2026-11-30T18:00:00+05:00")] // Saturday
    [InlineData("2026-11-29T23:59:59+05:00", "2026-11-30T18:00:00+05:00")] // Sunday night
    [InlineData("2026-11-27T14:30:00+00:00", "2026-11-30T18:00:00+05:00")] // 19:30 local given in UTC: the local date counts
    [InlineData("2026-12-15T12:00:00+05:00", "2026-12-17T18:00:00+05:00")] // the day before Independence Day (16 December)
    public void IsTheCloseOfTheFirstWorkingDayAfterTheLocalDateOfReceipt(string reportedAt, string due) =>
        Assert.Equal(Parse(due), RefundNoticeDeadline.For(Kazakhstan, Parse(reportedAt)));

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
}

using System.Globalization;
using BusinessApi.Calendar;

namespace BusinessApi.Tests.Calendar;

/// <summary>The pure calendar rules against the published 2026 calendar and the 2027 defaults.</summary>
public sealed class BankCalendarTests
{
    private static readonly BankCalendar Kazakhstan = new(CalendarRules.Default, DefaultCalendars.All, []);

    private static DateOnly D(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateTimeOffset T(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("2026-01-01")] // New Year
    [InlineData("2026-01-02")]
    [InlineData("2026-01-07")] // Orthodox Christmas (religious, on a Wednesday)
    [InlineData("2026-03-09")] // 8 March was a Sunday
    [InlineData("2026-03-23")] // Nauryz
    [InlineData("2026-03-24")] // 21 March was a Saturday
    [InlineData("2026-03-25")] // 22 March was a Sunday
    [InlineData("2026-05-01")]
    [InlineData("2026-05-07")]
    [InlineData("2026-05-11")] // 9 May was a Saturday
    [InlineData("2026-05-27")] // Kurban ait
    [InlineData("2026-07-06")]
    [InlineData("2026-08-31")] // 30 August was a Sunday
    [InlineData("2026-10-26")] // 25 October was a Sunday
    [InlineData("2026-12-16")]
    [InlineData("2026-11-28")] // an ordinary Saturday
    [InlineData("2027-01-04")] // 2 January 2027 is a Saturday
    [InlineData("2027-03-24")] // 21 March 2027 is a Sunday
    [InlineData("2027-05-03")] // 1 May 2027 is a Saturday
    [InlineData("2027-05-10")] // 9 May 2027 is a Sunday
    public void IsWorkingDay_PublicHolidaysTransfersAndWeekends_AreDaysOff(string date) =>
        Assert.False(Kazakhstan.IsWorkingDay(D(date)));

    [Theory]
    [InlineData("2026-01-05")]
    [InlineData("2026-03-26")]
    [InlineData("2026-05-08")]
    [InlineData("2026-05-12")]
    [InlineData("2026-11-25")]
    [InlineData("2026-12-17")]
    [InlineData("2027-01-05")]
    public void IsWorkingDay_OrdinaryWeekdays_AreWorking(string date) =>
        Assert.True(Kazakhstan.IsWorkingDay(D(date)));

    [Fact]
    public void IsWorkingDay_TransferredWorkingSaturday_IsWorking()
    {
        var year = new CalendarYear(2026, [], [new TransferredWorkingDay(new DateOnly(2026, 1, 10), "Decree")]);
        var calendar = new BankCalendar(CalendarRules.Default, [year], []);

        Assert.True(calendar.IsWorkingDay(new DateOnly(2026, 1, 10)));
        Assert.False(calendar.IsWorkingDay(new DateOnly(2026, 1, 11)));
    }

    [Theory]
    [InlineData("2026-11-25T10:00:00+05:00", "2026-11-25")] // open
    [InlineData("2026-11-25T08:00:00+05:00", "2026-11-25")] // before opening: waits for today's opening
    [InlineData("2026-11-25T17:59:59+05:00", "2026-11-25")] // last second
    [InlineData("2026-11-25T18:00:00+05:00", "2026-11-26")] // closed: next working day
    [InlineData("2026-11-25T12:59:59Z", "2026-11-25")]      // the same edges given in UTC
    [InlineData("2026-11-25T13:00:00Z", "2026-11-26")]
    [InlineData("2026-11-27T18:30:00+05:00", "2026-11-30")] // Friday evening: Monday
    [InlineData("2026-11-28T11:00:00+05:00", "2026-11-30")] // Saturday
    [InlineData("2026-12-15T19:00:00+05:00", "2026-12-17")] // 16 December is a holiday
    [InlineData("2026-03-20T18:00:00+05:00", "2026-03-26")] // Nauryz with two transfers
    [InlineData("2026-12-31T18:01:00+05:00", "2027-01-05")] // across the year end and a transfer
    [InlineData("2026-12-31T19:30:00Z", "2027-01-05")]      // already 1 January in Almaty
    public void OperationalDayOfReceipt_FollowsHoursWeekendsAndHolidays(string receivedAt, string expected) =>
        Assert.Equal(D(expected), Kazakhstan.OperationalDayOfReceipt(T(receivedAt)));

    [Theory]
    [InlineData("2026-12-15", 1, "2026-12-17")]
    [InlineData("2026-12-31", 1, "2027-01-05")]
    [InlineData("2026-03-20", 1, "2026-03-26")]
    [InlineData("2026-03-26", -1, "2026-03-20")]
    [InlineData("2026-11-25", 3, "2026-11-30")]
    [InlineData("2026-11-28", 1, "2026-11-30")] // from a Saturday
    [InlineData("2026-11-28", 0, "2026-11-28")] // zero days is the date itself
    public void AddWorkingDays_SkipsDaysOff(string from, int days, string expected) =>
        Assert.Equal(D(expected), Kazakhstan.AddWorkingDays(D(from), days));

    [Fact]
    public void AddOperationalDays_CountsFromTheOperationalDayOfReceipt()
    {
        // executed by default unless refused within one operational day following the day of receipt.
        var receivedFridayEvening = T("2026-11-27T19:00:00+05:00");

        Assert.Equal(new DateOnly(2026, 12, 1), Kazakhstan.AddOperationalDays(receivedFridayEvening, 1));
    }

    [Fact]
    public void EndOfOperationalDay_IsTheLocalClose()
    {
        Assert.Equal(T("2026-11-25T13:00:00Z"), Kazakhstan.EndOfOperationalDay(new DateOnly(2026, 11, 25)));
        Assert.Throws<ArgumentException>(() => Kazakhstan.EndOfOperationalDay(new DateOnly(2026, 12, 16)));
    }

    [Theory]
    [InlineData("2026-11-28T10:00:00+05:00", "2026-11-30T09:00:00+05:00")]
    [InlineData("2026-11-25T07:00:00+05:00", "2026-11-25T09:00:00+05:00")]
    [InlineData("2026-11-25T10:00:00+05:00", "2026-11-25T10:00:00+05:00")]
    [InlineData("2026-11-25T18:00:00+05:00", "2026-11-26T09:00:00+05:00")]
    public void NextOpening_IsNowWhenOpen_ElseTheNextStart(string at, string expected) =>
        Assert.Equal(T(expected), Kazakhstan.NextOpening(T(at)));

    [Fact]
    public void HoursChange_AppliesFromItsEffectiveDate()
    {
        var change = new OperationalHoursChange(new DateOnly(2026, 12, 1), new OperationalHours(TimeSpan.FromHours(8), TimeSpan.FromHours(17)), T("2026-11-25T10:00:00+05:00"), "op");
        var calendar = new BankCalendar(CalendarRules.Default, DefaultCalendars.All, [change]);

        Assert.Equal(OperationalHours.Default, calendar.HoursOn(new DateOnly(2026, 11, 30)));
        Assert.Equal(change.Hours, calendar.HoursOn(new DateOnly(2026, 12, 1)));
        Assert.Equal(new DateOnly(2026, 12, 2), calendar.OperationalDayOfReceipt(T("2026-12-01T17:30:00+05:00")));
        Assert.Equal(new DateOnly(2026, 11, 30), calendar.OperationalDayOfReceipt(T("2026-11-30T17:30:00+05:00")));
    }

    [Theory]
    [InlineData("2026-11-25T10:00:00+05:00", "2026-11-30")] // Wed -> Thu, Fri, Mon
    [InlineData("2026-12-11T10:00:00+05:00", "2026-12-17")] // Fri -> Mon, Tue, (16th holiday) Thu
    [InlineData("2026-11-28T10:00:00+05:00", "2026-12-02")] // published on a Saturday
    public void EarliestScheduleChange_IsThreeWorkingDaysAfterPublication(string publishedAt, string expected) =>
        Assert.Equal(D(expected), Kazakhstan.EarliestScheduleChange(T(publishedAt)));

    [Fact]
    public void RoundTheClockRules_OpenEveryMinuteOfEveryDay()
    {
        var rules = new CalendarRules(new HashSet<DayOfWeek>(), new OperationalHours(TimeSpan.Zero, TimeSpan.FromHours(24)), ApplyPublicHolidays: false);
        var calendar = new BankCalendar(rules, DefaultCalendars.All, []);
        var independenceDayNight = T("2026-12-16T23:59:00+05:00");

        Assert.True(calendar.IsOpen(independenceDayNight));
        Assert.Equal(new DateOnly(2026, 12, 16), calendar.OperationalDayOfReceipt(independenceDayNight));
        Assert.Equal(T("2026-12-17T00:00:00+05:00"), calendar.EndOfOperationalDay(new DateOnly(2026, 12, 16)));
    }

    [Fact]
    public void CalendarWithNoWorkingDay_FailsLoudly()
    {
        var everyDay = Enum.GetValues<DayOfWeek>().ToHashSet();
        var calendar = new BankCalendar(new CalendarRules(everyDay, OperationalHours.Default, true), [], []);

        Assert.Throws<InvalidOperationException>(() => calendar.AddWorkingDays(new DateOnly(2026, 1, 1), 1));
    }

    [Fact]
    public void YearsWithoutData_KnowOnlyWeekends()
    {
        Assert.False(Kazakhstan.Covers(2030));
        Assert.True(Kazakhstan.IsWorkingDay(new DateOnly(2030, 1, 1)));
        Assert.True(Kazakhstan.Covers(2026));
        Assert.True(Kazakhstan.Covers(2027));
    }

    [Theory]
    [InlineData("09:00-18:00", true)]
    [InlineData("00:00-24:00", true)]
    [InlineData("08:30-17:45", true)]
    [InlineData("18:00-09:00", false)]
    [InlineData("09:00-09:00", false)]
    [InlineData("9:00-18:00", false)]
    [InlineData("09:00-24:01", false)]
    [InlineData("09:00", false)]
    [InlineData("", false)]
    public void OperationalHours_Parse(string text, bool valid) =>
        Assert.Equal(valid, OperationalHours.TryParse(text, out _));

    [Theory]
    [InlineData("Saturday,Sunday", 2)]
    [InlineData("sunday", 1)]
    [InlineData("", 0)]
    public void CalendarOptions_Weekend(string weekend, int days) =>
        Assert.Equal(days, new CalendarOptions { Weekend = weekend }.ToRules().Weekend.Count);

    [Theory]
    [InlineData("Funday")]
    [InlineData("7")]
    public void CalendarOptions_UnknownWeekendDay_IsAConfigurationError(string weekend) =>
        Assert.ThrowsAny<Exception>(() => new CalendarOptions { Weekend = weekend }.ToRules());
}

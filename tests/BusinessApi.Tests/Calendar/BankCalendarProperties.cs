using BusinessApi.Calendar;
using CsCheck;

namespace BusinessApi.Tests.Calendar;

/// <summary>Laws of calendar arithmetic that must hold for any calendar, checked on random ones.</summary>
public sealed class BankCalendarProperties
{
    private static readonly DateOnly Origin = new(2025, 6, 1);

    /// <summary>A random calendar: any weekend that leaves a working day, random days off and working Saturdays, random hours.</summary>
    private static readonly Gen<BankCalendar> Calendars =
        Gen.Select(
            Gen.Int[0, 127].Where(mask => mask != 127),
            Gen.Int[0, 900].Array[0, 60],
            Gen.Int[0, 900].Array[0, 10],
            Gen.Int[0, 20],
            Gen.Int[1, 24 - 0])
        .Select((mask, offs, extra, open, length) =>
        {
            var weekend = Enum.GetValues<DayOfWeek>().Where(d => (mask & (1 << (int)d)) != 0).ToHashSet();
            var openAt = TimeSpan.FromHours(open);
            var close = TimeSpan.FromHours(Math.Min(24, open + length));
            var hours = new OperationalHours(openAt, close > openAt ? close : openAt + TimeSpan.FromHours(1));
            var holidays = offs.Distinct().Select(o => new CalendarHoliday(Origin.AddDays(o), "h", HolidayKind.Holiday)).ToList();
            var working = extra.Distinct().Select(o => Origin.AddDays(o)).Where(d => holidays.All(h => h.Date != d))
                .Select(d => new TransferredWorkingDay(d, "w")).ToList();
            var years = holidays.Select(h => h.Date.Year).Concat(working.Select(w => w.Date.Year)).Distinct()
                .Select(y => new CalendarYear(y, [.. holidays.Where(h => h.Date.Year == y)], [.. working.Where(w => w.Date.Year == y)]));
            return new BankCalendar(new CalendarRules(weekend, hours, true), years, []);
        });

    private static readonly Gen<DateOnly> Dates = Gen.Int[0, 900].Select(Origin.AddDays);

    private static readonly Gen<DateTimeOffset> Instants =
        // Half the instants fall exactly on a whole hour, where random hours open and close.
        Gen.Select(Gen.Int[0, 900], Gen.OneOf(Gen.Int[0, (24 * 60) - 1], Gen.Int[0, 23].Select(h => h * 60))).Select((day, minute) =>
            new DateTimeOffset(Origin.AddDays(day).ToDateTime(TimeOnly.MinValue), KazakhstanTime.Offset).AddMinutes(minute));

    [Fact]
    public void AddWorkingDays_LandsOnAWorkingDay_AfterExactlyNWorkingDays() =>
        Gen.Select(Calendars, Dates, Gen.Int[1, 40]).Sample((calendar, date, n) =>
        {
            var result = calendar.AddWorkingDays(date, n);
            var counted = 0;
            for (var d = date.AddDays(1); d <= result; d = d.AddDays(1))
            {
                counted += calendar.IsWorkingDay(d) ? 1 : 0;
            }

            return calendar.IsWorkingDay(result) && result > date && counted == n;
        }, iter: 300);

    [Fact]
    public void AddWorkingDays_IsAdditive() =>
        Gen.Select(Calendars, Dates, Gen.Int[0, 20], Gen.Int[0, 20]).Sample((calendar, date, a, b) =>
            calendar.AddWorkingDays(calendar.AddWorkingDays(date, a), b) == calendar.AddWorkingDays(date, a + b), iter: 300);

    [Fact]
    public void AddWorkingDays_BackAndForth_ReturnsToAWorkingDay() =>
        Gen.Select(Calendars, Dates, Gen.Int[1, 20]).Sample((calendar, date, n) =>
        {
            var start = calendar.IsWorkingDay(date) ? date : calendar.NextWorkingDay(date);
            return calendar.AddWorkingDays(calendar.AddWorkingDays(start, n), -n) == start;
        }, iter: 300);

    [Fact]
    public void OperationalDayOfReceipt_IsAWorkingDayNotBeforeReceipt_AndClosesAfterIt() =>
        Gen.Select(Calendars, Instants).Sample((calendar, receivedAt) =>
        {
            var day = calendar.OperationalDayOfReceipt(receivedAt);
            return calendar.IsWorkingDay(day)
                && day >= KazakhstanTime.LocalDate(receivedAt)
                && receivedAt < calendar.EndOfOperationalDay(day)
                && calendar.OperationalDayOfReceipt(calendar.StartOfOperationalDay(day)) == day;
        }, iter: 500);

    [Fact]
    public void NextOpening_IsNotInThePast_AndTheBankIsOpenThen() =>
        Gen.Select(Calendars, Instants).Sample((calendar, at) =>
        {
            var opening = calendar.NextOpening(at);
            return opening >= at && calendar.IsOpen(opening);
        }, iter: 500);
}

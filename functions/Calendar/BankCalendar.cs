using System.Collections.Frozen;

namespace BusinessApi.Calendar;

/// <summary>
/// The bank's calendar at one moment, pure and immutable: which dates are working days, the
/// operational hours of each, and the arithmetic the terms need (operational day of receipt, N
/// working or operational days later, ends of operational days). Every working day has an
/// operational day (clause 3.7); documents can be formed 24/7 but are processed in it.
/// </summary>
public sealed class BankCalendar
{
    /// <summary>No rule here needs to look further than this; a calendar with no working day fails loudly.</summary>
    private const int MaxDaysScanned = 3700;

    private readonly FrozenSet<DayOfWeek> _weekend;
    private readonly FrozenDictionary<DateOnly, CalendarHoliday> _daysOff;
    private readonly FrozenDictionary<DateOnly, TransferredWorkingDay> _extraWorkingDays;
    private readonly OperationalHoursChange[] _changes;

    public BankCalendar(CalendarRules rules, IEnumerable<CalendarYear> years, IEnumerable<OperationalHoursChange> hoursChanges)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(years);
        ArgumentNullException.ThrowIfNull(hoursChanges);
        Rules = rules;
        Years = years.OrderBy(y => y.Year).ToList();
        _weekend = rules.Weekend.ToFrozenSet();
        _daysOff = rules.ApplyPublicHolidays
            ? Years.SelectMany(y => y.Holidays).GroupBy(h => h.Date).ToFrozenDictionary(g => g.Key, g => g.First())
            : FrozenDictionary<DateOnly, CalendarHoliday>.Empty;
        _extraWorkingDays = rules.ApplyPublicHolidays
            ? Years.SelectMany(y => y.TransferredWorkingDays).GroupBy(d => d.Date).ToFrozenDictionary(g => g.Key, g => g.First())
            : FrozenDictionary<DateOnly, TransferredWorkingDay>.Empty;
        _changes = [.. hoursChanges.OrderBy(c => c.EffectiveFrom)];
    }

    public CalendarRules Rules { get; }

    public IReadOnlyList<CalendarYear> Years { get; }

    public IReadOnlyList<OperationalHoursChange> HoursChanges => _changes;

    /// <summary>Whether the bank has holiday data for the year (otherwise only weekends count).</summary>
    public bool Covers(int year) => Years.Any(y => y.Year == year);

    public CalendarHoliday? HolidayOn(DateOnly date) => _daysOff.GetValueOrDefault(date);

    public bool IsWorkingDay(DateOnly date) =>
        _extraWorkingDays.ContainsKey(date) || (!_daysOff.ContainsKey(date) && !_weekend.Contains(date.DayOfWeek));

    /// <summary>The hours in force on <paramref name="date"/>: the latest published change effective by then, else the configured hours.</summary>
    public OperationalHours HoursOn(DateOnly date)
    {
        var hours = Rules.BaselineHours;
        foreach (var change in _changes)
        {
            if (change.EffectiveFrom > date)
            {
                break;
            }

            hours = change.Hours;
        }

        return hours;
    }

    /// <summary>
    /// The date <paramref name="days"/> working days after (or, if negative, before) <paramref name="date"/>,
    /// counting only working days and not the start date itself; 0 returns the date unchanged.
    /// </summary>
    public DateOnly AddWorkingDays(DateOnly date, int days)
    {
        var step = Math.Sign(days);
        var remaining = Math.Abs(days);
        var current = date;
        for (var scanned = 0; remaining > 0; scanned++)
        {
            if (scanned > MaxDaysScanned + (Math.Abs(days) * 7))
            {
                throw new InvalidOperationException("The calendar has no working days: check Calendar:Weekend and the holidays.");
            }

            current = current.AddDays(step);
            if (IsWorkingDay(current))
            {
                remaining--;
            }
        }

        return current;
    }

    public DateOnly NextWorkingDay(DateOnly date) => AddWorkingDays(date, 1);

    /// <summary>
    /// The operational day a document received at <paramref name="receivedAt"/> belongs to: that working
    /// day if it arrives before the day's close (before opening it waits for the opening), otherwise the
    /// next working day — after hours, on a weekend or on a holiday.
    /// </summary>
    public DateOnly OperationalDayOfReceipt(DateTimeOffset receivedAt)
    {
        var local = KazakhstanTime.ToLocal(receivedAt);
        var date = DateOnly.FromDateTime(local.DateTime);
        return IsWorkingDay(date) && local.TimeOfDay < HoursOn(date).Close ? date : NextWorkingDay(date);
    }

    /// <summary>The operational date <paramref name="days"/> operational days after the one of receipt (e.g. R-33's "one operational day following").</summary>
    public DateOnly AddOperationalDays(DateTimeOffset receivedAt, int days) =>
        AddWorkingDays(OperationalDayOfReceipt(receivedAt), days);

    public DateTimeOffset StartOfOperationalDay(DateOnly date) =>
        KazakhstanTime.At(RequireWorkingDay(date), HoursOn(date).Open);

    /// <summary>The instant the operational day of <paramref name="date"/> closes (deadlines "within the operational day").</summary>
    public DateTimeOffset EndOfOperationalDay(DateOnly date) =>
        KazakhstanTime.At(RequireWorkingDay(date), HoursOn(date).Close);

    public bool IsOpen(DateTimeOffset instant)
    {
        var local = KazakhstanTime.ToLocal(instant);
        var date = DateOnly.FromDateTime(local.DateTime);
        var hours = HoursOn(date);
        return IsWorkingDay(date) && local.TimeOfDay >= hours.Open && local.TimeOfDay < hours.Close;
    }

    /// <summary><paramref name="instant"/> itself when the bank is open, else the next opening (what "wait for the operational day" waits for).</summary>
    public DateTimeOffset NextOpening(DateTimeOffset instant) =>
        IsOpen(instant) ? instant : StartOfOperationalDay(OperationalDayOfReceipt(instant));

    /// <summary>The earliest date a schedule change published at <paramref name="publishedAt"/> may take effect: 3 working days later (R-35, clause 3.7).</summary>
    public DateOnly EarliestScheduleChange(DateTimeOffset publishedAt) =>
        AddWorkingDays(KazakhstanTime.LocalDate(publishedAt), 3);

    private DateOnly RequireWorkingDay(DateOnly date) =>
        IsWorkingDay(date) ? date : throw new ArgumentException($"{date:yyyy-MM-dd} is not a working day.", nameof(date));
}

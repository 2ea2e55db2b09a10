namespace BusinessApi.Calendar;

/// <summary>Why a date is a day off.</summary>
public enum HolidayKind
{
    /// <summary>A national or state holiday (Law "On holidays in the Republic of Kazakhstan").</summary>
    Holiday,

    /// <summary>A religious day off (Labour Code art. 84): not moved when it falls on a weekend.</summary>
    Religious,

    /// <summary>A day off moved here: a holiday fell on a weekend, or a government decree moved it.</summary>
    TransferredDayOff,
}

/// <summary>A non-working date.</summary>
public sealed record CalendarHoliday(DateOnly Date, string Name, HolidayKind Kind);

/// <summary>A weekend date made a working day by decree.</summary>
public sealed record TransferredWorkingDay(DateOnly Date, string Name);

/// <summary>One year's days off and extra working days.</summary>
public sealed record CalendarYear(int Year, IReadOnlyList<CalendarHoliday> Holidays, IReadOnlyList<TransferredWorkingDay> TransferredWorkingDays)
{
    public string Source { get; init; } = "";

    public DateTimeOffset? UpdatedAt { get; init; }

    public string? UpdatedBy { get; init; }
}

/// <summary>A published change of operational hours and the date it takes effect .</summary>
public sealed record OperationalHoursChange(DateOnly EffectiveFrom, OperationalHours Hours, DateTimeOffset PublishedAt, string PublishedBy);

/// <summary>The standing rules, from configuration.</summary>
public sealed record CalendarRules(IReadOnlySet<DayOfWeek> Weekend, OperationalHours BaselineHours, bool ApplyPublicHolidays)
{
    public static readonly CalendarRules Default = new(new HashSet<DayOfWeek> { DayOfWeek.Saturday, DayOfWeek.Sunday }, OperationalHours.Default, true);
}

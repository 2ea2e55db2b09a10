namespace BusinessApi.Calendar;

/// <summary>
/// Kazakhstan keeps one time zone, UTC+5, nationwide since 1 March 2024, with no daylight saving;
/// a fixed offset is therefore exact for every date the bank operates on.
/// </summary>
public static class KazakhstanTime
{
    public static readonly TimeSpan Offset = TimeSpan.FromHours(5);

    public static DateTimeOffset ToLocal(DateTimeOffset instant) => instant.ToOffset(Offset);

    public static DateOnly LocalDate(DateTimeOffset instant) => DateOnly.FromDateTime(ToLocal(instant).DateTime);

    /// <summary>The local time as notices print it: <c>yyyy-MM-dd HH:mm</c> (UTC+5).</summary>
    public static string Text(DateTimeOffset instant) =>
        ToLocal(instant).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The instant at <paramref name="timeOfDay"/> (0 to 24 h) of a local date.</summary>
    public static DateTimeOffset At(DateOnly date, TimeSpan timeOfDay) =>
        new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), Offset).Add(timeOfDay);
}

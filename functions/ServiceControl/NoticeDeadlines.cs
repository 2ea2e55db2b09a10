using BusinessApi.Calendar;

namespace BusinessApi.ServiceControl;

/// <summary>
/// The terms' deadlines for the bank's service-control notices through the communication channel,
/// as pure calendar arithmetic. The refund notice's deadline is <see cref="Refunds.RefundNoticeDeadline"/>.
/// </summary>
public static class NoticeDeadlines
{
    /// <summary>
    /// Suspension (5.2.1, 5.2.4): "no later than the working day following the day of discovery" — the end
    /// (24:00 local) of the first working day after the local date of <paramref name="discoveredAt"/>.
    /// </summary>
    public static DateTimeOffset Suspension(BankCalendar calendar, DateTimeOffset discoveredAt)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return EndOfDay(calendar.NextWorkingDay(KazakhstanTime.LocalDate(discoveredAt)));
    }

    /// <summary>
    /// Planned maintenance (5.2.11): "no later than the working day" before it — the end of the last working day
    /// before the local date it starts on, and never later than its start.
    /// </summary>
    public static DateTimeOffset PlannedMaintenance(BankCalendar calendar, DateTimeOffset startsAt)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var end = EndOfDay(calendar.AddWorkingDays(KazakhstanTime.LocalDate(startsAt), -1));
        return end < startsAt ? end : startsAt;
    }

    /// <summary>The earliest effective date of a termination asked for on <paramref name="today"/>: 3 working days' notice (5.2.7, 6.2.6).</summary>
    public static DateOnly EarliestTermination(BankCalendar calendar, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return calendar.AddWorkingDays(today, 3);
    }

    /// <summary>
    /// The bank's own termination (5.2.7, R-06): its notice reaches the customer 3 working days before the
    /// effective date — by the end of the third working day before it.
    /// </summary>
    public static DateTimeOffset BankTermination(BankCalendar calendar, DateOnly effectiveDate)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return EndOfDay(calendar.AddWorkingDays(effectiveDate, -3));
    }

    private static DateTimeOffset EndOfDay(DateOnly date) => KazakhstanTime.At(date.AddDays(1), TimeSpan.Zero);
}

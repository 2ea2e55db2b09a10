using BusinessApi.Calendar;

namespace BusinessApi.Refunds;

/// <summary>
/// R-51 (clause 8.2): "не позднее следующего операционного дня после получения от Клиента сообщения" — the
/// bank sends the return notice no later than the next operational day after it received the report.
/// <para>The deadline is the close of the first working day after the local date of receipt. A report made
/// on Friday at 19:30 (after hours) is therefore due by Monday's close, not Tuesday's: 8.2 counts from the moment
/// of receipt ("после получения"), unlike 3.12, which counts from the day a document is deemed received
/// ("следующего за днем получения указания", see <see cref="Documents.ExecutionDeadlines"/>). The earlier reading
/// is also the safe one: a notice sent by Monday's close meets 8.2 under either reading; one sent on Tuesday
/// meets it only under the later.</para>
/// </summary>
public static class RefundNoticeDeadline
{
    public static DateTimeOffset For(BankCalendar calendar, DateTimeOffset reportedAt)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return calendar.EndOfOperationalDay(calendar.NextWorkingDay(KazakhstanTime.LocalDate(reportedAt)));
    }
}

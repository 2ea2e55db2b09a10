using BusinessApi.Calendar;

namespace BusinessApi.Documents;

/// <summary>
/// The deadlines a document's receipt sets, as pure calendar arithmetic:
/// <list type="bullet">
/// <item>the operational day it belongs to: the day of receipt, or the next operational day when received
/// outside the operational day (3.7, R-35);</item>
/// <item>R-36 (5.2.8): a refusal is notified within that operational day — by its close;</item>
/// <item>R-33 (3.12): with no notice of non-execution within one operational day following the day of
/// receipt, the document counts as executed — at the close of the next working day's operational day.</item>
/// </list>
/// </summary>
public sealed record ExecutionDeadlines(DateOnly OperationalDate, DateTimeOffset RefusalDeadline, DateTimeOffset DeemedExecutedAt)
{
    public static ExecutionDeadlines For(BankCalendar calendar, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var operationalDate = calendar.OperationalDayOfReceipt(receivedAt);
        return new ExecutionDeadlines(
            operationalDate,
            calendar.EndOfOperationalDay(operationalDate),
            calendar.EndOfOperationalDay(calendar.NextWorkingDay(operationalDate)));
    }
}

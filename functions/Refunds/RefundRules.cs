using BusinessApi.Calendar;
using BusinessApi.Documents;

namespace BusinessApi.Refunds;

/// <summary>Why an error report or a penalty claim is refused; stable codes of the API.</summary>
public static class RefundRefusals
{
    public const string NotExecuted = "document_not_executed";
    public const string ReportTooLate = "report_too_late";
    public const string ReportPeriodExpired = "report_period_expired";
    public const string NotLate = "execution_not_late";
    public const string DelayJustified = "delay_justified";
    public const string PenaltyBelowMinimum = "penalty_below_minimum";
}

/// <summary>
/// Clause 6.1.16: an erroneous or unauthorised execution is reported within 3 operational days after its
/// discovery and no later than 3 years after the execution. Pure: the caller gives the calendar and the clock.
/// </summary>
public static class ErrorReportRules
{
    public const int OperationalDaysToReport = 3;
    public const int YearsToReport = 3;

    /// <summary>The last day a report about something discovered on <paramref name="discoveredOn"/> is accepted: the 3rd operational day after it.</summary>
    public static DateOnly LastDayToReport(BankCalendar calendar, DateOnly discoveredOn)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        return calendar.AddWorkingDays(discoveredOn, OperationalDaysToReport);
    }

    /// <summary>The last day of the 3 years after execution (the same date 3 years on; 29 February maps to 28 February).</summary>
    public static DateOnly LastDayOfPeriod(DateOnly executedOn) => executedOn.AddYears(YearsToReport);

    /// <summary>Null when the report may be accepted on <paramref name="today"/>; else the refusal code.</summary>
    public static string? Check(BankCalendar calendar, DateOnly executedOn, DateOnly discoveredOn, DateOnly today)
    {
        if (today > LastDayOfPeriod(executedOn))
        {
            return RefundRefusals.ReportPeriodExpired;
        }

        return today > LastDayToReport(calendar, discoveredOn) ? RefundRefusals.ReportTooLate : null;
    }
}

/// <summary>
/// Clause 7.4: for a valid instruction not executed on time although the account's money sufficed, the
/// bank pays 0.01% of the amount for each day of delay. A day of delay is a calendar day after the operational day
/// the document belonged to (clause 7.4 counts "each day", not working days); the penalty is rounded half away from
/// zero to the minor unit. A delay the terms justify — an anti-money-laundering review (5.2.8 e) — earns none.
/// </summary>
public static class PenaltyRules
{
    public const decimal RatePerDay = 0.0001m;

    public sealed record Assessment(int DaysLate, decimal Amount, DateOnly DueOn, DateOnly ExecutedOn);

    public static (Assessment? Assessment, string? Refusal) Assess(Document document)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (document.Status != DocumentStatus.Executed || document.Summary is not { } summary || document.Last is not { } executed)
        {
            return (null, RefundRefusals.NotExecuted);
        }

        var executedOn = KazakhstanTime.LocalDate(executed.At);
        var days = executedOn.DayNumber - document.OperationalDate.DayNumber;
        if (days <= 0)
        {
            return (null, RefundRefusals.NotLate);
        }

        if (document.AmlReleased)
        {
            return (null, RefundRefusals.DelayJustified);
        }

        var amount = Compute(summary.Amount, days);
        return amount <= 0 ? (null, RefundRefusals.PenaltyBelowMinimum) : (new Assessment(days, amount, document.OperationalDate, executedOn), null);
    }

    public static decimal Compute(decimal amount, int daysLate) =>
        Math.Round(amount * RatePerDay * daysLate, 2, MidpointRounding.AwayFromZero);
}

using System.Globalization;
using BusinessApi.Calendar;
using BusinessApi.Documents;

namespace BusinessApi.Tests.Documents;

/// <summary>R-33, R-35 and R-36 deadlines of a document's receipt, at their edges, on the published calendar.</summary>
public sealed class ExecutionDeadlinesTests
{
    private static readonly BankCalendar Kazakhstan = new(CalendarRules.Default, DefaultCalendars.All, []);

    [Theory]
    // received at,              operational day, refusal deadline,      deemed executed at
    [InlineData("2026-11-25T10:00:00+05:00", "2026-11-25", "2026-11-25T18:00:00+05:00", "2026-11-26T18:00:00+05:00")]
    [InlineData("2026-11-25T08:59:59+05:00", "2026-11-25", "2026-11-25T18:00:00+05:00", "2026-11-26T18:00:00+05:00")] // before opening: today's day
    [InlineData("2026-11-25T17:59:59+05:00", "2026-11-25", "2026-11-25T18:00:00+05:00", "2026-11-26T18:00:00+05:00")]
    [InlineData("2026-11-25T18:00:00+05:00", "2026-11-26", "2026-11-26T18:00:00+05:00", "2026-11-27T18:00:00+05:00")] // at the close: tomorrow's
    [InlineData("2026-11-27T19:30:00+05:00", "2026-11-30", "2026-11-30T18:00:00+05:00", "2026-12-01T18:00:00+05:00")] // Friday evening: Monday
    [InlineData("2026-11-28T12:00:00+05:00", "2026-11-30", "2026-11-30T18:00:00+05:00", "2026-12-01T18:00:00+05:00")] // Saturday
    [InlineData("2026-12-15T18:30:00+05:00", "2026-12-17", "2026-12-17T18:00:00+05:00", "2026-12-18T18:00:00+05:00")] // over Independence Day
    public void FollowTheOperationalDayOfReceipt(string receivedAt, string operationalDay, string refusalDeadline, string deemedExecutedAt)
    {
        var deadlines = ExecutionDeadlines.For(Kazakhstan, T(receivedAt));
        Assert.Equal(new ExecutionDeadlines(D(operationalDay), T(refusalDeadline), T(deemedExecutedAt)), deadlines);
    }

    private static DateTimeOffset T(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static DateOnly D(string text) => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture);
}

using BusinessApi.Platform.Http;

namespace BusinessApi.Calendar;

public static class CalendarProblems
{
    /// <summary>R-35: an hours change must be published at least 3 working days before it takes effect.</summary>
    public static readonly ProblemType ScheduleChangeTooSoon = new("schedule_change_too_soon", StatusCodes.Status422UnprocessableEntity);
}

using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;
using BusinessApi.Platform.Security;

namespace BusinessApi.Calendar;

public static class CalendarExtensions
{
    public static IServiceCollection AddCalendar(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CalendarOptions>().Bind(configuration.GetSection(CalendarOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CalendarOptions>, CalendarOptionsValidator>();
        services.AddStorageTable(CalendarStore.TableName);
        services.AddSingleton<CalendarStore>();
        services.AddSingleton<CalendarProvider>();
        services.AddStorageTable(MaintenanceSchedule.TableName);
        services.AddSingleton<MaintenanceSchedule>();
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Calendar.Resources.CalendarTexts", typeof(CalendarExtensions).Assembly)));
        return services;
    }

    public static void MapCalendar(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        api.MapGet("/operational-day", GetOperationalDay.HandleAsync)
            .WithName("GetOperationalDay")
            .WithTags("Calendar")
            .WithSummary("Today's operational day: date, hours, open or closed, next operational day (UTC+5), and technical works in progress or announced.");

        ops.MapGet("/calendar/{year:int}", GetCalendarYear.HandleAsync)
            .WithName("GetCalendarYear")
            .WithTags("Calendar")
            .WithSummary("A year's days off, transferred working days and hours schedule.");

        ops.MapPut("/calendar/{year:int}", PutCalendarYear.HandleAsync)
            .RequireOperatorRole(OperatorRoles.Calendar)
            .WithName("PutCalendarYear")
            .WithTags("Calendar")
            .WithSummary("Replace a year's holidays and transferred working days; publish an hours change (effective >= 3 working days later).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
    }
}

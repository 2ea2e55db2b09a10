using Microsoft.Extensions.Options;

namespace BusinessApi.Calendar;

/// <summary>
/// Standing calendar rules from configuration (appsettings.json <c>calendar</c>, or <c>Calendar__*</c>):
/// they apply from start-up, so a test or demo environment can run round the clock
/// (<c>OperationalHours=00:00-24:00</c>, <c>Weekend=</c> empty, <c>ApplyPublicHolidays=false</c>).
/// </summary>
public sealed class CalendarOptions
{
    public const string Section = "Calendar";

    public string OperationalHours { get; set; } = "09:00-18:00";

    /// <summary>Comma-separated day names; empty means no weekly days off.</summary>
    public string Weekend { get; set; } = "Saturday,Sunday";

    public bool ApplyPublicHolidays { get; set; } = true;

    /// <summary>How often a process re-reads published calendar changes (other instances' PUTs).</summary>
    public int RefreshSeconds { get; set; } = 30;

    public CalendarRules ToRules()
    {
        if (!Calendar.OperationalHours.TryParse(OperationalHours, out var hours))
        {
            throw new OptionsValidationException(Section, typeof(CalendarOptions), [$"Calendar:OperationalHours must look like 09:00-18:00 (got '{OperationalHours}')."]);
        }

        var weekend = new HashSet<DayOfWeek>();
        foreach (var name in (Weekend ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Enum.TryParse<DayOfWeek>(name, ignoreCase: true, out var day) || !Enum.IsDefined(day) || int.TryParse(name, out _))
            {
                throw new OptionsValidationException(Section, typeof(CalendarOptions), [$"Calendar:Weekend has an unknown day '{name}'."]);
            }

            weekend.Add(day);
        }

        return new CalendarRules(weekend, hours, ApplyPublicHolidays);
    }
}

internal sealed class CalendarOptionsValidator : IValidateOptions<CalendarOptions>
{
    public ValidateOptionsResult Validate(string? name, CalendarOptions options)
    {
        try
        {
            options.ToRules();
            return ValidateOptionsResult.Success;
        }
        catch (OptionsValidationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Failures);
        }
    }
}

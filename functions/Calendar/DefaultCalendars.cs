using System.Text.Json;
using BusinessApi.Platform;

namespace BusinessApi.Calendar;

/// <summary>The calendars shipped with the app (Kazakhstan, current and next year), used until operators publish their own.</summary>
public static class DefaultCalendars
{
    private static readonly Lazy<IReadOnlyList<CalendarYear>> Years = new(Load);

    public static IReadOnlyList<CalendarYear> All => Years.Value;

    private static List<CalendarYear> Load()
    {
        var assembly = typeof(DefaultCalendars).Assembly;
        var years = new List<CalendarYear>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.Contains(".Calendar.Defaults.", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var year = JsonSerializer.Deserialize<CalendarYear>(stream, PlatformExtensions.JsonOptions)
                ?? throw new InvalidOperationException($"Empty default calendar {resource}.");
            years.Add(year with { Source = "default: " + year.Source });
        }

        return [.. years.OrderBy(y => y.Year)];
    }
}

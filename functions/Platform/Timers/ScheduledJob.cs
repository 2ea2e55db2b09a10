using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Cronos;

namespace BusinessApi.Platform.Timers;

/// <summary>
/// A job run on an NCRONTAB schedule with seconds (six fields, as in Functions), at most once at a
/// time across all app instances. A job must touch only due items (an index by due date), never scan
/// everything; one that throws is logged and runs again at its next occurrence.
/// </summary>
public interface IScheduledJob
{
    /// <summary>Stable name: the key of its schedule in appsettings.json (<c>timers:{name}:schedule</c>) and of its state.</summary>
    string Name { get; }

    /// <summary>The schedule when appsettings.json gives none.</summary>
    string DefaultSchedule { get; }

    /// <summary>
    /// Whether a run starts a trace. Frequent housekeeping whose runs are nearly always empty says no:
    /// its runs are still counted (<c>timer.runs</c>), but do not bury the traces of real work.
    /// </summary>
    bool Traced => true;

    Task RunAsync(ScheduledRun run, CancellationToken cancellationToken);
}

/// <summary>One run: the occurrence it is for and whether it runs late (e.g. the app was down then).</summary>
public sealed record ScheduledRun(DateTimeOffset ScheduledFor, bool PastDue, DateTimeOffset? PreviousRunFor);

/// <summary>Settings of the timers (appsettings.json <c>timers</c>).</summary>
public sealed class TimerOptions
{
    public const string Section = "Timers";

    /// <summary>The offset schedules are read in (UTC by default, like Functions without WEBSITE_TIME_ZONE), e.g. <c>05:00</c>.</summary>
    public string UtcOffset { get; set; } = "00:00";

    /// <summary>A run later than this after its occurrence is flagged past due.</summary>
    [Range(0, 86_400)]
    public int PastDueToleranceSeconds { get; set; } = 60;

    /// <summary>The singleton lease; it is renewed every third of it while a job runs.</summary>
    [Range(1, 3600)]
    public int LeaseSeconds { get; set; } = 60;

    public TimeZoneInfo TimeZone()
    {
        var text = UtcOffset.TrimStart('+');
        var negative = text.StartsWith('-');
        if (!TimeSpan.TryParseExact(text.TrimStart('-'), @"hh\:mm", CultureInfo.InvariantCulture, out var offset))
        {
            throw new FormatException($"Timers:UtcOffset must look like 05:00 or -03:00 (got '{UtcOffset}').");
        }

        offset = negative ? -offset : offset;
        return offset == TimeSpan.Zero ? TimeZoneInfo.Utc : TimeZoneInfo.CreateCustomTimeZone($"UTC{UtcOffset}", offset, $"UTC{UtcOffset}", $"UTC{UtcOffset}");
    }
}

/// <summary>A parsed schedule.</summary>
public sealed class JobSchedule
{
    private readonly CronExpression? _cron;
    private readonly TimeZoneInfo _zone;

    private JobSchedule(string text, CronExpression? cron, TimeZoneInfo zone)
    {
        Text = text;
        _cron = cron;
        _zone = zone;
    }

    public string Text { get; }

    /// <summary>False for an empty schedule (the job is switched off).</summary>
    public bool Enabled => _cron is not null;

    /// <summary>Parses six-field NCRONTAB (seconds first); an empty text switches the job off.</summary>
    public static JobSchedule Parse(string? text, TimeZoneInfo zone)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return new JobSchedule("", null, zone);
        }

        try
        {
            return new JobSchedule(text, CronExpression.Parse(text, CronFormat.IncludeSeconds), zone);
        }
        catch (CronFormatException ex)
        {
            throw new FormatException($"'{text}' is not a six-field NCRONTAB schedule (second minute hour day month weekday): {ex.Message}", ex);
        }
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) => _cron?.GetNextOccurrence(after, _zone);
}

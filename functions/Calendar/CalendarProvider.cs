using Azure;
using Microsoft.Extensions.Options;

namespace BusinessApi.Calendar;

/// <summary>
/// Hands out the current <see cref="BankCalendar"/>: shipped defaults overlaid with what operators
/// published, re-read every <see cref="CalendarOptions.RefreshSeconds"/> so all instances converge.
/// If storage fails on a refresh the last good calendar keeps serving.
/// </summary>
public sealed partial class CalendarProvider(
    CalendarStore store,
    TimeProvider time,
    IOptions<CalendarOptions> options,
    ILogger<CalendarProvider> logger) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CalendarRules _rules = options.Value.ToRules();
    private readonly TimeSpan _refresh = TimeSpan.FromSeconds(Math.Max(0, options.Value.RefreshSeconds));
    private (BankCalendar Calendar, DateTimeOffset LoadedAt)? _current;

    public async ValueTask<BankCalendar> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current && time.GetUtcNow() - current.LoadedAt < _refresh)
        {
            return current.Calendar;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_current is { } fresh && time.GetUtcNow() - fresh.LoadedAt < _refresh)
            {
                return fresh.Calendar;
            }

            try
            {
                var (published, changes) = await store.LoadAsync(cancellationToken);
                var publishedYears = published.Select(y => y.Year).ToHashSet();
                var years = DefaultCalendars.All.Where(y => !publishedYears.Contains(y.Year)).Concat(published);
                var calendar = new BankCalendar(_rules, years, changes);
                _current = (calendar, time.GetUtcNow());
                return calendar;
            }
            catch (RequestFailedException ex) when (_current is not null)
            {
                LogRefreshFailed(logger, ex);
                _current = (_current.Value.Calendar, time.GetUtcNow());
                return _current.Value.Calendar;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>Forces the next read to reload (after this process published a change).</summary>
    public void Invalidate() => _current = null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the bank calendar; serving the last good one")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}

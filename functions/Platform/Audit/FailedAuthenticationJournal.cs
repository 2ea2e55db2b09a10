using System.Collections.Concurrent;
using System.Globalization;

namespace BusinessApi.Platform.Audit;

/// <summary>
/// Failed authentications of callers nobody knows (an unrecognised bearer token, an unknown Client ID or login)
/// go to the journal aggregated: the first failure of an action from an address in a window is journaled at
/// once with its details, the rest are counted and journaled as one entry (<c>count</c>, <c>from</c>, <c>to</c>)
/// when the window closes. A flood of bad tokens costs the hot <c>system</c> partition one write per address a
/// minute, not one per request; past <see cref="MaxTracked"/> addresses, new ones share one overflow counter,
/// so the memory is bounded too.
/// </summary>
public sealed partial class FailedAuthenticationJournal(AuditJournal audit, TimeProvider time, ILogger<FailedAuthenticationJournal> logger) : BackgroundService
{
    public const int MaxTracked = 10_000;
    public const string Overflow = "overflow";
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    // Failures counted in this process's current window; each instance journals its own count, so none is lost.
    private readonly ConcurrentDictionary<(string Action, string Address), Counter> _open = new();
    private readonly SemaphoreSlim _flushing = new(1, 1);

    /// <summary>Counts a failure; journals it now when it is the first of its action and address in the window.</summary>
    public async Task RecordAsync(string action, string address, IReadOnlyDictionary<string, string> details, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(details);
        var now = time.GetUtcNow();
        var key = (action, address);
        if (!_open.ContainsKey(key) && _open.Count >= MaxTracked)
        {
            key = (action, Overflow);
        }

        var counter = _open.GetOrAdd(key, _ => new Counter(now));
        if (Interlocked.Increment(ref counter.Count) > 1)
        {
            counter.Last = now;
            return;
        }

        var first = new Dictionary<string, string>(details) { ["address"] = address };
        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, "anonymous", action, AuditOutcome.Denied)
        {
            CorrelationId = correlationId,
            Details = first,
        }, cancellationToken);
    }

    /// <summary>
    /// Journals the windows that have closed by now: one entry each for the failures beyond the first. One flush at a
    /// time: a caller (the periodic one, the one at shutdown, a test) returns only when every window taken out before
    /// it is written, so a count taken by a flush in flight is never lost to a caller that found nothing left.
    /// </summary>
    public async Task FlushAsync(bool all, CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            await FlushOnceAsync(all, cancellationToken);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task FlushOnceAsync(bool all, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        foreach (var (key, counter) in _open)
        {
            if ((!all && now - counter.First < Window) || !_open.TryRemove(key, out _))
            {
                continue;
            }

            var more = Volatile.Read(ref counter.Count) - 1;
            if (more <= 0)
            {
                continue;
            }

            await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, "anonymous", key.Action, AuditOutcome.Denied)
            {
                Details = new Dictionary<string, string>
                {
                    ["address"] = key.Address,
                    ["count"] = more.ToString(CultureInfo.InvariantCulture),
                    ["from"] = counter.First.ToString("O", CultureInfo.InvariantCulture),
                    ["to"] = counter.Last.ToString("O", CultureInfo.InvariantCulture),
                    ["aggregated"] = "true",
                },
            }, cancellationToken);
        }
    }

    public int Tracked => _open.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Window / 4, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushSafelyAsync(all: false, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    public override void Dispose()
    {
        _flushing.Dispose();
        base.Dispose();
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await FlushSafelyAsync(all: true, cancellationToken);
    }

    private async Task FlushSafelyAsync(bool all, CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(all, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFlushFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Journaling aggregated authentication failures failed; the counts are lost for this window")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);

    private sealed class Counter(DateTimeOffset first)
    {
        public int Count;

        public DateTimeOffset First { get; } = first;

        public DateTimeOffset Last { get; set; } = first;
    }
}

using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Azure;
using Azure.Storage.Queues;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Timers;

/// <summary>Settings of the wake-up queue (appsettings.json <c>wakeups</c>).</summary>
public sealed class WakeupOptions
{
    public const string Section = "Wakeups";

    /// <summary>Off, no message is sent or read (a host that never scales to zero may turn it off).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often a running instance takes the messages that came due.</summary>
    [Range(1, 3600)]
    public int PollSeconds { get; set; } = 15;

    /// <summary>Due times closer than this are left to the running instance's own timers.</summary>
    [Range(0, 86_400)]
    public int MinimumDelaySeconds { get; set; } = 60;
}

/// <summary>
/// Wakes the app when something durable falls due while no instance runs (Container Apps scales to
/// zero). Each due time puts one message on the <c>wakeups</c> queue, invisible until then (Azure caps
/// that at 7 days: a message that comes up early is put back for the rest). The scale rule counts only
/// visible messages, so the app is started exactly when one comes up; once running, its sweeps and
/// timer jobs do the work and this service deletes the message. Due times are rounded up to the
/// minute and each minute is armed once per process, so a burst of waits costs one message.
/// </summary>
public sealed partial class WakeupAlarm(
    StorageResources storage,
    TimeProvider time,
    IOptions<WakeupOptions> options,
    IOptions<Configuration.PlatformOptions> platform,
    ILogger<WakeupAlarm> logger) : BackgroundService
{
    public const string QueueName = "wakeups";

    /// <summary>Azure's longest visibility timeout is 7 days; a little less leaves room for clock skew.</summary>
    public static readonly TimeSpan LongestDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5);

    private static readonly TimeSpan Never = TimeSpan.FromSeconds(-1);

    private readonly WakeupOptions _options = options.Value;
    private readonly ConcurrentDictionary<long, Lazy<Task>> _armed = new();
    private QueueClient Queue => storage.Queue(QueueName);

    /// <summary>Arms a wake-up at <paramref name="dueAt"/> in the background; a failure is logged, never thrown.</summary>
    public void Arm(DateTimeOffset dueAt) => _ = ArmAsync(dueAt);

    /// <summary>Arms a wake-up at the start of the local <paramref name="day"/> (items of day-based due indexes).</summary>
    public void ArmDay(DateOnly day) => Arm(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), platform.Value.LocalOffset));

    /// <summary>Arms a wake-up at <paramref name="dueAt"/> (rounded up to the minute) unless this process already did.</summary>
    public Task ArmAsync(DateTimeOffset dueAt)
    {
        if (!_options.Enabled)
        {
            return Task.CompletedTask;
        }

        if (dueAt - time.GetUtcNow() < TimeSpan.FromSeconds(_options.MinimumDelaySeconds))
        {
            return Task.CompletedTask;
        }

        var minute = CeilingMinute(dueAt);

        // Lazy: GetOrAdd may run its factory twice under contention; the send must happen once.
        return _armed.GetOrAdd(minute.ToUnixTimeSeconds() / 60, _ => new Lazy<Task>(() => SendAsync(minute))).Value;
    }

    private async Task SendAsync(DateTimeOffset at)
    {
        try
        {
            var delay = at - time.GetUtcNow();
            await Queue.SendMessageAsync(at.ToString("O", CultureInfo.InvariantCulture),
                visibilityTimeout: delay < LongestDelay ? delay : LongestDelay, timeToLive: Never);
        }
        catch (Exception ex) when (StorageFaults.IsTransient(ex))
        {
            _armed.TryRemove(at.ToUnixTimeSeconds() / 60, out _); // the next wait for that minute tries again
            LogArmFailed(logger, at, ex);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TakeDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // storage down or slow (a failed call, a timeout, the SDK's spent retries): the next poll tries again; the host must stay up
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPollFailed(logger, ex);
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, _options.PollSeconds)), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Deletes the wake-ups that came due (this instance is up: its sweeps do the work); re-arms early ones.</summary>
    internal async Task<int> TakeDueAsync(CancellationToken cancellationToken)
    {
        var taken = 0;
        while (true)
        {
            var messages = (await Queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1), cancellationToken)).Value;
            if (messages.Length == 0)
            {
                return taken;
            }

            foreach (var message in messages)
            {
                if (await OnWokenAsync(message.MessageText, cancellationToken))
                {
                    taken++;
                }

                try
                {
                    await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status == 404)
                {
                    // another instance took it
                }
            }

            Prune();
        }
    }

    /// <summary>
    /// A wake-up message came up (read here, or by the Functions head's queue trigger, which deletes it when this
    /// returns). One whose time is still ahead (a wait past the 7-day cap surfaces early) is put back for the rest
    /// and answers false; otherwise true: the app is up and its sweeps should look now.
    /// </summary>
    public async Task<bool> OnWokenAsync(string messageText, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (DateTimeOffset.TryParse(messageText, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) && at - now > TimeSpan.FromMinutes(1))
        {
            var rest = at - now;
            await Queue.SendMessageAsync(messageText, rest < LongestDelay ? rest : LongestDelay, Never, cancellationToken);
            return false;
        }

        LogWoke(logger, messageText);
        return true;
    }

    private void Prune()
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds() / 60;
        foreach (var minute in _armed.Keys.Where(m => m < now))
        {
            _armed.TryRemove(minute, out _);
        }
    }

    private static DateTimeOffset CeilingMinute(DateTimeOffset instant)
    {
        var utc = instant.ToUniversalTime();
        var floor = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
        return floor == utc ? floor : floor.AddMinutes(1);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not arm the wake-up for {DueAt}; a running instance still handles it, a scaled-to-zero app wakes at the next request")]
    private static partial void LogArmFailed(ILogger logger, DateTimeOffset dueAt, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the wake-up queue failed; trying again")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Woken for work due at {DueAt}")]
    private static partial void LogWoke(ILogger logger, string dueAt);
}

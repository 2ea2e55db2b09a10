using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Blobs.Specialized;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Telemetry;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Timers;

/// <summary>
/// Runs the scheduled jobs. Each run holds a blob lease (renewed while it runs), so one instance runs
/// a job at a time; the occurrence it ran for and the next one due are kept in Tables, so a run
/// missed while the app was down runs once on start (flagged past due), not once per missed slot.
/// </summary>
public sealed partial class TimerScheduler(
    IEnumerable<IScheduledJob> jobs,
    StorageResources storage,
    TimeProvider time,
    IConfiguration configuration,
    IOptions<TimerOptions> options,
    ILogger<TimerScheduler> logger) : BackgroundService
{
    public const string StateTable = "TimerState";
    public const string LeaseContainer = "timerleases";
    private const string StatePartition = "timers";

    private readonly TableClient _state = storage.Table(StateTable);
    private readonly TimerOptions _options = options.Value;

    /// <summary>The schedule of a job: appsettings.json <c>timers:{name}:schedule</c>, else its default.</summary>
    public JobSchedule ScheduleOf(IScheduledJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var configured = configuration.GetSection($"{TimerOptions.Section}:{job.Name}");
        var text = configured.Exists() && configured["Schedule"] is { } schedule ? schedule : job.DefaultSchedule;
        return JobSchedule.Parse(text, _options.TimeZone());
    }

    /// <summary>Every schedule is parsed before the app serves: a bad one in appsettings.json stops the start with its name.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var job in jobs)
        {
            try
            {
                ScheduleOf(job);
            }
            catch (FormatException ex)
            {
                throw new InvalidOperationException($"Timer '{job.Name}': {ex.Message}", ex);
            }
        }

        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(jobs.Select(job => (job, schedule: ScheduleOf(job)))
            .Where(j => j.schedule.Enabled)
            .Select(j => LoopAsync(j.job, j.schedule, stoppingToken)));

    private async Task LoopAsync(IScheduledJob job, JobSchedule schedule, CancellationToken stoppingToken)
    {
        LogScheduled(logger, job.Name, schedule.Text);
        DateTimeOffset? firstDue = null; // before the job's first run ever, there is no stored state to say when
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var state = await ReadStateAsync(job.Name, stoppingToken);
                var now = time.GetUtcNow();
                var due = state?.NextDue ?? (firstDue ??= schedule.Next(now));
                if (due is null)
                {
                    return;
                }

                if (due > now)
                {
                    // Wake at the occurrence, or within a minute to notice runs made by other instances.
                    await Task.Delay(Min(due.Value - now, TimeSpan.FromMinutes(1)), time, stoppingToken);
                    continue;
                }

                if (!await TryRunAsync(job, schedule, due.Value, stoppingToken))
                {
                    // Another instance holds the lease (or a timer trigger runs it here): look again shortly.
                    await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Storage trouble: try again shortly; the job's own failures are handled in TryRunAsync.
                LogSchedulerFailed(logger, job.Name, ex);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken);
            }
        }
    }

    /// <summary>Runs the occurrence <paramref name="due"/> if this instance gets the lease and nobody ran it yet.</summary>
    internal async Task<bool> TryRunAsync(IScheduledJob job, JobSchedule schedule, DateTimeOffset due, CancellationToken cancellationToken)
    {
        var blob = storage.Container(LeaseContainer).GetBlobClient(job.Name);
        try
        {
            await blob.UploadAsync(BinaryData.Empty, overwrite: false, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // The lease blob exists (or is leased right now): that is the normal case.
        }

        var lease = blob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(TimeSpan.FromSeconds(_options.LeaseSeconds), cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false; // another instance (or this one's other driver) is running it
        }

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var renewing = RenewAsync(lease, renewal.Token);
        try
        {
            var state = await ReadStateAsync(job.Name, cancellationToken);
            if (state?.NextDue is { } alreadyNext && alreadyNext > due)
            {
                return false; // another instance ran this occurrence between our read and our lease
            }

            var now = time.GetUtcNow();
            var run = new ScheduledRun(due, now - due > TimeSpan.FromSeconds(_options.PastDueToleranceSeconds), state?.LastRunFor);
            string? error = null;
            var started = Stopwatch.GetTimestamp();
            using (var activity = job.Traced ? PlatformTelemetry.Timers.StartActivity("timer " + job.Name, ActivityKind.Internal, parentContext: default) : null)
            {
                activity?.SetTag("timer.job", job.Name);
                activity?.SetTag("timer.occurrence", due.ToString("O", CultureInfo.InvariantCulture));
                activity?.SetTag("timer.past_due", run.PastDue);
                try
                {
                    await job.RunAsync(run, cancellationToken);
                    LogRan(logger, job.Name, due, run.PastDue);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    error = $"{ex.GetType().Name}: {ex.Message}";
                    activity?.SetStatus(ActivityStatusCode.Error, error);
                    LogJobFailed(logger, job.Name, due, ex);
                }
            }

            var runTags = new TagList { { "job", job.Name }, { "outcome", error is null ? "succeeded" : "failed" } };
            PlatformTelemetry.TimerRuns.Add(1, runTags);
            PlatformTelemetry.TimerRunDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds, runTags);

            // Missed occurrences collapse into this one run: the next is the first after now.
            var finished = time.GetUtcNow();
            await _state.UpsertEntityAsync(new TableEntity(StatePartition, job.Name)
            {
                ["LastRunFor"] = due,
                ["LastFinishedAt"] = finished,
                ["NextDue"] = schedule.Next(finished > due ? finished : due),
                ["LastError"] = error,
                ["PastDue"] = run.PastDue,
            }, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        finally
        {
            await renewal.CancelAsync();
            await renewing;
            try
            {
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None);
            }
            catch (RequestFailedException ex)
            {
                LogReleaseFailed(logger, job.Name, ex.Status);
            }
        }
    }

    /// <summary>
    /// Runs the occurrence of job <paramref name="name"/> that is due now, unless an instance ran it already: the
    /// entry of a timer trigger (the Functions head), which only wakes the app at the schedule's occurrences. The
    /// stored state, not the trigger, says which occurrence is due: one missed while no instance ran (the app
    /// scaled to zero, a trigger that failed) runs once, flagged past due; one the in-process loop already ran is
    /// not run again. A trigger that fires up to <see cref="EarlyFireTolerance"/> before the occurrence runs it.
    /// </summary>
    /// <returns>True when this call ran the job; false when nothing was due or another run holds the lease.</returns>
    public async Task<bool> RunDueAsync(string name, CancellationToken cancellationToken)
    {
        var job = JobNamed(name);
        var schedule = ScheduleOf(job);
        if (!schedule.Enabled)
        {
            return false;
        }

        var state = await ReadStateAsync(job.Name, cancellationToken);
        var now = time.GetUtcNow();

        // Never run before: the occurrence the trigger fired for (the last one at or before now, with the tolerance).
        var due = state?.NextDue ?? schedule.Next(now - TimeSpan.FromSeconds(Math.Max(1, _options.PastDueToleranceSeconds)));
        if (due is null || due > now + EarlyFireTolerance)
        {
            return false;
        }

        return await TryRunAsync(job, schedule, due.Value, cancellationToken);
    }

    /// <summary>How early a timer trigger may fire and still run the occurrence it fired for.</summary>
    public static readonly TimeSpan EarlyFireTolerance = TimeSpan.FromSeconds(2);

    /// <summary>The schedule of the job named <paramref name="name"/>, as configured.</summary>
    public JobSchedule ScheduleOf(string name) => ScheduleOf(JobNamed(name));

    private IScheduledJob JobNamed(string name) =>
        jobs.FirstOrDefault(j => j.Name == name) ?? throw new InvalidOperationException($"No scheduled job is named '{name}'.");

    /// <summary>The jobs and their schedules as configured (the Functions head checks its triggers against them).</summary>
    public IReadOnlyList<(string Name, JobSchedule Schedule)> Schedules() => jobs.Select(j => (j.Name, ScheduleOf(j))).ToList();

    public async Task<TimerState?> ReadStateAsync(string name, CancellationToken cancellationToken)
    {
        var found = await _state.GetEntityIfExistsAsync<TableEntity>(StatePartition, name, cancellationToken: cancellationToken);
        return found.HasValue
            ? new TimerState(found.Value!.GetDateTimeOffset("LastRunFor"), found.Value.GetDateTimeOffset("LastFinishedAt"),
                found.Value.GetDateTimeOffset("NextDue"), found.Value.GetString("LastError"), found.Value.GetBoolean("PastDue") ?? false)
            : null;
    }

    private async Task RenewAsync(BlobLeaseClient lease, CancellationToken cancellationToken)
    {
        var every = TimeSpan.FromSeconds(Math.Max(1, _options.LeaseSeconds / 3));
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, time, cancellationToken);
                await lease.RenewAsync(cancellationToken: cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (RequestFailedException ex)
            {
                LogRenewFailed(logger, ex.Status);
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(Level = LogLevel.Information, Message = "Timer {Job} scheduled: {Schedule}")]
    private static partial void LogScheduled(ILogger logger, string job, string schedule);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Timer {Job} ran for {Occurrence} (past due: {PastDue})")]
    private static partial void LogRan(ILogger logger, string job, DateTimeOffset occurrence, bool pastDue);

    [LoggerMessage(Level = LogLevel.Error, Message = "Timer {Job} failed for {Occurrence}; it runs again at its next occurrence")]
    private static partial void LogJobFailed(ILogger logger, string job, DateTimeOffset occurrence, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer {Job}: scheduling failed; retrying")]
    private static partial void LogSchedulerFailed(ILogger logger, string job, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer {Job}: could not release its lease (status {Status}); it expires by itself")]
    private static partial void LogReleaseFailed(ILogger logger, string job, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer lease renewal failed (status {Status})")]
    private static partial void LogRenewFailed(ILogger logger, int status);
}

/// <summary>What is kept of a job between runs.</summary>
public sealed record TimerState(DateTimeOffset? LastRunFor, DateTimeOffset? LastFinishedAt, DateTimeOffset? NextDue, string? LastError, bool PastDue);

public static class TimerServiceCollectionExtensions
{
    /// <summary>The scheduler and its storage (once).</summary>
    public static IServiceCollection AddTimers(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(TimerScheduler)))
        {
            return services;
        }

        services.AddOptions<TimerOptions>().Bind(configuration.GetSection(TimerOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageTable(TimerScheduler.StateTable);
        services.AddStorageContainer(TimerScheduler.LeaseContainer);
        services.AddSingleton<TimerScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<TimerScheduler>());
        services.AddOptions<WakeupOptions>().Bind(configuration.GetSection(WakeupOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageQueue(WakeupAlarm.QueueName);
        services.AddSingleton<WakeupAlarm>();
        services.AddHostedService(sp => sp.GetRequiredService<WakeupAlarm>());
        return services;
    }

    /// <summary>Registers a scheduled job (a singleton).</summary>
    public static IServiceCollection AddScheduledJob<TJob>(this IServiceCollection services)
        where TJob : class, IScheduledJob
    {
        services.AddSingleton<TJob>();
        services.AddSingleton<IScheduledJob>(sp => sp.GetRequiredService<TJob>());
        return services;
    }
}

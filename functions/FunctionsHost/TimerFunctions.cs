using BusinessApi.Accounts.Ledger;
using BusinessApi.Credentials;
using BusinessApi.Documents;
using BusinessApi.Documents.Signatures;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Timers;
using BusinessApi.Users;
using Microsoft.Azure.Functions.Worker;

namespace BusinessApi.FunctionsHost;

/// <summary>
/// One timer trigger per scheduled job, on the job's own schedule (its <c>Schedule</c> constant, the default of
/// <c>Timers:{job}:Schedule</c>). A trigger only wakes the app at an occurrence; the application's scheduler stays in
/// charge (<see cref="TimerScheduler.RunDueAsync"/>): its blob lease lets one run at a time across instances, and its
/// stored state says which occurrence is due. So the trigger and the in-process loop (which also runs while the worker
/// is alive) never both run an occurrence — whichever takes the lease first runs it, the other finds it done — and
/// an occurrence missed while the app was scaled to zero runs once at the next trigger, flagged past due.
/// Functions' own timer singleton (one instance fires each occurrence) only saves a lease attempt.
/// </summary>
public sealed partial class TimerFunctions(TimerScheduler scheduler, ILogger<TimerFunctions> logger)
{
    [Function("timer-" + LedgerOutboxSweep.JobName)]
    public Task LedgerOutbox([TimerTrigger(LedgerOutboxSweep.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(LedgerOutboxSweep.JobName, LedgerOutboxSweep.Schedule, timer, cancellationToken);

    [Function("timer-" + CredentialInactivityJob.JobName)]
    public Task CredentialInactivity([TimerTrigger(CredentialInactivityJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(CredentialInactivityJob.JobName, CredentialInactivityJob.Schedule, timer, cancellationToken);

    [Function("timer-" + UserInactivityJob.JobName)]
    public Task UserInactivity([TimerTrigger(UserInactivityJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(UserInactivityJob.JobName, UserInactivityJob.Schedule, timer, cancellationToken);

    [Function("timer-" + DocumentDeadlineJob.JobName)]
    public Task DocumentDeadlines([TimerTrigger(DocumentDeadlineJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(DocumentDeadlineJob.JobName, DocumentDeadlineJob.Schedule, timer, cancellationToken);

    [Function("timer-" + CrlRefreshJob.JobName)]
    public Task CrlRefresh([TimerTrigger(CrlRefreshJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(CrlRefreshJob.JobName, CrlRefreshJob.Schedule, timer, cancellationToken);

    [Function("timer-" + SignerPowerExpiryJob.JobName)]
    public Task SignerPowerExpiry([TimerTrigger(SignerPowerExpiryJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(SignerPowerExpiryJob.JobName, SignerPowerExpiryJob.Schedule, timer, cancellationToken);

    [Function("timer-" + ApiSupportFeeJob.JobName)]
    public Task ApiSupportFee([TimerTrigger(ApiSupportFeeJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(ApiSupportFeeJob.JobName, ApiSupportFeeJob.Schedule, timer, cancellationToken);

    [Function("timer-" + FeeDebtSettlementJob.JobName)]
    public Task FeeDebts([TimerTrigger(FeeDebtSettlementJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(FeeDebtSettlementJob.JobName, FeeDebtSettlementJob.Schedule, timer, cancellationToken);

    [Function("timer-" + NoticeDeadlineJob.JobName)]
    public Task NoticeDeadlines([TimerTrigger(NoticeDeadlineJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(NoticeDeadlineJob.JobName, NoticeDeadlineJob.Schedule, timer, cancellationToken);

    [Function("timer-" + IdempotencyPurgeJob.JobName)]
    public Task IdempotencyPurge([TimerTrigger(IdempotencyPurgeJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(IdempotencyPurgeJob.JobName, IdempotencyPurgeJob.Schedule, timer, cancellationToken);

    [Function("timer-" + AuditAnchorJob.JobName)]
    public Task AuditAnchor([TimerTrigger(AuditAnchorJob.Schedule)] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(AuditAnchorJob.JobName, AuditAnchorJob.Schedule, timer, cancellationToken);

    private async Task RunAsync(string job, string triggerSchedule, TimerInfo timer, CancellationToken cancellationToken)
    {
        var configured = scheduler.ScheduleOf(job).Text;
        if (configured != triggerSchedule)
        {
            // Timers:{job}:Schedule was changed: the in-process loop follows it while the app runs, this trigger
            // (fixed at build time) still wakes the app at its own occurrences, where what is due by the setting runs.
            LogScheduleDiffers(logger, job, configured, triggerSchedule);
        }

        var ran = await scheduler.RunDueAsync(job, cancellationToken);
        LogTriggered(logger, job, timer.IsPastDue, ran);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Timer trigger {Job} (past due: {PastDue}): ran here: {Ran}")]
    private static partial void LogTriggered(ILogger logger, string job, bool pastDue, bool ran);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Timer {Job} is configured as '{Configured}' but its trigger fires on '{Trigger}'; what is due by the setting runs when the trigger wakes the app")]
    private static partial void LogScheduleDiffers(ILogger logger, string job, string configured, string trigger);
}

using BusinessApi.Platform.Timers;

namespace BusinessApi.Credentials;

/// <summary>
/// pairs with no request for 90 calendar days or more become <c>blockedInactive</c>, with a journal
/// entry and a notice to the customer. Reads only the due index's partitions up to today, so its cost is
/// O(due pairs), never the whole table. Safe when two instances run it (every change is ETag-checked,
/// the notice's id is derived from the pair); the token path blocks a due pair by itself in the meantime.
/// </summary>
public sealed partial class CredentialInactivityJob(
    CredentialStore store, CredentialService credentials, ILogger<CredentialInactivityJob> logger) : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:credential-inactivity:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "credential-inactivity";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 5 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var today = credentials.Today;
        var blocked = 0;
        var stale = 0;
        await foreach (var (day, clientId) in store.DueAsync(today, cancellationToken))
        {
            var stored = await store.GetAsync(clientId, cancellationToken);
            if (stored is not null && stored.Credential.BlockDay == day)
            {
                var pair = stored.Credential;
                if (pair.Status == CredentialStatus.Active
                    || (pair.Status == CredentialStatus.BlockedInactive && string.Equals(pair.StatusChangedBy, CredentialService.SystemActor, StringComparison.Ordinal)))
                {
                    var after = await credentials.BlockInactiveAsync(stored, "timer:" + Name, cancellationToken);
                    if (after?.Credential.Status == CredentialStatus.BlockedInactive)
                    {
                        blocked++;
                    }
                    else if (after is not null && after.Credential.BlockDay > today)
                    {
                        continue; // used again meanwhile: its new index row decides; this one is removed by the move
                    }
                }
            }
            else
            {
                stale++;
            }

            await store.DeleteDueAsync(day, clientId, cancellationToken);
        }

        if (blocked + stale > 0)
        {
            LogRun(logger, blocked, stale);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Credential inactivity: {Blocked} pairs blocked after 90 days unused, {Stale} stale index rows removed")]
    private static partial void LogRun(ILogger logger, int blocked, int stale);
}

using BusinessApi.Platform.Timers;

namespace BusinessApi.Users;

/// <summary>
/// a user with no activity for more than 30 calendar days is blocked, journaled and noticed. Reads
/// only the due index up to today (O(due users)); ETag-checked changes make two instances safe. Sign-in and
/// every request enforce the rule by themselves in the meantime.
/// </summary>
public sealed partial class UserInactivityJob(UserStore store, UserService users, ILogger<UserInactivityJob> logger) : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:user-inactivity:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "user-inactivity";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 7 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var today = users.Today;
        var blocked = 0;
        await foreach (var (day, userId) in store.DueAsync(today, cancellationToken))
        {
            var stored = await store.GetAsync(userId, cancellationToken);
            if (stored is not null && stored.User.InactiveBlockDay == day)
            {
                var after = await users.BlockInactiveAsync(stored, "timer:" + Name, cancellationToken);
                if (after?.User.Status == UserStatus.BlockedInactive)
                {
                    blocked++;
                }
                else if (after is not null && after.User.InactiveBlockDay > today)
                {
                    continue;
                }
            }

            await store.DeleteDueAsync(day, userId, cancellationToken);
        }

        if (blocked > 0)
        {
            LogRun(logger, blocked);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "User inactivity: {Blocked} users blocked after more than 30 days without activity")]
    private static partial void LogRun(ILogger logger, int blocked);
}

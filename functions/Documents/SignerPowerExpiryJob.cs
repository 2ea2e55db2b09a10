using System.Globalization;
using BusinessApi.Calendar;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Timers;
using BusinessApi.Users;

namespace BusinessApi.Documents;

/// <summary>
/// Tells a customer's admins, <see cref="PowerTerms.NoticeDays"/> days ahead (7 by default), that a signer's power
/// ends: a user's powers with a term, or a signer's power on an account's specimen card. Reads only the due index up
/// to today and re-reads each power, so one extended or ended since is not announced; the notice's id is the power
/// and its end, so two instances or a rerun tell once.
/// </summary>
public sealed partial class SignerPowerExpiryJob(
    PowerTerms terms, UserService users, SpecimenCardStore cards, NoticeChannel notices, AuditJournal audit, TimeProvider time, ILogger<SignerPowerExpiryJob> logger)
    : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:signer-power-expiry:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "signer-power-expiry";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 20 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var told = 0;
        await foreach (var (day, key) in terms.Due.DueAsync(KazakhstanTime.LocalDate(now), cancellationToken))
        {
            var parts = key.Split('|');
            var (customerId, iban, userId) = parts switch
            {
                ["u", var id] => (User.IsWellFormedId(id) ? User.CustomerIdOf(id) : null, "*", id),
                ["c", var customer, var account, var id] => (customer, account, id),
                _ => (null, "", ""),
            };
            var user = customerId is null || !User.IsWellFormedId(userId) ? null : (await users.GetAsync(userId, cancellationToken))?.User;
            var until = user is null ? null
                : iban == "*" ? (user.Functions.Contains(UserFunctions.Sign) ? user.Powers.ValidUntil : null)
                : (await cards.GetAsync(customerId!, iban, [userId], cancellationToken))?.Card.ActiveSigner(userId, now)?.ValidUntil;
            if (until is { } end && end > now && KazakhstanTime.LocalDate(end.AddDays(-terms.NoticeDays)) <= day)
            {
                var text = end.ToString("O", CultureInfo.InvariantCulture);
                await notices.AddAsync(new NoticeRequest(customerId!, NoticeKinds.SignerPowerExpiring, $"power:{key}:{text}", now, null,
                    [userId, user!.FullName, iban, text]), cancellationToken);
                await audit.AppendAsync(new AuditRecord(customerId!, "timer:" + Name, "signer.power_expiring", AuditOutcome.Success)
                {
                    Target = "users/" + userId,
                    Details = new Dictionary<string, string> { ["account"] = iban, ["validUntil"] = text },
                }, cancellationToken);
                told++;
            }

            await terms.Due.DeleteAsync(day, key, cancellationToken);
        }

        if (told > 0)
        {
            LogRun(logger, told);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Signer powers: {Told} ending within the notice period announced")]
    private static partial void LogRun(ILogger logger, int told);
}

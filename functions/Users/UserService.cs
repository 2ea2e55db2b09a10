using System.Collections.Concurrent;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Caching;
using Microsoft.Extensions.Options;

namespace BusinessApi.Users;

public enum SignInOutcome
{
    SignedIn,
    PasswordChangeRequired,
    InvalidCredentials,
    Locked,
    Blocked,
}

/// <summary>The answer to a sign-in: a session (full or password-change only), or why not.</summary>
public sealed record SignInResult(SignInOutcome Outcome)
{
    public string? Token { get; init; }

    public Session? Session { get; init; }

    public User? User { get; init; }

    public DateTimeOffset? LockedUntil { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    public int? PasswordDaysLeft { get; init; }

    /// <summary>A wrong password was evaluated (as against a refusal that hashed nothing).</summary>
    public bool Guessed { get; init; }
}

/// <summary>A valid session with its user, as a request sees it.</summary>
public sealed record SessionContext(Session Session, User User, bool PasswordChangeOnly, IReadOnlyList<string> Scopes)
{
    /// <summary>The accounts the session reaches: the user's powers, narrowed for a software session to its pair's accounts.</summary>
    public IReadOnlyList<string> Accounts { get; init; } = User.Powers.Accounts;
}

/// <summary>The client token a Software Product session is opened with.</summary>
public sealed record SessionClient(string ClientId, string CustomerId, IReadOnlyList<string> Scopes);

/// <summary>
/// Users, passwords and sessions under clause 3.5.1 (R-20..R-29). Each state change is journaled under the
/// user's id. Requests ask <see cref="ValidateAsync"/>, which trusts stored session and user state for
/// <see cref="UserOptions.CacheSeconds"/> and keeps each session's last activity exactly in memory,
/// writing it to storage at most every <see cref="UserOptions.ActivityWriteSeconds"/>.
/// </summary>
public sealed partial class UserService(
    UserStore users,
    SessionStore sessions,
    PasswordHasher hasher,
    CalendarProvider calendars,
    CredentialService credentials,
    AuditJournal audit,
    FailedAuthenticationJournal failures,
    NoticeChannel notices,
    TimeProvider time,
    IOptions<UserOptions> options,
    ILogger<UserService> logger)
{
    public const string SystemActor = "system";
    private const int MaxCached = 50_000;

    // Sessions and users as requests see them. Safe across instances: another instance's change (a block, a password
    // change, a sign-out) is seen within UserOptions.CacheSeconds; this instance's own changes replace the entry at once.
    private readonly BoundedCache<string, Session> _sessions = new(time, MaxCached, TimeSpan.FromSeconds(options.Value.CacheSeconds), StringComparer.Ordinal);
    private readonly BoundedCache<string, StoredUser> _users = new(time, MaxCached, TimeSpan.FromSeconds(options.Value.CacheSeconds), StringComparer.Ordinal);

    // A session's last activity, exact, kept for an idle time. Safe across instances: each instance also writes
    // it to the session row every ActivityWriteSeconds, and a session is valid if either says it was used recently.
    private readonly BoundedCache<string, DateTimeOffset> _lastSeen = new(time, MaxCached, options.Value.IdleTimeout, StringComparer.Ordinal);

    // Writes of activity in flight, so concurrent requests of one session or user write it once.
    private readonly ConcurrentDictionary<string, byte> _recording = new(StringComparer.Ordinal);

    public DateOnly Today => KazakhstanTime.LocalDate(time.GetUtcNow());

    private TimeSpan IdleTimeout => options.Value.IdleTimeout;

    public Task<StoredUser?> GetAsync(string userId, CancellationToken cancellationToken) => users.GetAsync(userId, cancellationToken);

    /// <summary>The user as sessions see it: trusted for <see cref="UserOptions.CacheSeconds"/> (changes made in this process are seen at once).</summary>
    public ValueTask<StoredUser?> GetCachedAsync(string userId, CancellationToken cancellationToken) =>
        GetUserCachedAsync(userId, cancellationToken);

    public Task<IReadOnlyList<User>> ListAsync(string customerId, CancellationToken cancellationToken) => users.ListAsync(customerId, cancellationToken);

    /// <summary>Creates a user with a temporary password that must be changed at the first sign-in .</summary>
    public async Task<(User? User, string? TemporaryPassword, User? Conflict)> CreateAsync(
        string customerId, string login, string fullName, string iin, bool isAdmin, UserPowers powers, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var temporary = PasswordPolicy.NewTemporaryPassword();
        var hash = await hasher.HashAsync(temporary, cancellationToken);
        var user = new User(customerId, User.NewId(customerId), login.Trim(), fullName.Trim(), iin, isAdmin, UserStatus.Active, powers, now)
        {
            PasswordHistory = [hash],
            PasswordSetAt = now,
            MustChangePassword = true,
            LastActivityAt = now,
            LastActivityDay = KazakhstanTime.LocalDate(now),
        };
        var (created, holder) = await users.CreateAsync(user, cancellationToken);
        if (!created)
        {
            return (null, null, holder?.User);
        }

        await AuditAsync(user.UserId, actor, "user.created", AuditOutcome.Success, correlationId, new()
        {
            ["login"] = user.Login,
            ["isAdmin"] = isAdmin ? "true" : "false",
            ["functions"] = string.Join(' ', user.Functions),
            ["accounts"] = string.Join(' ', powers.Accounts),
        }, cancellationToken);
        return (user, temporary, null);
    }

    /// <summary>
    /// Signs in (R-20, R-24..R-27). The hash work is the same for an unknown login; a locked user is told
    /// only that it is locked, whether or not the password was right.
    /// </summary>
    /// <summary>The user's own change (R-21..R-25): every broken rule at once, by code; the session becomes a full one.</summary>
    public async Task<(bool Changed, IReadOnlyList<string> Broken, SignInOutcome? Refusal)> ChangePasswordAsync(
        SessionContext context, string currentPassword, string newPassword, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stored = await users.GetAsync(context.User.UserId, cancellationToken);
        if (stored is null)
        {
            return (false, [], SignInOutcome.InvalidCredentials);
        }

        var now = time.GetUtcNow();
        var (claimed, _) = await ClaimAttemptAsync(stored, now, cancellationToken);
        if (claimed is null)
        {
            return (false, [], SignInOutcome.Locked);
        }

        stored = claimed;
        if (!await hasher.VerifyAsync(currentPassword, stored.User.PasswordHash, cancellationToken))
        {
            var failure = await RecordFailureAsync(stored, now, "session", correlationId, cancellationToken);
            return (false, [], failure.Outcome);
        }

        stored = await users.UpdateAsync(stored, u => u with { FailedAttempts = 0, PendingAttempts = Math.Max(0, Pending(u, now) - 1) }, cancellationToken) ?? stored;

        var broken = new List<string>(PasswordPolicy.CheckComposition(newPassword));
        if (newPassword.Length <= PasswordPolicy.MaxLength)
        {
            foreach (var previous in stored.User.PasswordHistory.Take(PasswordPolicy.HistoryDepth))
            {
                if (await hasher.VerifyAsync(newPassword, previous, cancellationToken))
                {
                    broken.Add("password_reused");
                    break;
                }
            }
        }

        var calendar = await calendars.GetAsync(cancellationToken);
        if (!stored.User.MustChangePassword && now < PasswordPolicy.EarliestChange(stored.User.PasswordSetAt, calendar))
        {
            broken.Add("password_too_recent");
        }

        if (broken.Count > 0)
        {
            await AuditAsync(stored.User.UserId, "user:" + stored.User.UserId, "user.password_change", AuditOutcome.Denied, correlationId,
                new() { ["rules"] = string.Join(' ', broken) }, cancellationToken);
            return (false, broken, null);
        }

        var hash = await hasher.HashAsync(newPassword, cancellationToken);
        var updated = await users.UpdateAsync(stored, u => u with
        {
            PasswordHistory = [hash, .. u.PasswordHistory.Take(PasswordPolicy.HistoryDepth - 1)],
            PasswordSetAt = now,
            MustChangePassword = false,
            FailedAttempts = 0,
            LockedUntil = null,
            SessionEpoch = u.SessionEpoch + 1, // every other session of the user ends: whoever knew the old password is out
        }, cancellationToken);
        _users.Set(stored.User.UserId, updated!);
        var full = context.Session with { PasswordChangeOnly = false, Epoch = updated!.User.SessionEpoch };
        await sessions.ReplaceAsync(full, cancellationToken);
        _sessions.Set(full.Id, full);

        await AuditAsync(stored.User.UserId, "user:" + stored.User.UserId, "user.password_changed", AuditOutcome.Success, correlationId,
            new() { ["otherSessionsEnded"] = "true" }, cancellationToken);
        return (true, [], null);
    }

    /// <summary>An admin's or operator's change of a user: powers, name, admin flag, status, or a password reset.</summary>
    public async Task<StoredUser?> ChangeAsync(StoredUser read, Func<User, User?> change, string action, string actor, string? correlationId,
        Dictionary<string, string> details, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var updated = await users.UpdateAsync(read, change, cancellationToken);
        if (updated is not null)
        {
            _users.Set(updated.User.UserId, updated);
        }

        await AuditAsync(read.User.UserId, actor, action, AuditOutcome.Success, correlationId, details, cancellationToken);
        return updated;
    }

    /// <summary>A new temporary password set by an admin: every session ends and the next sign-in must change it .</summary>
    public async Task<(StoredUser? User, string Temporary)> ResetPasswordAsync(StoredUser read, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        var temporary = PasswordPolicy.NewTemporaryPassword();
        var hash = await hasher.HashAsync(temporary, cancellationToken);
        var now = time.GetUtcNow();
        var updated = await ChangeAsync(read, u => u with
        {
            PasswordHistory = [hash, .. u.PasswordHistory.Take(PasswordPolicy.HistoryDepth - 1)],
            PasswordSetAt = now,
            MustChangePassword = true,
            FailedAttempts = 0,
            LockedUntil = null,
            SessionEpoch = u.SessionEpoch + 1,
        }, "user.password_reset", actor, correlationId, [], cancellationToken);
        return (updated, temporary);
    }

    /// <summary>Ends the session .</summary>
    public async Task SignOutAsync(Session session, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await sessions.DeleteAsync(session.Id, cancellationToken);
        Forget(session.Id);
        await AuditAsync(session.UserId, "user:" + session.UserId, "user.signed_out", AuditOutcome.Success, correlationId,
            new() { ["kind"] = session.Kind.ToString().ToLowerInvariant() }, cancellationToken);
    }

    /// <summary>The 30-day block of a user found due: status, journal, a notice to the customer.</summary>
    public async Task<StoredUser?> BlockInactiveAsync(StoredUser read, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var now = time.GetUtcNow();
        var today = KazakhstanTime.LocalDate(now);
        var changed = false;
        var stored = await users.UpdateAsync(read, u =>
        {
            changed = false;
            if (u.Status != UserStatus.Active || today < u.InactiveBlockDay)
            {
                return null;
            }

            changed = true;
            return u with { Status = UserStatus.BlockedInactive, StatusChangedAt = now, StatusChangedBy = SystemActor, SessionEpoch = u.SessionEpoch + 1 };
        }, cancellationToken);
        if (stored is null)
        {
            return null;
        }

        _users.Set(stored.User.UserId, stored);
        var user = stored.User;
        if (changed)
        {
            LogBlockedInactive(logger, user.UserId, user.LastActivityDay);
            await AuditAsync(user.UserId, SystemActor, "user.blocked_inactive", AuditOutcome.Success, correlationId,
                new() { ["lastActivityDay"] = DateOnlyText(user.LastActivityDay) }, cancellationToken);
        }

        if (user.Status == UserStatus.BlockedInactive && string.Equals(user.StatusChangedBy, SystemActor, StringComparison.Ordinal))
        {
            await notices.AddAsync(user.CustomerId, NoticeKinds.UserBlockedInactive, $"user-blocked-inactive:{user.UserId}:{user.StatusChangedAt?.UtcTicks}",
                user.StatusChangedAt ?? now, user.UserId, [user.Login, DateOnlyText(user.LastActivityDay), PasswordPolicy.InactivityDays], cancellationToken);
        }

        return stored;
    }

    public Task AuditAsync(string userId, string actor, string action, AuditOutcome outcome, string? correlationId, Dictionary<string, string> details, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditRecord(userId, actor, action, outcome)
        {
            Target = "users/" + userId,
            CorrelationId = correlationId,
            Details = details,
        }, cancellationToken);

    public static string StatusText(UserStatus status) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    private async Task<StoredUser> RecordActivityAsync(StoredUser stored, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var today = KazakhstanTime.LocalDate(now);
        if (today <= stored.User.LastActivityDay || !_recording.TryAdd(stored.User.UserId, 0))
        {
            return stored;
        }

        try
        {
            var moved = await users.MoveLastActivityAsync(stored, now, today, cancellationToken) ?? stored;
            _users.Set(moved.User.UserId, moved);
            return moved;
        }
        finally
        {
            _recording.TryRemove(stored.User.UserId, out _);
        }
    }

    private static string DateOnlyText(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} blocked: no activity since {LastActivityDay}")]
    private static partial void LogBlockedInactive(ILogger logger, string userId, DateOnly lastActivityDay);
}

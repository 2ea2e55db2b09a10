using System.Collections.Concurrent;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
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

    private readonly ConcurrentDictionary<string, (Session Session, DateTimeOffset FetchedAt)> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (StoredUser User, DateTimeOffset FetchedAt)> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _recording = new(StringComparer.Ordinal);

    public DateOnly Today => KazakhstanTime.LocalDate(time.GetUtcNow());

    private TimeSpan IdleTimeout => options.Value.IdleTimeout;

    public Task<StoredUser?> GetAsync(string userId, CancellationToken cancellationToken) => users.GetAsync(userId, cancellationToken);

    /// <summary>The user as sessions see it: trusted for <see cref="UserOptions.CacheSeconds"/> (changes made in this process are seen at once).</summary>
    public ValueTask<StoredUser?> GetCachedAsync(string userId, CancellationToken cancellationToken) =>
        GetUserCachedAsync(userId, time.GetUtcNow(), TimeSpan.FromSeconds(Math.Max(0, options.Value.CacheSeconds)), cancellationToken);

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
    public async Task<SignInResult> SignInAsync(string login, string password, SessionClient? client, string address, string? correlationId, CancellationToken cancellationToken)
    {
        var stored = await users.FindByLoginAsync(login, cancellationToken);
        var now = time.GetUtcNow();
        if (stored is null || (client is not null && !string.Equals(client.CustomerId, stored.User.CustomerId, StringComparison.Ordinal)))
        {
            await hasher.VerifyAsync(password, null, cancellationToken); // the same work as for a real login: timing tells nothing
            await failures.RecordAsync("user.sign_in", address,
                new Dictionary<string, string> { ["reason"] = stored is null ? "unknown_login" : "other_customers_client" }, correlationId, cancellationToken);
            return new SignInResult(SignInOutcome.InvalidCredentials);
        }

        // the guess is counted (and the lock checked) in storage before the hash runs, so however parallel
        // a burst is, at most five guesses are ever evaluated; a right one gives its slot back afterwards.
        var (claimed, lockedUntil) = await ClaimAttemptAsync(stored, now, cancellationToken);
        if (claimed is null)
        {
            await AuditAsync(stored.User.UserId, "anonymous", "user.sign_in", AuditOutcome.Denied, correlationId, new() { ["reason"] = "locked", ["address"] = address }, cancellationToken);
            return new SignInResult(SignInOutcome.Locked) { LockedUntil = lockedUntil };
        }

        stored = claimed;
        var user = stored.User;
        if (!await hasher.VerifyAsync(password, user.PasswordHash, cancellationToken))
        {
            return await RecordFailureAsync(stored, now, address, correlationId, cancellationToken);
        }

        var today = KazakhstanTime.LocalDate(now);
        if (user.EffectiveStatus(today) != UserStatus.Active)
        {
            if (user.Status == UserStatus.Active)
            {
                await BlockInactiveAsync(stored, correlationId, cancellationToken);
            }

            await AuditAsync(user.UserId, "user:" + user.UserId, "user.sign_in", AuditOutcome.Denied, correlationId,
                new() { ["reason"] = StatusText(user.EffectiveStatus(today)), ["address"] = address }, cancellationToken);
            return new SignInResult(SignInOutcome.Blocked) { User = user };
        }

        if (client is not null && (await credentials.GetForRequestAsync(client.ClientId, cancellationToken))?.Credential.EffectiveStatus(credentials.Today) != CredentialStatus.Active)
        {
            return new SignInResult(SignInOutcome.InvalidCredentials);
        }

        // Success: forget failures, count the activity. Guesses evaluated alongside may have locked the user meanwhile: the lock stands.
        var current = await users.UpdateAsync(stored, u => u.LockedUntil > now
            ? u with { PendingAttempts = Math.Max(0, Pending(u, now) - 1) }
            : u with { FailedAttempts = 0, LockedUntil = null, PendingAttempts = Math.Max(0, Pending(u, now) - 1) }, cancellationToken) ?? stored;
        if (current.User.LockedUntil is { } lockedMeanwhile && lockedMeanwhile > now)
        {
            await AuditAsync(user.UserId, "anonymous", "user.sign_in", AuditOutcome.Denied, correlationId, new() { ["reason"] = "locked", ["address"] = address }, cancellationToken);
            return new SignInResult(SignInOutcome.Locked) { LockedUntil = lockedMeanwhile };
        }

        current = await RecordActivityAsync(current, now, cancellationToken);
        user = current.User;

        var passwordChangeOnly = user.MustChangePassword || PasswordPolicy.IsExpired(user.PasswordSetAt, now);
        var token = Session.NewToken();
        var session = new Session(Session.IdOf(token), user.UserId, user.CustomerId, client is null ? SessionKind.Portal : SessionKind.Software,
            now, now + TimeSpan.FromHours(Math.Max(1, options.Value.AbsoluteLifetimeHours)), user.SessionEpoch)
        {
            ClientId = client?.ClientId,
            ClientScopes = client?.Scopes ?? [],
            PasswordChangeOnly = passwordChangeOnly,
            LastSeenAt = now,
        };
        await sessions.AddAsync(session, cancellationToken);
        Remember(_lastSeen, session.Id, now);

        var warnings = new List<string>();
        var daysLeft = passwordChangeOnly ? null : PasswordPolicy.DaysLeftToWarn(user.PasswordSetAt, now);
        if (daysLeft is not null)
        {
            warnings.Add("password_expires_soon");
            await notices.AddAsync(user.CustomerId, "password_expires_soon", $"password-expiry:{user.UserId}:{user.PasswordSetAt.UtcTicks}", now, user.UserId,
                [user.Login, DateOnlyText(PasswordPolicy.ExpiryDay(user.PasswordSetAt)), daysLeft.Value], cancellationToken);
        }

        await AuditAsync(user.UserId, "user:" + user.UserId, "user.signed_in", AuditOutcome.Success, correlationId, new()
        {
            ["kind"] = session.Kind.ToString().ToLowerInvariant(),
            ["clientId"] = client?.ClientId ?? "",
            ["changeOnly"] = passwordChangeOnly ? "true" : "false",
            ["address"] = address,
        }, cancellationToken);
        return new SignInResult(passwordChangeOnly ? SignInOutcome.PasswordChangeRequired : SignInOutcome.SignedIn)
        {
            Token = token,
            Session = session,
            User = user,
            Warnings = warnings,
            PasswordDaysLeft = daysLeft,
        };
    }

    /// <summary>
    /// The session behind a request's token, if still valid: not past its absolute lifetime, idle for less
    /// than the idle timeout (R-28, exactly: the last activity is kept in memory), its user active with the
    /// same session epoch, its pair (for a software session) active. Counts the request as activity.
    /// </summary>
    public async ValueTask<(SessionContext? Context, string? Failure)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var id = Session.IdOf(token);
        var now = time.GetUtcNow();
        var cache = TimeSpan.FromSeconds(Math.Max(0, options.Value.CacheSeconds));
        Session? session;
        if (_sessions.TryGetValue(id, out var cached) && now - cached.FetchedAt < cache)
        {
            session = cached.Session;
        }
        else
        {
            session = await sessions.GetAsync(id, cancellationToken);
            if (session is null)
            {
                Forget(id);
                return (null, "The session does not exist or has ended.");
            }

            Remember(_sessions, id, (session, now));
        }

        var lastSeen = _lastSeen.TryGetValue(id, out var seen) && seen > session.LastSeenAt ? seen : session.LastSeenAt;
        if (now >= session.ExpiresAt || now - lastSeen >= IdleTimeout)
        {
            await EndAsync(session, now >= session.ExpiresAt ? "absolute_lifetime" : "idle_timeout", cancellationToken);
            return (null, "The session has ended (more than 30 minutes without activity, or its lifetime is over).");
        }

        var stored = await GetUserCachedAsync(session.UserId, now, cache, cancellationToken);
        var today = KazakhstanTime.LocalDate(now);
        if (stored is null || stored.User.SessionEpoch != session.Epoch)
        {
            return (null, "The session was closed.");
        }

        if (stored.User.EffectiveStatus(today) != UserStatus.Active)
        {
            if (stored.User.Status == UserStatus.Active)
            {
                await BlockInactiveAsync(stored, null, cancellationToken);
            }

            return (null, "The user is blocked.");
        }

        IReadOnlyList<string> scopes = UserFunctions.Scopes(stored.User.Functions);
        IReadOnlyList<string>? pairAccounts = null;
        if (session.Kind == SessionKind.Software)
        {
            var pair = await credentials.GetForRequestAsync(session.ClientId ?? "", cancellationToken);
            if (pair is null || pair.Credential.EffectiveStatus(today) != CredentialStatus.Active)
            {
                return (null, "The session's Client ID is blocked.");
            }

            scopes = [.. scopes.Where(s => session.ClientScopes.Contains(s, StringComparer.Ordinal))];
            pairAccounts = pair.Credential.Accounts;
        }

        // Activity: exact in memory, written when the stored value is old; the user's day for R-26.
        Remember(_lastSeen, id, now);
        if (now - session.LastSeenAt >= TimeSpan.FromSeconds(Math.Max(1, options.Value.ActivityWriteSeconds)) && _recording.TryAdd(id, 0))
        {
            try
            {
                await sessions.TouchAsync(id, now, cancellationToken);
                Remember(_sessions, id, (session with { LastSeenAt = now }, now));
            }
            finally
            {
                _recording.TryRemove(id, out _);
            }
        }

        if (today > stored.User.LastActivityDay)
        {
            stored = await RecordActivityAsync(stored, now, cancellationToken);
        }

        var passwordChangeOnly = session.PasswordChangeOnly || stored.User.MustChangePassword || PasswordPolicy.IsExpired(stored.User.PasswordSetAt, now);
        var accounts = stored.User.Powers.Accounts;
        if (pairAccounts is not null && !pairAccounts.Contains(UserPowers.AllAccounts, StringComparer.Ordinal))
        {
            accounts = accounts.Contains(UserPowers.AllAccounts, StringComparer.Ordinal) ? pairAccounts : [.. accounts.Intersect(pairAccounts, StringComparer.Ordinal)];
        }

        return (new SessionContext(session, stored.User, passwordChangeOnly, scopes) { Accounts = accounts }, null);
    }

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
        Remember(_users, stored.User.UserId, (updated!, now));
        var full = context.Session with { PasswordChangeOnly = false, Epoch = updated!.User.SessionEpoch };
        await sessions.ReplaceAsync(full, cancellationToken);
        Remember(_sessions, full.Id, (full, now));

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
            Remember(_users, updated.User.UserId, (updated, now));
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

        Remember(_users, stored.User.UserId, (stored, now));
        var user = stored.User;
        if (changed)
        {
            LogBlockedInactive(logger, user.UserId, user.LastActivityDay);
            await AuditAsync(user.UserId, SystemActor, "user.blocked_inactive", AuditOutcome.Success, correlationId,
                new() { ["lastActivityDay"] = DateOnlyText(user.LastActivityDay) }, cancellationToken);
        }

        if (user.Status == UserStatus.BlockedInactive && string.Equals(user.StatusChangedBy, SystemActor, StringComparison.Ordinal))
        {
            await notices.AddAsync(user.CustomerId, "user_blocked_inactive", $"user-blocked-inactive:{user.UserId}:{user.StatusChangedAt?.UtcTicks}",
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

    /// <summary>
    /// Counts a guess before it is evaluated (ETag-checked): the user as stored with the guess pending, or null
    /// with the lock's end when the user is locked, or when the failures so far and the guesses being evaluated
    /// reach five. Pending guesses older than <see cref="PendingGuessLifetime"/> were lost with their process.
    /// </summary>
    private async Task<(StoredUser? Claimed, DateTimeOffset? LockedUntil)> ClaimAttemptAsync(StoredUser stored, DateTimeOffset now, CancellationToken cancellationToken)
    {
        DateTimeOffset? lockedUntil = null;
        var claimed = false;
        var updated = await users.UpdateAsync(stored, u =>
        {
            claimed = false;
            lockedUntil = u.LockedUntil > now ? u.LockedUntil : null;
            if (lockedUntil is not null)
            {
                return null;
            }

            var failures = u.LockedUntil is null ? u.FailedAttempts : 0; // a lock that has run out forgets the failures before it
            var pending = Pending(u, now);
            if (failures + pending >= PasswordPolicy.MaxConsecutiveFailures)
            {
                lockedUntil = now + TimeSpan.FromSeconds(1); // busy with the last guesses allowed: try again in a moment
                return null;
            }

            claimed = true;
            return u with { FailedAttempts = failures, LockedUntil = null, PendingAttempts = pending + 1, PendingSince = now };
        }, cancellationToken);
        return claimed && updated is not null ? (updated, null) : (null, lockedUntil);
    }

    private static readonly TimeSpan PendingGuessLifetime = TimeSpan.FromMinutes(1);

    private static int Pending(User u, DateTimeOffset now) => u.PendingSince is { } since && now - since < PendingGuessLifetime ? u.PendingAttempts : 0;

    /// <summary>A wrong guess: no longer pending, a failure; the fifth in a row locks the user .</summary>
    private async Task<SignInResult> RecordFailureAsync(StoredUser stored, DateTimeOffset now, string address, string? correlationId, CancellationToken cancellationToken)
    {
        DateTimeOffset? lockedUntil = null;
        var updated = await users.UpdateAsync(stored, u =>
        {
            var pending = Math.Max(0, Pending(u, now) - 1);
            if (u.LockedUntil > now)
            {
                lockedUntil = u.LockedUntil;
                return u with { PendingAttempts = pending };
            }

            var failures = (u.LockedUntil is null ? u.FailedAttempts : 0) + 1;
            lockedUntil = failures >= PasswordPolicy.MaxConsecutiveFailures ? now + TimeSpan.FromMinutes(Math.Max(1, options.Value.LockoutMinutes)) : null;
            return u with { FailedAttempts = lockedUntil is null ? failures : 0, LockedUntil = lockedUntil, PendingAttempts = pending };
        }, cancellationToken);
        if (updated is not null)
        {
            Remember(_users, updated.User.UserId, (updated, now));
        }

        await AuditAsync(stored.User.UserId, "anonymous", "user.sign_in", AuditOutcome.Denied, correlationId, new()
        {
            ["reason"] = "wrong_password",
            ["address"] = address,
            ["locked"] = lockedUntil is null ? "false" : "true",
        }, cancellationToken);
        return lockedUntil is null
            ? new SignInResult(SignInOutcome.InvalidCredentials) { Guessed = true }
            : new SignInResult(SignInOutcome.Locked) { LockedUntil = lockedUntil, Guessed = true };
    }

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
            Remember(_users, moved.User.UserId, (moved, now));
            return moved;
        }
        finally
        {
            _recording.TryRemove(stored.User.UserId, out _);
        }
    }

    private async ValueTask<StoredUser?> GetUserCachedAsync(string userId, DateTimeOffset now, TimeSpan cache, CancellationToken cancellationToken)
    {
        if (_users.TryGetValue(userId, out var cached) && now - cached.FetchedAt < cache)
        {
            return cached.User;
        }

        var stored = await users.GetAsync(userId, cancellationToken);
        if (stored is null)
        {
            _users.TryRemove(userId, out _);
        }
        else
        {
            Remember(_users, userId, (stored, now));
        }

        return stored;
    }

    private async Task EndAsync(Session session, string reason, CancellationToken cancellationToken)
    {
        Forget(session.Id);
        await sessions.DeleteAsync(session.Id, cancellationToken);
        await AuditAsync(session.UserId, SystemActor, "user.session_ended", AuditOutcome.Success, null, new() { ["reason"] = reason }, cancellationToken);
    }

    private void Forget(string sessionId)
    {
        _sessions.TryRemove(sessionId, out _);
        _lastSeen.TryRemove(sessionId, out _);
    }

    private static void Remember<T>(ConcurrentDictionary<string, T> cache, string key, T value)
    {
        if (cache.Count >= MaxCached)
        {
            cache.Clear();
        }

        cache[key] = value;
    }

    private static string DateOnlyText(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} blocked: no activity since {LastActivityDay}")]
    private static partial void LogBlockedInactive(ILogger logger, string userId, DateOnly lastActivityDay);
}

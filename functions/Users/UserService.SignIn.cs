using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;

namespace BusinessApi.Users;

/// <summary>Sign-in: the guess is claimed in storage before the hash, failures lock, a success opens a session.</summary>
public sealed partial class UserService
{
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
            now, now + TimeSpan.FromHours(options.Value.AbsoluteLifetimeHours), user.SessionEpoch)
        {
            ClientId = client?.ClientId,
            ClientScopes = client?.Scopes ?? [],
            PasswordChangeOnly = passwordChangeOnly,
            LastSeenAt = now,
        };
        await sessions.AddAsync(session, cancellationToken);
        _lastSeen.Set(session.Id, now);

        var warnings = new List<string>();
        var daysLeft = passwordChangeOnly ? null : PasswordPolicy.DaysLeftToWarn(user.PasswordSetAt, now);
        if (daysLeft is not null)
        {
            warnings.Add("password_expires_soon");
            await notices.AddAsync(user.CustomerId, NoticeKinds.PasswordExpiresSoon, $"password-expiry:{user.UserId}:{user.PasswordSetAt.UtcTicks}", now, user.UserId,
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
            _users.Set(updated.User.UserId, updated);
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
}

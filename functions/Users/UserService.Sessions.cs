using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Platform.Audit;

namespace BusinessApi.Users;

/// <summary>Sessions: each request's token checked against its lifetime, idle time, user, pair and powers.</summary>
public sealed partial class UserService
{
    /// <summary>
    /// The session behind a request's token, if still valid: not past its absolute lifetime, idle for less
    /// than the idle timeout (R-28, exactly: the last activity is kept in memory), its user active with the
    /// same session epoch, its pair (for a software session) active. Counts the request as activity.
    /// </summary>
    public async ValueTask<(SessionContext? Context, string? Failure)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var id = Session.IdOf(token);
        var now = time.GetUtcNow();
        Session? session;
        if (_sessions.TryGet(id, out var cached))
        {
            session = cached;
        }
        else
        {
            session = await sessions.GetAsync(id, cancellationToken);
            if (session is null)
            {
                Forget(id);
                return (null, "The session does not exist or has ended.");
            }

            _sessions.Set(id, session);
        }

        var lastSeen = _lastSeen.TryGet(id, out var seen) && seen > session.LastSeenAt ? seen : session.LastSeenAt;
        if (now >= session.ExpiresAt || now - lastSeen >= IdleTimeout)
        {
            await EndAsync(session, now >= session.ExpiresAt ? "absolute_lifetime" : "idle_timeout", cancellationToken);
            return (null, "The session has ended (more than 30 minutes without activity, or its lifetime is over).");
        }

        var stored = await GetUserCachedAsync(session.UserId, cancellationToken);
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

        IReadOnlyList<string> scopes = UserFunctions.Scopes(stored.User.FunctionsAt(time.GetUtcNow()));
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
        _lastSeen.Set(id, now);
        if (now - session.LastSeenAt >= TimeSpan.FromSeconds(options.Value.ActivityWriteSeconds) && _recording.TryAdd(id, 0))
        {
            try
            {
                await sessions.TouchAsync(id, now, cancellationToken);
                _sessions.Set(id, session with { LastSeenAt = now });
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

    private ValueTask<StoredUser?> GetUserCachedAsync(string userId, CancellationToken cancellationToken) =>
        _users.GetOrReadAsync(userId, id => users.GetAsync(id, CancellationToken.None), cancellationToken);

    private async Task EndAsync(Session session, string reason, CancellationToken cancellationToken)
    {
        Forget(session.Id);
        await sessions.DeleteAsync(session.Id, cancellationToken);
        await AuditAsync(session.UserId, SystemActor, "user.session_ended", AuditOutcome.Success, null, new() { ["reason"] = reason }, cancellationToken);
    }

    private void Forget(string sessionId)
    {
        _sessions.Remove(sessionId);
        _lastSeen.Remove(sessionId);
    }
}

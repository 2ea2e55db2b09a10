using System.Collections.Concurrent;
using BusinessApi.Calendar;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Caching;
using Microsoft.Extensions.Options;

namespace BusinessApi.Credentials;

/// <summary>A new pair and its secret, which exists only in this answer.</summary>
public sealed record IssuedCredential(ClientCredential Credential, string Secret);

/// <summary>
/// The lifecycle of API credential pairs: generation, re-issue, compromise, revocation, the 90-day
/// block, and recording use. Every change is in the audit journal under the pair's Client ID, which is
/// also the pair's history as the customer sees it. Request paths ask <see cref="GetForRequestAsync"/>,
/// which trusts a pair's status for <see cref="CredentialOptions.StatusCacheSeconds"/>.
/// </summary>
public sealed partial class CredentialService(
    CredentialStore store,
    SecretHasher hasher,
    AuditJournal audit,
    NoticeChannel notices,
    TimeProvider time,
    IOptions<CredentialOptions> options,
    ILogger<CredentialService> logger)
{
    public const string SystemActor = "system";

    // Pairs as requests see them. Safe across instances: another instance's block or re-issue is seen within
    // StatusCacheSeconds (R-05's "at once" holds on the instance that took the report; documents re-read the pair).
    private readonly BoundedCache<string, StoredCredential> _cache = new(time, capacity: 100_000, TimeSpan.FromSeconds(options.Value.StatusCacheSeconds), StringComparer.Ordinal);

    // Writes of use in flight, so concurrent requests of one pair write it once.
    private readonly ConcurrentDictionary<string, byte> _recording = new(StringComparer.Ordinal);

    public DateOnly Today => KazakhstanTime.LocalDate(time.GetUtcNow());

    public DateTimeOffset Now => time.GetUtcNow();

    public Task<StoredCredential?> GetAsync(string clientId, CancellationToken cancellationToken) => store.GetAsync(clientId, cancellationToken);

    public Task<IReadOnlyList<ClientCredential>> ListAsync(string customerId, CancellationToken cancellationToken) => store.ListAsync(customerId, cancellationToken);

    /// <summary>Generates a pair for a Software Product; a name whose pair is still active is refused with that pair.</summary>
    public async Task<(IssuedCredential? Issued, ClientCredential? Conflict)> GenerateAsync(
        string customerId, string name, IReadOnlyList<string> scopes, IReadOnlyList<string> accounts, string apiVersion, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        var (pair, secret) = await NewPairAsync(customerId, CredentialRules.NormalizeName(name), scopes, apiVersion, replaces: null, cancellationToken);
        pair = pair with { Accounts = accounts };
        var (created, conflict) = await store.CreateAsync(pair, supersede: null, actor, time.GetUtcNow(), Today, cancellationToken);
        if (!created)
        {
            return (null, conflict);
        }

        await AuditAsync(pair.ClientId, actor, "credential.generated", AuditOutcome.Success, correlationId, new()
        {
            ["name"] = pair.Name,
            ["scopes"] = CredentialRules.ScopeText(pair.Scopes),
            ["accounts"] = string.Join(' ', pair.Accounts),
            ["apiVersion"] = pair.ApiVersion,
        }, cancellationToken);
        return (new IssuedCredential(pair, secret), null);
    }

    /// <summary>Re-issues a pair: the new one and the old one's replacement are one transaction.</summary>
    public async Task<(IssuedCredential? Issued, ClientCredential? Conflict)> ReissueAsync(
        StoredCredential old, IReadOnlyList<string> scopes, IReadOnlyList<string> accounts, string apiVersion, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(old);
        var (pair, secret) = await NewPairAsync(old.Credential.CustomerId, old.Credential.Name, scopes, apiVersion, old.Credential.ClientId, cancellationToken);
        pair = pair with { Accounts = accounts };
        var (created, conflict) = await store.CreateAsync(pair, old, actor, time.GetUtcNow(), Today, cancellationToken);
        if (!created)
        {
            return (null, conflict);
        }

        Forget(old.Credential.ClientId);
        await AuditAsync(pair.ClientId, actor, "credential.reissued", AuditOutcome.Success, correlationId, new()
        {
            ["replaces"] = old.Credential.ClientId,
            ["scopes"] = CredentialRules.ScopeText(pair.Scopes),
            ["accounts"] = string.Join(' ', pair.Accounts),
            ["apiVersion"] = pair.ApiVersion,
        }, cancellationToken);
        await AuditAsync(old.Credential.ClientId, actor, "credential.superseded", AuditOutcome.Success, correlationId, new()
        {
            ["supersededBy"] = pair.ClientId,
            ["previousStatus"] = StatusText(old.Credential.EffectiveStatus(Today)),
        }, cancellationToken);
        return (new IssuedCredential(pair, secret), null);
    }

    /// <summary>
    /// Blocks or revokes a pair at once. Compromise applies to any pair not already compromised (the report
    /// itself is journaled even then); revocation only to an active one.
    /// </summary>
    public async Task<StoredCredential?> ChangeStatusAsync(
        StoredCredential read, CredentialStatus status, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var now = time.GetUtcNow();
        var today = Today;
        CredentialStatus? previous = null;
        var stored = await store.UpdateAsync(read, c =>
        {
            var effective = c.EffectiveStatus(today);
            if (effective == status || (status == CredentialStatus.Revoked && effective != CredentialStatus.Active))
            {
                return null;
            }

            previous = effective;
            return c with { Status = status, StatusChangedAt = now, StatusChangedBy = actor };
        }, cancellationToken);
        Remember(stored);
        var action = status switch
        {
            CredentialStatus.BlockedCompromised => "credential.compromise_reported",
            CredentialStatus.Revoked => "credential.revoked",
            _ => "credential.status_changed",
        };
        await AuditAsync(read.Credential.ClientId, actor, action, previous is null ? AuditOutcome.Denied : AuditOutcome.Success, correlationId, new()
        {
            ["previousStatus"] = StatusText(previous ?? stored?.Credential.EffectiveStatus(today) ?? read.Credential.Status),
            ["status"] = StatusText(stored?.Credential.EffectiveStatus(today) ?? status),
        }, cancellationToken);
        return stored;
    }

    /// <summary>
    /// Records the 90-day block of a pair that is due: status, journal and the customer's notice.
    /// Safe to repeat: a pair already blocked gets its entry and notice again only if they may be missing.
    /// </summary>
    public async Task<StoredCredential?> BlockInactiveAsync(StoredCredential read, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var now = time.GetUtcNow();
        var today = Today;
        var changed = false;
        var stored = await store.UpdateAsync(read, c =>
        {
            changed = false;
            if (c.Status != CredentialStatus.Active || today < c.BlockDay)
            {
                return null;
            }

            changed = true;
            return c with { Status = CredentialStatus.BlockedInactive, StatusChangedAt = now, StatusChangedBy = SystemActor };
        }, cancellationToken);
        Remember(stored);
        if (stored is null || stored.Credential.Status != CredentialStatus.BlockedInactive
            || (!changed && !string.Equals(stored.Credential.StatusChangedBy, SystemActor, StringComparison.Ordinal)))
        {
            return stored;
        }

        var pair = stored.Credential;
        if (changed)
        {
            LogBlockedInactive(logger, pair.ClientId, pair.LastUsedDay);
            await AuditAsync(pair.ClientId, SystemActor, "credential.blocked_inactive", AuditOutcome.Success, correlationId, new()
            {
                ["lastUsedDay"] = CredentialRules.Day(pair.LastUsedDay),
                ["blockDay"] = CredentialRules.Day(pair.BlockDay),
            }, cancellationToken);
        }

        await notices.AddAsync(pair.CustomerId, NoticeKinds.CredentialBlockedInactive,
            $"credential-blocked-inactive:{pair.ClientId}", pair.StatusChangedAt ?? now, pair.ClientId,
            [pair.Name, pair.ClientId, CredentialRules.Day(pair.LastUsedDay), CredentialRules.InactivityDays], cancellationToken);
        return stored;
    }

    /// <summary>The pair behind a request's token, trusted for <see cref="CredentialOptions.StatusCacheSeconds"/>.</summary>
    public ValueTask<StoredCredential?> GetForRequestAsync(string clientId, CancellationToken cancellationToken) =>
        _cache.GetOrReadAsync(clientId, id => store.GetAsync(id, CancellationToken.None), cancellationToken);

    /// <summary>
    /// Makes sure a request under <paramref name="read"/> counts as use: the first of each local day
    /// moves the due index and is journaled; within a day <c>lastUsedAt</c> is written at most once per
    /// interval. Returns the pair's status afterwards: a pair found due is blocked here and now.
    /// </summary>
    public async ValueTask<CredentialStatus> RecordUseAsync(StoredCredential read, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var now = time.GetUtcNow();
        var today = KazakhstanTime.LocalDate(now);
        var pair = read.Credential;
        var status = pair.EffectiveStatus(today);
        if (status == CredentialStatus.BlockedInactive && pair.Status == CredentialStatus.Active)
        {
            return (await BlockInactiveAsync(read, correlationId, cancellationToken))?.Credential.EffectiveStatus(today) ?? CredentialStatus.Revoked;
        }

        var newDay = today > pair.LastUsedDay;
        var stale = now - pair.LastUsedAt >= TimeSpan.FromMinutes(Math.Max(1, options.Value.LastUsedWriteIntervalMinutes));
        if (status != CredentialStatus.Active || (!newDay && !stale) || !_recording.TryAdd(pair.ClientId, 0))
        {
            return status;
        }

        try
        {
            if (newDay)
            {
                var moved = await store.MoveLastUseAsync(read, now, today, cancellationToken);
                Remember(moved);
                if (moved is null)
                {
                    return CredentialStatus.Revoked;
                }

                if (moved.Credential.EffectiveStatus(today) != CredentialStatus.Active)
                {
                    return moved.Credential.EffectiveStatus(today);
                }

                await AuditAsync(pair.ClientId, actor, "credential.used", AuditOutcome.Success, correlationId, new()
                {
                    ["day"] = CredentialRules.Day(today),
                    ["previousDay"] = CredentialRules.Day(pair.LastUsedDay),
                }, cancellationToken);
                return CredentialStatus.Active;
            }

            var touched = await store.UpdateAsync(read, c => c.LastUsedAt >= now ? null : c with { LastUsedAt = now }, cancellationToken);
            Remember(touched);
            return touched?.Credential.EffectiveStatus(today) ?? CredentialStatus.Revoked;
        }
        finally
        {
            _recording.TryRemove(pair.ClientId, out _);
        }
    }

    /// <summary>Stores the outcome of an authentication attempt (failure count, lock, known address, key upgrade) when it changed.</summary>
    public async Task<StoredCredential?> UpdateAuthenticationStateAsync(StoredCredential read, Func<ClientCredential, ClientCredential?> change, CancellationToken cancellationToken)
    {
        var stored = await store.UpdateAsync(read, change, cancellationToken);
        Remember(stored);
        return stored;
    }

    public Task AuditAsync(string clientId, string actor, string action, AuditOutcome outcome, string? correlationId, Dictionary<string, string> details, CancellationToken cancellationToken) =>
        audit.AppendAsync(new AuditRecord(clientId, actor, action, outcome)
        {
            Target = "credentials/" + clientId,
            CorrelationId = correlationId,
            Details = details,
        }, cancellationToken);

    public static string StatusText(CredentialStatus status) =>
        System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    private async Task<(ClientCredential Pair, string Secret)> NewPairAsync(
        string customerId, string name, IReadOnlyList<string> scopes, string apiVersion, string? replaces, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var secret = CredentialRules.NewSecret();
        var (hash, keyVersion) = await hasher.HashAsync(secret, cancellationToken);
        var pair = new ClientCredential(customerId, CredentialRules.NewClientId(customerId), name, scopes, apiVersion, CredentialStatus.Active, now)
        {
            SecretHash = hash,
            SecretKeyVersion = keyVersion,
            LastUsedAt = now,
            LastUsedDay = KazakhstanTime.LocalDate(now),
            Replaces = replaces,
        };
        return (pair, secret);
    }

    private void Remember(StoredCredential? stored)
    {
        if (stored is not null)
        {
            _cache.Set(stored.Credential.ClientId, stored);
        }
    }

    private void Forget(string clientId) => _cache.Remove(clientId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Credential {ClientId} blocked: unused since {LastUsedDay}")]
    private static partial void LogBlockedInactive(ILogger logger, string clientId, DateOnly lastUsedDay);
}

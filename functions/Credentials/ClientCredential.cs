using System.Text.Json.Serialization;

namespace BusinessApi.Credentials;

/// <summary>Where a Client ID / Client Secret pair stands (R-02..R-05).</summary>
public enum CredentialStatus
{
    /// <summary>Tokens are issued and accepted.</summary>
    Active,

    /// <summary>No request for 90 calendar days or more; only a new generation restores access.</summary>
    BlockedInactive,

    /// <summary>The customer reported the pair compromised; blocked at once.</summary>
    BlockedCompromised,

    /// <summary>Replaced by a re-issued pair .</summary>
    Superseded,

    /// <summary>Withdrawn by the customer (or with the service's termination).</summary>
    Revoked,
}

/// <summary>
/// One API credential pair of one Software Product. The secret itself is never kept: only its
/// HMAC-SHA256 under a key from the secrets store, with that key's version so keys rotate.
/// </summary>
public sealed record ClientCredential(
    string CustomerId,
    string ClientId,
    string Name,
    IReadOnlyList<string> Scopes,
    string ApiVersion,
    CredentialStatus Status,
    DateTimeOffset CreatedAt)
{
    public required string SecretHash { get; init; }

    /// <summary>
    /// The accounts the pair's tokens reach: those of the user who created it, or <c>*</c> for all the
    /// customer's accounts. A pair never reaches further than its creator could.
    /// </summary>
    public IReadOnlyList<string> Accounts { get; init; } = [AllAccounts];

    public const string AllAccounts = "*";

    public required string SecretKeyVersion { get; init; }

    /// <summary>When the last request under this pair was recorded (writes are throttled, see <see cref="CredentialOptions.LastUsedWriteIntervalMinutes"/>).</summary>
    public DateTimeOffset LastUsedAt { get; init; }

    /// <summary>The local (UTC+5) day of the last recorded request; the 90-day count runs from it.</summary>
    public DateOnly LastUsedDay { get; init; }

    /// <summary>The first local day on which the pair counts as unused for 90 days: <see cref="LastUsedDay"/> + 90.</summary>
    public DateOnly BlockDay => LastUsedDay.AddDays(CredentialRules.InactivityDays);

    public DateTimeOffset? StatusChangedAt { get; init; }

    /// <summary>Who changed the status last (an operator, the customer, or <c>system</c>).</summary>
    public string? StatusChangedBy { get; init; }

    /// <summary>The pair this one re-issues, if any.</summary>
    public string? Replaces { get; init; }

    /// <summary>The pair that re-issued this one, if any.</summary>
    public string? SupersededBy { get; init; }

    /// <summary>Consecutive failed authentications (reset by a success, forgotten after a quiet day).</summary>
    public int FailedAttempts { get; init; }

    public DateTimeOffset? LastFailureAt { get; init; }

    /// <summary>Until when unknown addresses are refused after repeated failures.</summary>
    public DateTimeOffset? LockedUntil { get; init; }

    /// <summary>Keyed digests of addresses that authenticated successfully lately: they pass a lock others caused.</summary>
    public IReadOnlyList<string> KnownAddresses { get; init; } = [];

    /// <summary>The status a caller should see now: an active pair past its 90th unused day is blocked even before the job records it.</summary>
    public CredentialStatus EffectiveStatus(DateOnly today) =>
        Status == CredentialStatus.Active && today >= BlockDay ? CredentialStatus.BlockedInactive : Status;
}

/// <summary>The API's view of a pair; the secret is in <see cref="IssuedCredentialResponse"/> only, once.</summary>
public record CredentialResponse(
    string ClientId,
    string Name,
    IReadOnlyList<string> Scopes,
    string ApiVersion,
    CredentialStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUsedAt,
    DateOnly BlockedInactiveFrom)
{
    public DateTimeOffset? StatusChangedAt { get; init; }

    public string? Replaces { get; init; }

    public string? SupersededBy { get; init; }

    public static CredentialResponse From(ClientCredential credential, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return new(credential.ClientId, credential.Name, credential.Scopes, credential.ApiVersion, credential.EffectiveStatus(today),
            credential.CreatedAt, credential.LastUsedAt, credential.BlockDay)
        {
            StatusChangedAt = credential.StatusChangedAt,
            Replaces = credential.Replaces,
            SupersededBy = credential.SupersededBy,
        };
    }
}

/// <summary>The answer to a generation or re-issue: the only time the secret is shown.</summary>
public sealed record IssuedCredentialResponse(
    string ClientId,
    [property: JsonPropertyOrder(-1)] string ClientSecret,
    string Name,
    IReadOnlyList<string> Scopes,
    string ApiVersion,
    CredentialStatus Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset LastUsedAt,
    DateOnly BlockedInactiveFrom)
    : CredentialResponse(ClientId, Name, Scopes, ApiVersion, Status, CreatedAt, LastUsedAt, BlockedInactiveFrom);

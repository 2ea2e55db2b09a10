using System.ComponentModel.DataAnnotations;

namespace BusinessApi.Credentials;

/// <summary>Settings of API credentials and tokens (appsettings.json <c>credentials</c>).</summary>
public sealed class CredentialOptions
{
    public const string Section = "Credentials";

    /// <summary>Lifetime of an access token; 60–3600 seconds.</summary>
    [Range(60, 3600)]
    public int AccessTokenLifetimeSeconds { get; set; } = 600;

    public TimeSpan AccessTokenLifetime => TimeSpan.FromSeconds(AccessTokenLifetimeSeconds);

    /// <summary>
    /// How long one app instance trusts a pair's status before reading it again: a pair blocked through
    /// another instance stops being accepted here within this time (the instance that blocked it stops at once).
    /// </summary>
    [Range(0, 60)]
    public int StatusCacheSeconds { get; set; } = 5;

    /// <summary>Within one local day, <c>lastUsedAt</c> is written at most this often per pair.</summary>
    [Range(1, 1440)]
    public int LastUsedWriteIntervalMinutes { get; set; } = 60;

    /// <summary>Failed authentications of one Client ID that cost nothing; each further one locks it out (for unknown addresses) for twice as long.</summary>
    [Range(1, 1000)]
    public int ClientFreeFailures { get; set; } = 5;

    /// <summary>Failed authentications from one address that cost nothing; then the address is locked out, doubling each time.</summary>
    [Range(1, 100_000)]
    public int AddressFreeFailures { get; set; } = 10;

    /// <summary>The longest lock, for a Client ID or an address: after it, one more attempt is always allowed.</summary>
    [Range(1, 86_400)]
    public int MaxLockSeconds { get; set; } = 900;

    /// <summary>A quiet period after which the failure count starts again from zero.</summary>
    [Range(1, 720)]
    public int FailureMemoryHours { get; set; } = 24;

    /// <summary>How many recently successful addresses a pair remembers; they pass a lock that others caused.</summary>
    [Range(0, 64)]
    public int KnownAddresses { get; set; } = 8;
}

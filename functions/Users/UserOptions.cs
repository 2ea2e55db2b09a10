using System.ComponentModel.DataAnnotations;

namespace BusinessApi.Users;

/// <summary>Settings of users, passwords and sessions (appsettings.json <c>users</c>).</summary>
public sealed class UserOptions
{
    public const string Section = "Users";

    /// <summary>PBKDF2-HMAC-SHA256 iterations for new hashes (OWASP 2023: 600,000). Lower only in tests.</summary>
    [Range(1, 10_000_000)]
    public int PasswordHashIterations { get; set; } = 600_000;

    /// <summary>Password hashes that may wait for a core; more at once are answered 503 with Retry-After (a sign-in flood costs a bounded queue).</summary>
    /// <summary>How many days before a power with a term ends (a user's powers, a signer on a specimen card) the customer's admins are told.</summary>
    [Range(1, 60)]
    public int PowerExpiryNoticeDays { get; set; } = 7;

    [Range(0, 10_000)]
    public int MaxQueuedHashes { get; set; } = 64;

    /// <summary>How long five wrong passwords in a row block sign-in .</summary>
    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 30;

    /// <summary>Idle time after which a session ends (R-28: more than 30 minutes is not allowed).</summary>
    [Range(60, 1800)]
    public int IdleTimeoutSeconds { get; set; } = 1800;

    public TimeSpan IdleTimeout => TimeSpan.FromSeconds(IdleTimeoutSeconds);

    /// <summary>A session ends after this long whatever its activity.</summary>
    [Range(1, 24)]
    public int AbsoluteLifetimeHours { get; set; } = 12;

    /// <summary>How long an instance trusts a session's and a user's stored state (blocks and power changes made elsewhere show within it).</summary>
    [Range(0, 60)]
    public int CacheSeconds { get; set; } = 5;

    /// <summary>A session's last activity is written when the stored value is this old; the instance that served a request keeps it exactly.</summary>
    [Range(1, 600)]
    public int ActivityWriteSeconds { get; set; } = 30;
}

namespace BusinessApi.Users;

/// <summary>Settings of users, passwords and sessions (host.json <c>users</c>).</summary>
public sealed class UserOptions
{
    public const string Section = "Users";

    /// <summary>PBKDF2-HMAC-SHA256 iterations for new hashes (OWASP 2023: 600,000). Lower only in tests.</summary>
    public int PasswordHashIterations { get; set; } = 600_000;

    /// <summary>How long five wrong passwords in a row block sign-in .</summary>
    public int LockoutMinutes { get; set; } = 30;

    /// <summary>Idle time after which a session ends (R-28: more than 30 minutes is not allowed).</summary>
    public int IdleTimeoutSeconds { get; set; } = 1800;

    /// <summary>A session ends after this long whatever its activity.</summary>
    public int AbsoluteLifetimeHours { get; set; } = 12;

    /// <summary>How long an instance trusts a session's and a user's stored state (blocks and power changes made elsewhere show within it).</summary>
    public int CacheSeconds { get; set; } = 5;

    /// <summary>A session's last activity is written when the stored value is this old; the instance that served a request keeps it exactly.</summary>
    public int ActivityWriteSeconds { get; set; } = 30;
}

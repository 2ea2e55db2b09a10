using System.Security.Cryptography;
using BusinessApi.Customers;

namespace BusinessApi.Users;

public enum UserStatus
{
    Active,

    /// <summary>Blocked by the customer admin or an operator (6.2.4–6.2.5); unblocked the same way.</summary>
    Blocked,

    /// <summary>No activity for more than 30 calendar days; unblocked by the customer admin or an operator.</summary>
    BlockedInactive,
}

/// <summary>The functions a customer gives a user; the admin flag adds managing users and API credentials.</summary>
public static class UserFunctions
{
    public const string View = "view";
    public const string Create = "create";
    public const string Sign = "sign";
    public const string ManageUsers = CustomerAccess.ManageUsers;
    public const string ManageCredentials = CustomerAccess.ManageCredentials;

    public static readonly IReadOnlyList<string> All = [View, Create, Sign, ManageUsers, ManageCredentials];

    /// <summary>The API scopes a user's functions allow: viewing reads everything, creating or signing writes documents.</summary>
    public static IReadOnlyList<string> Scopes(IReadOnlyCollection<string> functions)
    {
        ArgumentNullException.ThrowIfNull(functions);
        var scopes = new List<string>();
        if (functions.Contains(View))
        {
            scopes.AddRange([CustomerAccess.AccountsRead, CustomerAccess.StatementsRead, CustomerAccess.DocumentsRead, CustomerAccess.NotificationsRead]);
        }

        if (functions.Contains(Create) || functions.Contains(Sign))
        {
            scopes.Add(CustomerAccess.DocumentsWrite);
        }

        if (functions.Contains(ManageCredentials))
        {
            scopes.Add(CustomerAccess.NotificationsManage); // who wires the customer's software up also says where its notices go
        }

        return [.. CustomerAccess.AllScopes.Where(scopes.Contains)];
    }
}

/// <summary>Which accounts (IBANs, or <c>*</c> for all) and which functions a user has .</summary>
public sealed record UserPowers(IReadOnlyList<string> Accounts, IReadOnlyList<string> Functions)
{
    public const string AllAccounts = "*";

    /// <summary>The term of the powers (a power of attorney's end): from this instant they act as absent.</summary>
    public DateTimeOffset? ValidUntil { get; init; }

    public bool InForceAt(DateTimeOffset at) => ValidUntil is not { } until || until > at;

    public bool MayAccess(string iban) => Accounts.Contains(AllAccounts) || Accounts.Contains(iban, StringComparer.Ordinal);

    /// <summary>The functions in effect: the admin flag adds managing users and credentials.</summary>
    public IReadOnlyList<string> EffectiveFunctions(bool isAdmin) =>
        [.. UserFunctions.All.Where(f => Functions.Contains(f) || (isAdmin && f is UserFunctions.ManageUsers or UserFunctions.ManageCredentials))];
}

/// <summary>A person who acts for a customer: login, password state, powers, lockout and activity.</summary>
public sealed record User(
    string CustomerId,
    string UserId,
    string Login,
    string FullName,
    string Iin,
    bool IsAdmin,
    UserStatus Status,
    UserPowers Powers,
    DateTimeOffset CreatedAt)
{
    public const string IdPrefix = "usr_";

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>The last passwords' hashes (see <see cref="PasswordHasher"/>), newest (the current one) first; at most <see cref="PasswordPolicy.HistoryDepth"/>.</summary>
    public required IReadOnlyList<string> PasswordHistory { get; init; }

    /// <summary>The current password's hash: the newest of the history.</summary>
    public string? PasswordHash => PasswordHistory.Count > 0 ? PasswordHistory[0] : null;

    public DateTimeOffset PasswordSetAt { get; init; }

    /// <summary>Set by an admin (or first issued): the next sign-in yields only a password change .</summary>
    public bool MustChangePassword { get; init; }

    public int FailedAttempts { get; init; }

    /// <summary>Guesses claimed and being evaluated now (R-27: they count against the five before their hash runs).</summary>
    public int PendingAttempts { get; init; }

    /// <summary>When the newest pending guess was claimed: pending guesses older than a minute were lost with their process.</summary>
    public DateTimeOffset? PendingSince { get; init; }

    /// <summary>Until when sign-in is refused after five wrong passwords in a row .</summary>
    public DateTimeOffset? LockedUntil { get; init; }

    public DateTimeOffset LastActivityAt { get; init; }

    /// <summary>The local day of the last activity; more than 30 calendar days after it the user is blocked .</summary>
    public DateOnly LastActivityDay { get; init; }

    /// <summary>Raised to end every open session of the user at once (block, password reset, sign-out everywhere).</summary>
    public int SessionEpoch { get; init; }

    public DateTimeOffset? StatusChangedAt { get; init; }

    public string? StatusChangedBy { get; init; }

    /// <summary>The first local day on which the user counts as inactive for more than 30 days.</summary>
    public DateOnly InactiveBlockDay => LastActivityDay.AddDays(PasswordPolicy.InactivityDays + 1);

    public UserStatus EffectiveStatus(DateOnly today) =>
        Status == UserStatus.Active && today >= InactiveBlockDay ? UserStatus.BlockedInactive : Status;

    public IReadOnlyList<string> Functions => Powers.EffectiveFunctions(IsAdmin);

    /// <summary>The functions in force at <paramref name="at"/>: past the powers' term only the admin flag's remain.</summary>
    public IReadOnlyList<string> FunctionsAt(DateTimeOffset at) =>
        Powers.InForceAt(at) ? Functions : (Powers with { Functions = [] }).EffectiveFunctions(IsAdmin);

    /// <summary>Whether the user, active, may sign documents of <paramref name="iban"/> at <paramref name="at"/> (R-13, the powers' term included).</summary>
    public bool MaySignAt(string iban, DateTimeOffset at) =>
        Status == UserStatus.Active && Powers.InForceAt(at) && Functions.Contains(UserFunctions.Sign) && Powers.MayAccess(iban);

    /// <summary>A user id carries its customer's id, so the user's partition is known from the id alone.</summary>
    public static string NewId(string customerId) =>
        Customer.IsWellFormedId(customerId)
            ? IdPrefix + customerId["cus_".Length..] + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))
            : throw new ArgumentException("Not a customer id.", nameof(customerId));

    public static bool IsWellFormedId(string? userId) =>
        userId is { Length: 36 } && userId.StartsWith(IdPrefix, StringComparison.Ordinal) && !userId.AsSpan(4).ContainsAnyExcept(LowerHex);

    public static string CustomerIdOf(string userId) =>
        IsWellFormedId(userId) ? string.Concat("cus_", userId.AsSpan(4, 20)) : throw new ArgumentException("Not a user id.", nameof(userId));

    /// <summary>Logins compare without case (R-20: unique).</summary>
    public static string LoginKey(string login)
    {
        ArgumentNullException.ThrowIfNull(login);
        return login.Trim().ToUpperInvariant();
    }
}

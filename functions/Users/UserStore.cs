using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;

namespace BusinessApi.Users;

/// <summary>A user as read, with the ETag that guards its next change.</summary>
public sealed record StoredUser(User User, ETag ETag);

/// <summary>
/// Table <c>Users</c> (one partition per customer, <c>u|{userId}</c> rows), table <c>UserLogins</c> (one row
/// per login, compared without case: the claim that makes logins unique across the bank, R-20) and the
/// due index <c>UsersDue</c> by the day a user falls inactive.
/// </summary>
public sealed class UserStore(StorageResources storage, WakeupAlarm? wakeups = null)
{
    public const string TableName = "Users";
    public const string LoginTable = "UserLogins";
    public const string DueTable = "UsersDue";

    private readonly TableClient _users = storage.Table(TableName);
    private readonly TableClient _logins = storage.Table(LoginTable);
    private readonly DueIndex _due = new(storage.Table(DueTable), wakeups);

    private static string LoginPartition(string login) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(User.LoginKey(login))))[..40];

    /// <summary>Claims the login and stores the user; a login taken by another user answers that user (the first writer wins).</summary>
    public async Task<(bool Created, StoredUser? Holder)> CreateAsync(User user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        var claim = new TableEntity(LoginPartition(user.Login), "") { ["CustomerId"] = user.CustomerId, ["UserId"] = user.UserId, ["Login"] = user.Login };
        try
        {
            await _logins.AddEntityAsync(claim, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var existing = await _logins.GetEntityAsync<TableEntity>(claim.PartitionKey, "", cancellationToken: cancellationToken);
            var holderId = existing.Value.GetString("UserId") ?? "";
            if (!string.Equals(holderId, user.UserId, StringComparison.Ordinal))
            {
                if (await GetAsync(holderId, cancellationToken) is { } holder)
                {
                    return (false, holder);
                }

                // The claim of a creation that stopped before its user row: take it over.
                await _logins.UpdateEntityAsync(claim, existing.Value.ETag, TableUpdateMode.Replace, cancellationToken);
            }
        }

        await _due.PutAsync(user.InactiveBlockDay, user.UserId, cancellationToken);
        try
        {
            await _users.AddEntityAsync(ToEntity(user), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // our own write whose answer was lost
        }

        return (true, null);
    }

    public async Task<StoredUser?> GetAsync(string userId, CancellationToken cancellationToken)
    {
        if (!User.IsWellFormedId(userId))
        {
            return null;
        }

        var found = await _users.GetEntityIfExistsAsync<TableEntity>(User.CustomerIdOf(userId), "u|" + userId, cancellationToken: cancellationToken);
        return found.HasValue ? new StoredUser(FromEntity(found.Value!), found.Value!.ETag) : null;
    }

    public async Task<StoredUser?> FindByLoginAsync(string login, CancellationToken cancellationToken)
    {
        var claim = await _logins.GetEntityIfExistsAsync<TableEntity>(LoginPartition(login), "", cancellationToken: cancellationToken);
        return claim.HasValue && await GetAsync(claim.Value!.GetString("UserId") ?? "", cancellationToken) is { } user
               && string.Equals(User.LoginKey(user.User.Login), User.LoginKey(login), StringComparison.Ordinal)
            ? user
            : null;
    }

    public async Task<IReadOnlyList<User>> ListAsync(string customerId, CancellationToken cancellationToken)
    {
        var result = new List<User>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey ge 'u|' and RowKey lt 'u}}'");
        await foreach (var entity in _users.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            result.Add(FromEntity(entity));
        }

        return result;
    }

    /// <summary>Applies <paramref name="change"/> under the user's ETag, reading again after a race; null from it means nothing to do.</summary>
    public async Task<StoredUser?> UpdateAsync(StoredUser read, Func<User, User?> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var result = await OptimisticUpdate.ApplyAsync(read.User, read.ETag, change,
            async (changed, etag) => (await _users.UpdateEntityAsync(ToEntity(changed), etag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag ?? default,
            async () => await GetAsync(read.User.UserId, cancellationToken) is { } fresh ? (fresh.User, fresh.ETag) : null);
        return result is { } stored ? new StoredUser(stored.Value, stored.ETag) : null;
    }

    /// <summary>Records activity on a new local day: the due row for the new block day first, the user second, the old row last.</summary>
    public Task<StoredUser?> MoveLastActivityAsync(StoredUser read, DateTimeOffset now, DateOnly day, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        return _due.MoveAsync(read.User.UserId, read.User.InactiveBlockDay, day.AddDays(PasswordPolicy.InactivityDays + 1),
            () => UpdateAsync(read, u => u.LastActivityDay >= day ? null : u with { LastActivityAt = now, LastActivityDay = day }, cancellationToken),
            stored => stored.User.InactiveBlockDay, cancellationToken);
    }

    public IAsyncEnumerable<(DateOnly Day, string Key)> DueAsync(DateOnly today, CancellationToken cancellationToken) => _due.DueAsync(today, cancellationToken);

    public Task DeleteDueAsync(DateOnly day, string userId, CancellationToken cancellationToken) => _due.DeleteAsync(day, userId, cancellationToken);

    private static TableEntity ToEntity(User u) => new(u.CustomerId, "u|" + u.UserId)
    {
        ["Login"] = u.Login,
        ["FullName"] = u.FullName,
        ["Iin"] = u.Iin,
        ["IsAdmin"] = u.IsAdmin,
        ["Status"] = u.Status.ToString(),
        ["Accounts"] = JsonSerializer.Serialize(u.Powers.Accounts),
        ["Functions"] = JsonSerializer.Serialize(u.Powers.Functions),
        ["PowersValidUntil"] = u.Powers.ValidUntil,
        ["CreatedAt"] = u.CreatedAt,
        ["PasswordHistory"] = JsonSerializer.Serialize(u.PasswordHistory),
        ["PasswordSetAt"] = u.PasswordSetAt,
        ["MustChangePassword"] = u.MustChangePassword,
        ["FailedAttempts"] = u.FailedAttempts,
        ["PendingAttempts"] = u.PendingAttempts,
        ["PendingSince"] = u.PendingSince,
        ["LockedUntil"] = u.LockedUntil,
        ["LastActivityAt"] = u.LastActivityAt,
        ["LastActivityDay"] = DueIndex.Day(u.LastActivityDay),
        ["SessionEpoch"] = u.SessionEpoch,
        ["StatusChangedAt"] = u.StatusChangedAt,
        ["StatusChangedBy"] = u.StatusChangedBy,
    };

    private static User FromEntity(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey[2..],
        e.GetString("Login") ?? "",
        e.GetString("FullName") ?? "",
        e.GetString("Iin") ?? "",
        e.GetBoolean("IsAdmin") ?? false,
        Enum.TryParse<UserStatus>(e.GetString("Status"), out var status) ? status : UserStatus.Blocked,
        new UserPowers(
            JsonSerializer.Deserialize<string[]>(e.GetString("Accounts") ?? "[]") ?? [],
            JsonSerializer.Deserialize<string[]>(e.GetString("Functions") ?? "[]") ?? [])
        {
            ValidUntil = e.GetDateTimeOffset("PowersValidUntil"),
        },
        e.GetDateTimeOffset("CreatedAt") ?? default)
    {
        PasswordHistory = JsonSerializer.Deserialize<string[]>(e.GetString("PasswordHistory") ?? "[]") ?? [],
        PasswordSetAt = e.GetDateTimeOffset("PasswordSetAt") ?? default,
        MustChangePassword = e.GetBoolean("MustChangePassword") ?? true,
        FailedAttempts = e.GetInt32("FailedAttempts") ?? 0,
        PendingAttempts = e.GetInt32("PendingAttempts") ?? 0,
        PendingSince = e.GetDateTimeOffset("PendingSince"),
        LockedUntil = e.GetDateTimeOffset("LockedUntil"),
        LastActivityAt = e.GetDateTimeOffset("LastActivityAt") ?? default,
        LastActivityDay = DateOnly.TryParseExact(e.GetString("LastActivityDay"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : default,
        SessionEpoch = e.GetInt32("SessionEpoch") ?? 0,
        StatusChangedAt = e.GetDateTimeOffset("StatusChangedAt"),
        StatusChangedBy = e.GetString("StatusChangedBy"),
    };
}

using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Users;

/// <summary>What a session lets its holder do.</summary>
public enum SessionKind
{
    /// <summary>Internet-banking (no client token): the user's functions.</summary>
    Portal,

    /// <summary>Opened with a client token: bound to that Client ID, its scopes intersected with the user's powers.</summary>
    Software,
}

/// <summary>A server-side session. Only a digest of its token is stored.</summary>
public sealed record Session(string Id, string UserId, string CustomerId, SessionKind Kind, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, int Epoch)
{
    /// <summary>For a software session, the Client ID and the scopes of the token it was opened with.</summary>
    public string? ClientId { get; init; }

    public IReadOnlyList<string> ClientScopes { get; init; } = [];

    /// <summary>Good only for changing the password (first sign-in, admin-set or expired password, R-24/R-25).</summary>
    public bool PasswordChangeOnly { get; init; }

    public DateTimeOffset LastSeenAt { get; init; }

    public const string TokenPrefix = "bapi_ss_";

    public static string NewToken() => TokenPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public static bool LooksLikeToken(string? token) => token is { Length: 72 } && token.StartsWith(TokenPrefix, StringComparison.Ordinal);

    /// <summary>The stored id of a token: its SHA-256, so a copy of the table opens no session.</summary>
    public static string IdOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));
}

/// <summary>Table <c>Sessions</c>: one row per session, keyed by the token's digest.</summary>
public sealed class SessionStore(StorageResources storage)
{
    public const string TableName = "Sessions";

    private readonly TableClient _table = storage.Table(TableName);

    public async Task AddAsync(Session session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        await _table.AddEntityAsync(ToEntity(session), cancellationToken);
    }

    public async Task<Session?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(id, "s", cancellationToken: cancellationToken);
        return found.HasValue ? FromEntity(found.Value!) : null;
    }

    /// <summary>Writes the last activity (only that property, so nothing else is overwritten).</summary>
    public async Task TouchAsync(string id, DateTimeOffset lastSeen, CancellationToken cancellationToken)
    {
        try
        {
            await _table.UpdateEntityAsync(new TableEntity(id, "s") { ["LastSeenAt"] = lastSeen }, ETag.All, TableUpdateMode.Merge, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // signed out meanwhile
        }
    }

    public async Task ReplaceAsync(Session session, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(ToEntity(session), TableUpdateMode.Replace, cancellationToken);

    public async Task DeleteAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            await _table.DeleteEntityAsync(id, "s", ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // already gone
        }
    }

    private static TableEntity ToEntity(Session s) => new(s.Id, "s")
    {
        ["UserId"] = s.UserId,
        ["CustomerId"] = s.CustomerId,
        ["Kind"] = s.Kind.ToString(),
        ["CreatedAt"] = s.CreatedAt,
        ["ExpiresAt"] = s.ExpiresAt,
        ["Epoch"] = s.Epoch,
        ["ClientId"] = s.ClientId,
        ["ClientScopes"] = string.Join(' ', s.ClientScopes),
        ["PasswordChangeOnly"] = s.PasswordChangeOnly,
        ["LastSeenAt"] = s.LastSeenAt,
    };

    private static Session FromEntity(TableEntity e) => new(
        e.PartitionKey,
        e.GetString("UserId") ?? "",
        e.GetString("CustomerId") ?? "",
        Enum.TryParse<SessionKind>(e.GetString("Kind"), out var kind) ? kind : SessionKind.Software,
        e.GetDateTimeOffset("CreatedAt") ?? default,
        e.GetDateTimeOffset("ExpiresAt") ?? default,
        e.GetInt32("Epoch") ?? -1)
    {
        ClientId = e.GetString("ClientId"),
        ClientScopes = (e.GetString("ClientScopes") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
        PasswordChangeOnly = e.GetBoolean("PasswordChangeOnly") ?? true,
        LastSeenAt = e.GetDateTimeOffset("LastSeenAt") ?? default,
    };
}

using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;

namespace BusinessApi.Credentials;

/// <summary>A pair as read, with the ETag that guards its next change.</summary>
public sealed record StoredCredential(ClientCredential Credential, ETag ETag);

/// <summary>
/// Table <c>Credentials</c>, one partition per customer: <c>c|{clientId}</c> rows hold the pairs and a
/// <c>n|{name digest}</c> row names the current pair of each Software Product, so generation, re-issue
/// and "one active pair per name" are one entity-group transaction. Table <c>CredentialsDue</c> indexes
/// pairs by the day they fall due for the 90-day block (partition = that day), so the job reads only
/// what is due. An index row is written before the pair points to it; stale ones are skipped and removed.
/// </summary>
public sealed class CredentialStore(StorageResources storage, WakeupAlarm? wakeups = null)
{
    public const string TableName = "Credentials";
    public const string DueTable = "CredentialsDue";
    private const int MaxAttempts = OptimisticUpdate.MaxAttempts;

    private readonly TableClient _table = storage.Table(TableName);
    private readonly TableClient _due = storage.Table(DueTable);
    private readonly DueIndex _dueIndex = new(storage.Table(DueTable), wakeups);

    public static string PairRow(string clientId) => "c|" + clientId;

    public static string NameRow(string name) => "n|" + CredentialRules.NameKey(name);

    public async Task<StoredCredential?> GetAsync(string clientId, CancellationToken cancellationToken)
    {
        if (!CredentialRules.IsWellFormedClientId(clientId))
        {
            return null;
        }

        var found = await _table.GetEntityIfExistsAsync<TableEntity>(CredentialRules.CustomerIdOf(clientId), PairRow(clientId), cancellationToken: cancellationToken);
        return found.HasValue ? new StoredCredential(FromEntity(found.Value!), found.Value!.ETag) : null;
    }

    public async Task<IReadOnlyList<ClientCredential>> ListAsync(string customerId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey ge 'c|' and RowKey lt 'c}}'");
        var result = new List<ClientCredential>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            result.Add(FromEntity(entity));
        }

        return result;
    }

    /// <summary>
    /// Stores a new pair. When <paramref name="supersede"/> is given it is replaced in the same transaction
    /// (an active one becomes <see cref="CredentialStatus.Superseded"/>). Otherwise the name must not belong
    /// to a pair that is still active: then the answer is that pair.
    /// </summary>
    public async Task<(bool Created, ClientCredential? Conflict)> CreateAsync(
        ClientCredential pair, StoredCredential? supersede, string actor, DateTimeOffset now, DateOnly today, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pair);
        await PutDueAsync(pair.BlockDay, pair.ClientId, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            var nameRow = await _table.GetEntityIfExistsAsync<TableEntity>(pair.CustomerId, NameRow(pair.Name), cancellationToken: cancellationToken);
            var actions = new List<TableTransactionAction> { new(TableTransactionActionType.Add, ToEntity(pair)) };
            var current = nameRow.HasValue ? nameRow.Value!.GetString("ClientId") : null;
            if (supersede is not null)
            {
                var old = supersede.Credential;
                var replaced = old with
                {
                    Status = old.EffectiveStatus(today) == CredentialStatus.Active ? CredentialStatus.Superseded : old.Status,
                    SupersededBy = pair.ClientId,
                    StatusChangedAt = old.EffectiveStatus(today) == CredentialStatus.Active ? now : old.StatusChangedAt,
                    StatusChangedBy = old.EffectiveStatus(today) == CredentialStatus.Active ? actor : old.StatusChangedBy,
                };
                actions.Add(new(TableTransactionActionType.UpdateReplace, ToEntity(replaced), supersede.ETag));
            }
            else if (current is not null && !string.Equals(current, pair.ClientId, StringComparison.Ordinal))
            {
                var holder = await GetAsync(current, cancellationToken);
                if (holder is not null && holder.Credential.EffectiveStatus(today) == CredentialStatus.Active)
                {
                    return (false, holder.Credential);
                }
            }

            var name = new TableEntity(pair.CustomerId, NameRow(pair.Name)) { ["ClientId"] = pair.ClientId, ["Name"] = pair.Name };
            actions.Add(nameRow.HasValue
                ? new(TableTransactionActionType.UpdateReplace, name, nameRow.Value!.ETag)
                : new(TableTransactionActionType.Add, name));
            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                return (true, null);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
            {
                if (await GetAsync(pair.ClientId, cancellationToken) is not null)
                {
                    return (true, null); // our own write, whose answer was lost
                }

                if (supersede is not null)
                {
                    return (false, (await GetAsync(supersede.Credential.ClientId, cancellationToken))?.Credential);
                }
            }
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the stored pair under its ETag, reading again after a race.
    /// A null from <paramref name="change"/> means nothing to do. Returns the pair as stored afterwards.
    /// </summary>
    public async Task<StoredCredential?> UpdateAsync(
        StoredCredential read, Func<ClientCredential, ClientCredential?> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var result = await OptimisticUpdate.ApplyAsync(read.Credential, read.ETag, change,
            async (changed, etag) => (await _table.UpdateEntityAsync(ToEntity(changed), etag, TableUpdateMode.Replace, cancellationToken)).Headers.ETag ?? default,
            async () => await GetAsync(read.Credential.ClientId, cancellationToken) is { } fresh ? (fresh.Credential, fresh.ETag) : null);
        return result is { } stored ? new StoredCredential(stored.Value, stored.ETag) : null;
    }

    /// <summary>Moves the pair's due-index row to <paramref name="day"/>: the new row first, the pair second, the old row last.</summary>
    public Task<StoredCredential?> MoveLastUseAsync(StoredCredential read, DateTimeOffset now, DateOnly day, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        return _dueIndex.MoveAsync(read.Credential.ClientId, read.Credential.BlockDay, day.AddDays(CredentialRules.InactivityDays),
            () => UpdateAsync(read, c => c.LastUsedDay >= day ? null : c with { LastUsedAt = now, LastUsedDay = day }, cancellationToken),
            stored => stored.Credential.BlockDay, cancellationToken);
    }

    /// <summary>Due-index rows of days up to and including <paramref name="today"/>: one range query over those partitions only.</summary>
    public IAsyncEnumerable<(DateOnly Day, string Key)> DueAsync(DateOnly today, CancellationToken cancellationToken) =>
        _dueIndex.DueAsync(today, cancellationToken);

    public Task PutDueAsync(DateOnly day, string clientId, CancellationToken cancellationToken) => _dueIndex.PutAsync(day, clientId, cancellationToken);

    public Task DeleteDueAsync(DateOnly day, string clientId, CancellationToken cancellationToken) => _dueIndex.DeleteAsync(day, clientId, cancellationToken);

    /// <summary>Inserts many pairs and their due-index rows in entity-group batches (benchmarks and tests seed with it).</summary>
    internal async Task BulkInsertAsync(IReadOnlyList<ClientCredential> pairs, CancellationToken cancellationToken)
    {
        var rows = pairs.Select(p => (Table: _table, Entity: ToEntity(p)))
            .Concat(pairs.Select(p => (Table: _due, Entity: DueIndex.Row(p.BlockDay, p.ClientId))));
        var batches = rows.GroupBy(r => (r.Table, r.Entity.PartitionKey))
            .SelectMany(g => g.Chunk(100).Select(chunk => (g.Key.Table, Actions: chunk.Select(r => new TableTransactionAction(TableTransactionActionType.UpsertReplace, r.Entity)).ToList())));
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (batch, ct) => await batch.Table.SubmitTransactionAsync(batch.Actions, ct));
    }

    private static TableEntity ToEntity(ClientCredential c) => new(c.CustomerId, PairRow(c.ClientId))
    {
        ["Name"] = c.Name,
        ["Scopes"] = CredentialRules.ScopeText(c.Scopes),
        ["ApiVersion"] = c.ApiVersion,
        ["Status"] = c.Status.ToString(),
        ["CreatedAt"] = c.CreatedAt,
        ["SecretHash"] = c.SecretHash,
        ["SecretKeyVersion"] = c.SecretKeyVersion,
        ["LastUsedAt"] = c.LastUsedAt,
        ["LastUsedDay"] = CredentialRules.Day(c.LastUsedDay),
        ["StatusChangedAt"] = c.StatusChangedAt,
        ["StatusChangedBy"] = c.StatusChangedBy,
        ["Replaces"] = c.Replaces,
        ["SupersededBy"] = c.SupersededBy,
        ["FailedAttempts"] = c.FailedAttempts,
        ["LastFailureAt"] = c.LastFailureAt,
        ["LockedUntil"] = c.LockedUntil,
        ["KnownAddresses"] = string.Join(',', c.KnownAddresses),
        ["Accounts"] = string.Join(' ', c.Accounts),
    };

    private static ClientCredential FromEntity(TableEntity e) => new(
        e.PartitionKey,
        e.RowKey[2..],
        e.GetString("Name") ?? "",
        (e.GetString("Scopes") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries),
        e.GetString("ApiVersion") ?? CredentialRules.CurrentApiVersion,
        Enum.TryParse<CredentialStatus>(e.GetString("Status"), out var status) ? status : CredentialStatus.Revoked,
        e.GetDateTimeOffset("CreatedAt") ?? default)
    {
        SecretHash = e.GetString("SecretHash") ?? "",
        Accounts = e.GetString("Accounts") is { Length: > 0 } accounts ? accounts.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [ClientCredential.AllAccounts],
        SecretKeyVersion = e.GetString("SecretKeyVersion") ?? "",
        LastUsedAt = e.GetDateTimeOffset("LastUsedAt") ?? default,
        LastUsedDay = DateOnly.TryParseExact(e.GetString("LastUsedDay"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : default,
        StatusChangedAt = e.GetDateTimeOffset("StatusChangedAt"),
        StatusChangedBy = e.GetString("StatusChangedBy"),
        Replaces = e.GetString("Replaces"),
        SupersededBy = e.GetString("SupersededBy"),
        FailedAttempts = e.GetInt32("FailedAttempts") ?? 0,
        LastFailureAt = e.GetDateTimeOffset("LastFailureAt"),
        LockedUntil = e.GetDateTimeOffset("LockedUntil"),
        KnownAddresses = (e.GetString("KnownAddresses") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries),
    };
}

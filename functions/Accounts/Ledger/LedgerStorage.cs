using Azure;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Accounts.Ledger;

/// <summary>The ledger's storage calls, shared by the account lanes, the reads and the outbox sweep.</summary>
public sealed class LedgerStorage(StorageResources storage, TimeProvider time)
{
    /// <summary>How long an outbox marker promises the sweep that its account may still write outbox rows.</summary>
    internal static readonly TimeSpan OutboxMarkerLifetime = TimeSpan.FromMinutes(10);

    /// <summary>A marker closer than this to its end is renewed before the next outbox write.</summary>
    internal static readonly TimeSpan OutboxMarkerMargin = TimeSpan.FromMinutes(2);

    internal TableClient Table { get; } = storage.Table(LedgerRows.TableName);

    internal TableClient OutboxIndex { get; } = storage.Table(LedgerRows.OutboxIndexTable);

    internal Booking Booking()
    {
        var now = time.GetUtcNow();
        return new Booking(now, KazakhstanTime.LocalDate(now));
    }

    internal async Task<(AccountState? State, ETag ETag)> ReadHeadAsync(LedgerAccountId id, CancellationToken cancellationToken = default)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(id.Value, LedgerRows.Head, cancellationToken: cancellationToken);
        return found.HasValue ? (LedgerRows.ToState(found.Value!), found.Value!.ETag) : (null, default);
    }

    internal async Task<TableEntity?> ReadRowAsync(LedgerAccountId id, string rowKey, CancellationToken cancellationToken = default)
    {
        var found = await Table.GetEntityIfExistsAsync<TableEntity>(id.Value, rowKey, cancellationToken: cancellationToken);
        return found.HasValue ? found.Value : null;
    }

    internal async Task<Dictionary<string, TableEntity?>> PreReadAsync(LedgerAccountId id, IEnumerable<string?> rowKeys)
    {
        var keys = rowKeys.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var rows = await Task.WhenAll(keys.Select(key => ReadRowAsync(id, key)));
        return keys.Zip(rows).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
    }

    internal async Task<HashSet<string>> ExistingAsync(LedgerAccountId id, IEnumerable<string> rowKeys)
    {
        var keys = rowKeys.Distinct(StringComparer.Ordinal).ToList();
        var rows = await Task.WhenAll(keys.Select(key => ReadRowAsync(id, key)));
        return [.. keys.Where((_, i) => rows[i] is not null)];
    }

    /// <summary>Promises the outbox sweep that this account may hold outbox rows until the returned instant.</summary>
    internal async Task<DateTimeOffset> MarkOutboxAsync(LedgerAccountId id, DateTimeOffset now)
    {
        var until = now + OutboxMarkerLifetime;
        await OutboxIndex.UpsertEntityAsync(
            new TableEntity(LedgerRows.OutboxIndexPartition, id.Value) { ["ActiveUntil"] = until },
            TableUpdateMode.Replace);
        return until;
    }

    internal async Task DeleteOutboxRowsAsync(LedgerAccountId id, IReadOnlyList<string> transactionIds)
    {
        var actions = transactionIds
            .Select(tx => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(id.Value, LedgerRows.Outbox(tx)), ETag.All))
            .ToList();
        try
        {
            await Table.SubmitTransactionAsync(actions);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 404)
        {
            // Some were already removed (by the sweep): remove the rest one by one.
            foreach (var tx in transactionIds)
            {
                await DeleteRowAsync(id, LedgerRows.Outbox(tx));
            }
        }
    }

    internal async Task DeleteRowAsync(LedgerAccountId id, string rowKey, CancellationToken cancellationToken = default)
    {
        try
        {
            await Table.DeleteEntityAsync(id.Value, rowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }
}

using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// The due-time index: one entry per unfinished instance, keyed by (shard, due ticks | instance id),
/// so a sweep reads only what is due — never a scan of all instances — and timers of any length
/// (queues cap visibility at 7 days) survive restarts (W5). Entries move only when a wait or a retry
/// changes the due time; while an instance runs, its entry's due is its recovery horizon.
/// </summary>
internal sealed class WorkflowIndex(StorageResources storage, TransactionBatcher batcher, IOptions<WorkflowOptions> options)
{
    public const string TableName = "WorkflowDue";
    public const string FaultsTableName = "WorkflowFaults";
    private const string FaultsPartition = "faulted";

    private readonly TableClient _index = storage.Table(TableName);
    private readonly TableClient _faults = storage.Table(FaultsTableName);
    private readonly int _shards = Math.Max(1, options.Value.IndexShards);
    private readonly int _swept = Math.Max(Math.Max(1, options.Value.IndexShards), options.Value.SweptShards);

    /// <summary>The shards a sweep reads: those written now, and those an earlier setting wrote to.</summary>
    public IEnumerable<string> Shards => Enumerable.Range(0, _swept).Select(Shard);

    public string ShardOf(string instanceId) =>
        Shard((int)(unchecked((uint)StableHash(instanceId)) % (uint)_shards));

    /// <summary>Writes the entry that becomes canonical when the instance row reaches <see cref="InstanceRecord.Version"/> of <paramref name="instance"/>.</summary>
    /// <remarks>Group-committed per shard with other instances' entries (many instances start and end at once).</remarks>
    public Task PutAsync(InstanceRecord instance, string rowKey, CancellationToken cancellationToken) =>
        batcher.SubmitOneAsync(_index, new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(ShardOf(instance.InstanceId), rowKey)
        {
            ["Table"] = instance.Location.Table,
            ["Pk"] = instance.Location.PartitionKey,
            ["Rk"] = instance.Location.RowKey,
            ["ForVersion"] = instance.Version,
            ["ClaimedUntil"] = DateTimeOffset.MinValue,
        }), cancellationToken);

    public static long ForVersionOf(TableEntity entry) => entry.GetInt64("ForVersion") ?? 0;

    public Task DeleteAsync(string instanceId, string rowKey, CancellationToken cancellationToken) =>
        rowKey.Length == 0 ? Task.CompletedTask : DeleteInShardAsync(ShardOf(instanceId), rowKey, cancellationToken);

    /// <summary>Deletes an entry where it is (its shard is its own partition key).</summary>
    public Task DeleteAsync(TableEntity entry, CancellationToken cancellationToken) =>
        DeleteInShardAsync(entry.PartitionKey, entry.RowKey, cancellationToken);

    private async Task DeleteInShardAsync(string shard, string rowKey, CancellationToken cancellationToken)
    {
        try
        {
            await batcher.SubmitOneAsync(_index, new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(shard, rowKey), ETag.All), cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // Already gone: deletes are idempotent.
        }
    }

    /// <summary>Due entries of a shard not claimed by another sweeper.</summary>
    public async Task<IReadOnlyList<TableEntity>> DueAsync(string shard, DateTimeOffset now, int take, CancellationToken cancellationToken)
    {
        var upper = now.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "|~";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {shard} and RowKey lt {upper}");
        var due = new List<TableEntity>();
        await foreach (var entity in _index.QueryAsync<TableEntity>(filter, maxPerPage: take, cancellationToken: cancellationToken))
        {
            if ((entity.GetDateTimeOffset("ClaimedUntil") ?? DateTimeOffset.MinValue) <= now)
            {
                due.Add(entity);
            }

            if (due.Count >= take)
            {
                break;
            }
        }

        return due;
    }

    /// <summary>Claims an entry for <paramref name="until"/>; false when another sweeper got it first.</summary>
    public async Task<bool> TryClaimAsync(TableEntity entry, DateTimeOffset until, CancellationToken cancellationToken)
    {
        entry["ClaimedUntil"] = until;
        try
        {
            await _index.UpdateEntityAsync(entry, entry.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            return false;
        }
    }

    public static string InstanceIdOf(TableEntity entry) => entry.RowKey[(entry.RowKey.IndexOf('|', StringComparison.Ordinal) + 1)..];

    public static WorkflowLocation LocationOf(TableEntity entry) =>
        new(entry.GetString("Table") ?? "", entry.GetString("Pk") ?? "", entry.GetString("Rk") ?? "");

    public Task RecordFaultAsync(InstanceRecord instance, CancellationToken cancellationToken) =>
        _faults.UpsertEntityAsync(new TableEntity(FaultsPartition, instance.InstanceId)
        {
            ["Table"] = instance.Location.Table,
            ["Pk"] = instance.Location.PartitionKey,
            ["Rk"] = instance.Location.RowKey,
            ["Workflow"] = instance.Workflow,
            ["State"] = instance.State,
            ["Error"] = instance.LastError,
            ["FaultedAt"] = instance.UpdatedAt,
        }, TableUpdateMode.Replace, cancellationToken);

    public async Task<WorkflowLocation?> FaultLocationAsync(string instanceId, CancellationToken cancellationToken)
    {
        var found = await _faults.GetEntityIfExistsAsync<TableEntity>(FaultsPartition, instanceId, cancellationToken: cancellationToken);
        return found.HasValue ? LocationOf(found.Value!) : null;
    }

    public async Task ClearFaultAsync(string instanceId, CancellationToken cancellationToken)
    {
        try
        {
            await _faults.DeleteEntityAsync(FaultsPartition, instanceId, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    public async Task<(IReadOnlyList<TableEntity> Faults, string? Continuation)> FaultsAsync(string? continuation, int pageSize, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {FaultsPartition}");
        await foreach (var page in _faults.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken).AsPages(continuation, pageSize))
        {
            return (page.Values, page.ContinuationToken);
        }

        return ([], null);
    }

    private static string Shard(int shard) => shard.ToString("D2", CultureInfo.InvariantCulture);

    private static int StableHash(string text)
    {
        // FNV-1a: the same in every process (string.GetHashCode is randomised per process).
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return unchecked((int)hash);
    }
}

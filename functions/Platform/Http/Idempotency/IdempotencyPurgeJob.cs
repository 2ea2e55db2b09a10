using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;

namespace BusinessApi.Platform.Http.Idempotency;

/// <summary>
/// Deletes idempotency records past their retention. Each claim also writes an entry in an expiry
/// index bucketed by hour, so a run reads only the buckets that have passed — never the records table.
/// A record taken over since (new expiry) is kept: it has a newer entry of its own.
/// </summary>
public sealed partial class IdempotencyPurgeJob(StorageResources storage, TimeProvider time, ILogger<IdempotencyPurgeJob> logger) : IScheduledJob
{
    public const string ExpiryTable = "IdempotencyExpiry";

    private readonly TableClient _records = storage.Table(IdempotencyMiddleware.TableName);
    private readonly TableClient _expiry = storage.Table(ExpiryTable);

    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:idempotency-purge:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "idempotency-purge";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 */15 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public static string Bucket(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyyMMddHH", CultureInfo.InvariantCulture);

    /// <summary>The index entry for a record that expires at <paramref name="expiresAt"/>.</summary>
    public static TableEntity IndexEntry(string recordPartition, DateTimeOffset expiresAt) => new(Bucket(expiresAt.AddHours(1)), recordPartition);

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var filter = TableClient.CreateQueryFilter($"PartitionKey le {Bucket(now)}");
        var purged = 0;
        await foreach (var entry in _expiry.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            var record = await _records.GetEntityIfExistsAsync<TableEntity>(entry.RowKey, "", cancellationToken: cancellationToken);
            if (record.HasValue && (record.Value!.GetDateTimeOffset("ExpiresAt") ?? DateTimeOffset.MaxValue) <= now)
            {
                try
                {
                    await _records.DeleteEntityAsync(entry.RowKey, "", record.Value.ETag, cancellationToken);
                    purged++;
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                {
                    // Taken over or deleted meanwhile: its newer index entry, if any, handles it.
                }
            }

            try
            {
                await _expiry.DeleteEntityAsync(entry.PartitionKey, entry.RowKey, ETag.All, cancellationToken);
            }
            catch (RequestFailedException ex) when (ex.Status == 404)
            {
            }
        }

        LogPurged(logger, purged);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Count} expired idempotency records")]
    private static partial void LogPurged(ILogger logger, int count);
}

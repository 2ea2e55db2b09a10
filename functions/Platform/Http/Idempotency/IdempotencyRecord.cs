using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Http.Idempotency;

/// <summary>The stored state of one key: claimed (in flight) or completed with the exact first answer.</summary>
internal sealed class IdempotencyRecord : ITableEntity
{
    /// <summary>The largest response body replayed byte for byte (table properties hold 64 KiB each).</summary>
    public const int MaxBodyBytes = 15 * ChunkBytes;

    private const int ChunkBytes = 60 * 1024;

    public string PartitionKey { get; set; } = "";

    public string RowKey { get; set; } = "";

    public DateTimeOffset? Timestamp { get; set; }

    public ETag ETag { get; set; }

    public string State { get; set; } = InFlight;

    public string RequestHash { get; set; } = "";

    public DateTimeOffset LeaseUntil { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public int StatusCode { get; set; }

    public string? Headers { get; set; }

    public const string InFlight = "inFlight";

    public const string Completed = "completed";

    public static TableEntity ToEntity(IdempotencyRecord record, byte[]? body)
    {
        ArgumentNullException.ThrowIfNull(record);
        var entity = new TableEntity(record.PartitionKey, record.RowKey)
        {
            [nameof(State)] = record.State,
            [nameof(RequestHash)] = record.RequestHash,
            [nameof(LeaseUntil)] = record.LeaseUntil,
            [nameof(ExpiresAt)] = record.ExpiresAt,
            [nameof(StatusCode)] = record.StatusCode,
            [nameof(Headers)] = record.Headers,
        };
        if (body is not null)
        {
            var chunks = 0;
            for (var offset = 0; offset < body.Length; offset += ChunkBytes, chunks++)
            {
                entity[$"Body{chunks}"] = body.AsSpan(offset, Math.Min(ChunkBytes, body.Length - offset)).ToArray();
            }

            entity["BodyChunks"] = chunks;
        }

        return entity;
    }

    public static (IdempotencyRecord Record, byte[] Body) FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        var record = new IdempotencyRecord
        {
            PartitionKey = entity.PartitionKey,
            RowKey = entity.RowKey,
            ETag = entity.ETag,
            State = entity.GetString(nameof(State)) ?? InFlight,
            RequestHash = entity.GetString(nameof(RequestHash)) ?? "",
            LeaseUntil = entity.GetDateTimeOffset(nameof(LeaseUntil)) ?? DateTimeOffset.MinValue,
            ExpiresAt = entity.GetDateTimeOffset(nameof(ExpiresAt)) ?? DateTimeOffset.MinValue,
            StatusCode = entity.GetInt32(nameof(StatusCode)) ?? 0,
            Headers = entity.GetString(nameof(Headers)),
        };
        var chunks = entity.GetInt32("BodyChunks") ?? 0;
        using var body = new MemoryStream();
        for (var i = 0; i < chunks; i++)
        {
            body.Write(entity.GetBinary($"Body{i}"));
        }

        return (record, body.ToArray());
    }
}

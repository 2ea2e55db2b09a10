using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Configuration;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Audit;

/// <summary>
/// The append-only event journal (R-04, R-64). Partitions are (subject, local day), so reading one
/// customer's day is one partition scan. Each append is one entity-group transaction: insert entry
/// n+1 and move the partition head from n (ETag-checked), so the chain never forks; the head is
/// cached, making the usual append a single storage call.
/// </summary>
public sealed partial class AuditJournal(
    StorageResources storage,
    TimeProvider time,
    IOptions<PlatformOptions> platform,
    ILogger<AuditJournal> logger) : IDisposable
{
    public const string TableName = "AuditJournal";
    public const string SystemSubject = "system";
    private const string HeadRowKey = "~head";
    private const int MaxAttempts = 50;
    private const int LockStripes = 64;

    private static readonly string[] ForbiddenDetailWords = ["secret", "password", "token", "signature", "pin", "apikey"];

    private readonly TableClient _table = storage.Table(TableName);
    // The chain heads this process last wrote: a guess; a stale one fails the head's ETag check and is read again.
    private readonly ConcurrentDictionary<string, (AuditHead Head, ETag ETag)> _heads = new(StringComparer.Ordinal);

    // Writers in one process queue per partition instead of racing; ETag retries are left for other processes.
    private readonly SemaphoreSlim[] _stripes = [.. Enumerable.Range(0, LockStripes).Select(_ => new SemaphoreSlim(1, 1))];

    public static string PartitionKey(string subject, DateOnly day) =>
        $"{subject}|{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}";

    public static string RowKey(long sequence) => sequence.ToString("D12", CultureInfo.InvariantCulture);

    public DateOnly LocalDay(DateTimeOffset instant) => DateOnly.FromDateTime(instant.ToOffset(platform.Value.LocalOffset).DateTime);

    public async Task<AuditEntry> AppendAsync(AuditRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        ValidateRecord(record);
        var at = time.GetUtcNow();
        var day = LocalDay(at);
        var partition = PartitionKey(record.Subject, day);
        var details = AuditChain.CanonicalDetails(record.Details);
        var atText = at.ToString("O", CultureInfo.InvariantCulture);
        var outcome = OutcomeText(record.Outcome);
        var stripe = _stripes[(int)(unchecked((uint)StringComparer.Ordinal.GetHashCode(partition)) % LockStripes)];
        await stripe.WaitAsync(cancellationToken);
        try
        {
            return await AppendLockedAsync(record, at, day, partition, details, atText, outcome, cancellationToken);
        }
        finally
        {
            stripe.Release();
        }
    }

    private async Task<AuditEntry> AppendLockedAsync(
        AuditRecord record, DateTimeOffset at, DateOnly day, string partition, string details, string atText, string outcome, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (head, etag) = _heads.TryGetValue(partition, out var cached) ? cached : await ReadHeadAsync(partition, cancellationToken);
            var sequence = head.Sequence + 1;
            var hash = AuditChain.ComputeHash(partition, sequence, atText, record.Actor, record.Action, outcome,
                record.Target, record.CorrelationId, details, head.Hash);
            var entry = new TableEntity(partition, RowKey(sequence))
            {
                ["At"] = atText,
                ["Actor"] = record.Actor,
                ["Action"] = record.Action,
                ["Outcome"] = outcome,
                ["Target"] = record.Target,
                ["CorrelationId"] = record.CorrelationId,
                ["Details"] = details,
                ["PreviousHash"] = head.Hash,
                ["Hash"] = hash,
            };
            var newHead = new TableEntity(partition, HeadRowKey) { ["Sequence"] = sequence, ["Hash"] = hash };
            TableTransactionAction[] actions = head.Sequence == 0 && etag == default
                ? [new(TableTransactionActionType.Add, entry), new(TableTransactionActionType.Add, newHead)]
                : [new(TableTransactionActionType.Add, entry), new(TableTransactionActionType.UpdateReplace, newHead, etag)];
            try
            {
                var response = await _table.SubmitTransactionAsync(actions, cancellationToken);
                _heads[partition] = (new AuditHead(sequence, hash), response.Value[1].Headers.ETag ?? default);
                return new AuditEntry(record.Subject, day, sequence, at, record.Actor, record.Action, record.Outcome,
                    record.Target, record.CorrelationId, record.Details ?? new Dictionary<string, string>(), head.Hash, hash);
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412 && attempt < MaxAttempts)
            {
                // Another writer appended first: forget our view of the head and chain after theirs.
                _heads.TryRemove(partition, out _);
                LogAppendRace(logger, attempt);
                await Task.Delay(Random.Shared.Next(1, 5 * Math.Min(attempt, 10)), cancellationToken);
            }
        }
    }

    public void Dispose()
    {
        foreach (var stripe in _stripes)
        {
            stripe.Dispose();
        }
    }

    /// <summary>One page of a partition's entries in order, with a continuation token.</summary>
    public async Task<(IReadOnlyList<StoredAuditEntry> Entries, string? Continuation)> ReadAsync(
        string subject, DateOnly day, string? continuation, int pageSize, CancellationToken cancellationToken)
    {
        var partition = PartitionKey(subject, day);
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey lt {HeadRowKey}");
        await foreach (var page in _table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken)
                           .AsPages(continuation, pageSize))
        {
            return ([.. page.Values.Select(ToStored)], page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>
    /// One page of a subject's entries over a range of days, oldest first: one range query over the
    /// subject's day partitions (they sort together), whatever the number of days.
    /// </summary>
    public async Task<(IReadOnlyList<StoredAuditEntry> Entries, string? Continuation)> ReadSubjectAsync(
        string subject, DateOnly from, DateOnly to, string? continuation, int pageSize, CancellationToken cancellationToken)
    {
        var first = PartitionKey(subject, from);
        var last = PartitionKey(subject, to);
        var filter = TableClient.CreateQueryFilter($"PartitionKey ge {first} and PartitionKey le {last} and RowKey lt {HeadRowKey}");
        await foreach (var page in _table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken)
                           .AsPages(continuation, pageSize))
        {
            return ([.. page.Values.Select(ToStored)], page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>Reads a whole partition and checks its chain against its head.</summary>
    public async Task<AuditVerification> VerifyAsync(string subject, DateOnly day, CancellationToken cancellationToken)
    {
        var partition = PartitionKey(subject, day);
        var entries = new List<StoredAuditEntry>();
        AuditHead? head = null;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (entity.RowKey == HeadRowKey)
            {
                head = new AuditHead(entity.GetInt64("Sequence") ?? 0, entity.GetString("Hash") ?? "");
            }
            else
            {
                entries.Add(ToStored(entity));
            }
        }

        return AuditChain.Verify(entries, head);
    }

    private async Task<(AuditHead, ETag)> ReadHeadAsync(string partition, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(partition, HeadRowKey, cancellationToken: cancellationToken);
        return found.HasValue
            ? (new AuditHead(found.Value!.GetInt64("Sequence") ?? 0, found.Value.GetString("Hash") ?? AuditChain.GenesisHash), found.Value.ETag)
            : (new AuditHead(0, AuditChain.GenesisHash), default);
    }

    private static StoredAuditEntry ToStored(TableEntity entity) => new(
        entity.PartitionKey,
        long.Parse(entity.RowKey, CultureInfo.InvariantCulture),
        entity.GetString("At") ?? "",
        entity.GetString("Actor") ?? "",
        entity.GetString("Action") ?? "",
        entity.GetString("Outcome") ?? "",
        entity.GetString("Target"),
        entity.GetString("CorrelationId"),
        entity.GetString("Details") ?? "{}",
        entity.GetString("PreviousHash") ?? "",
        entity.GetString("Hash") ?? "");

    private static string OutcomeText(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Success => "success",
        AuditOutcome.Denied => "denied",
        _ => "failed",
    };

    private static void ValidateRecord(AuditRecord record)
    {
        if (string.IsNullOrWhiteSpace(record.Subject) || record.Subject.IndexOfAny(['/', '\\', '#', '?', '|']) >= 0)
        {
            throw new ArgumentException("An audit subject must be non-empty and free of / \\ # ? |.", nameof(record));
        }

        foreach (var key in record.Details?.Keys ?? [])
        {
            if (ForbiddenDetailWords.Any(word => key.Contains(word, StringComparison.OrdinalIgnoreCase)))
            {
                throw new ArgumentException($"Audit detail '{key}' looks like a secret; the journal never stores secrets.", nameof(record));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audit append raced with another writer (attempt {Attempt})")]
    private static partial void LogAppendRace(ILogger logger, int attempt);
}

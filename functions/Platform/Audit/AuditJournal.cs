using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;
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
/// cached, making the usual append a single storage call. A subject's first append of a day links the
/// day to the subject's previous day and records the day in the day index the daily anchor reads
/// (<see cref="AuditAnchors"/>): a few more calls once per subject and day.
/// </summary>
public sealed partial class AuditJournal(
    StorageResources storage,
    TimeProvider time,
    IOptions<PlatformOptions> platform,
    IHttpContextAccessor httpContext,
    ILogger<AuditJournal> logger) : IDisposable
{
    public const string TableName = "AuditJournal";
    public const string SystemSubject = "system";
    private const string HeadRowKey = "~head";

    /// <summary>Partition of the subjects' latest days (row: subject): where a new day finds the day it links to.</summary>
    private const string SubjectsPartition = "~subjects";

    /// <summary>Partition prefix of the day index (<c>~days|yyyy-MM-dd</c>, row: subject): the partitions the anchor covers.</summary>
    private const string DaysPrefix = "~days|";
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
        record = record with { ActorName = record.ActorName ?? SignedInName(record.Actor) };
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
            string? link = null;
            if (sequence == 1)
            {
                (link, head) = await StartDayAsync(record.Subject, day, cancellationToken);
            }

            var hash = AuditChain.ComputeHash(partition, sequence, atText, record.Actor, record.Action, outcome,
                record.Target, record.CorrelationId, details, head.Hash, record.ActorName, link);
            var entry = new TableEntity(partition, RowKey(sequence))
            {
                ["At"] = atText,
                ["Actor"] = record.Actor,
                ["ActorName"] = record.ActorName,
                ["Link"] = link,
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
                    record.Target, record.CorrelationId, record.Details ?? new Dictionary<string, string>(), head.Hash, hash)
                {
                    ActorName = record.ActorName,
                };
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

    /// <summary>The signed-in operator's name when the request's caller is the record's actor.</summary>
    private string? SignedInName(string actor)
    {
        var user = httpContext.HttpContext?.User;
        return user is not null && string.Equals(user.FindFirstValue(ClaimTypes.NameIdentifier), actor, StringComparison.Ordinal)
            ? user.FindFirstValue(Security.OperatorRoles.NameClaim)
            : null;
    }

    /// <summary>
    /// A subject's first entry of <paramref name="day"/>: records the day in the day index (before the entry, so the
    /// anchor never misses a day that has entries) and finds the subject's last entry of an earlier day to chain to.
    /// </summary>
    private async Task<(string? Link, AuditHead Previous)> StartDayAsync(string subject, DateOnly day, CancellationToken cancellationToken)
    {
        await _table.UpsertEntityAsync(new TableEntity(DaysPrefix + DayText(day), subject), TableUpdateMode.Replace, cancellationToken);
        var previous = await LatestEarlierHeadAsync(subject, day, cancellationToken);
        await _table.UpsertEntityAsync(new TableEntity(SubjectsPartition, subject) { ["Day"] = DayText(day) }, TableUpdateMode.Replace, cancellationToken);
        return previous is { } p
            ? ($"{DayText(p.Day)}:{p.Head.Sequence.ToString(CultureInfo.InvariantCulture)}", p.Head)
            : (null, new AuditHead(0, AuditChain.GenesisHash));
    }

    /// <summary>The head of the subject's latest day before <paramref name="day"/>: the pointer's day when it is earlier, else a scan of the subject's heads.</summary>
    private async Task<(DateOnly Day, AuditHead Head)?> LatestEarlierHeadAsync(string subject, DateOnly day, CancellationToken cancellationToken)
    {
        var pointer = await _table.GetEntityIfExistsAsync<TableEntity>(SubjectsPartition, subject, cancellationToken: cancellationToken);
        if (pointer.HasValue && ParseDay(pointer.Value!.GetString("Day")) is { } last && last < day)
        {
            var (head, _) = await ReadHeadAsync(PartitionKey(subject, last), cancellationToken);
            if (head.Sequence > 0)
            {
                return (last, head);
            }
        }

        // No pointer, or it names this day (a start that crashed before its entry) or a day without a head: scan.
        (DateOnly Day, AuditHead Head)? latest = null;
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey ge {subject + "|"} and PartitionKey lt {PartitionKey(subject, day)} and RowKey eq {HeadRowKey}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (ParseDay(entity.PartitionKey[(subject.Length + 1)..]) is { } found)
            {
                latest = (found, new AuditHead(entity.GetInt64("Sequence") ?? 0, entity.GetString("Hash") ?? AuditChain.GenesisHash));
            }
        }

        return latest;
    }

    /// <summary>The subjects with entries on <paramref name="day"/>, from the day index.</summary>
    public async Task<IReadOnlyList<string>> SubjectsOfDayAsync(DateOnly day, CancellationToken cancellationToken)
    {
        var subjects = new List<string>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {DaysPrefix + DayText(day)}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            subjects.Add(entity.RowKey);
        }

        return subjects;
    }

    /// <summary>The earliest day in the day index, or null when the journal is empty.</summary>
    public async Task<DateOnly?> FirstDayAsync(CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey gt {DaysPrefix} and PartitionKey lt {DaysPrefix + "~"}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["PartitionKey"], cancellationToken: cancellationToken))
        {
            return ParseDay(entity.PartitionKey[DaysPrefix.Length..]);
        }

        return null;
    }

    /// <summary>A partition's head as stored (null when the partition has none).</summary>
    public async Task<AuditHead?> HeadAsync(string subject, DateOnly day, CancellationToken cancellationToken)
    {
        var (head, etag) = await ReadHeadAsync(PartitionKey(subject, day), cancellationToken);
        return etag == default ? null : head;
    }

    /// <summary>The stored hash of one entry, or null when it is not there.</summary>
    public async Task<string?> EntryHashAsync(string subject, DateOnly day, long sequence, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(PartitionKey(subject, day), RowKey(sequence), select: ["Hash"], cancellationToken: cancellationToken);
        return found.HasValue ? found.Value!.GetString("Hash") : null;
    }

    private static string DayText(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static DateOnly? ParseDay(string? text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day : null;

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

        // A day's first entry chains to the entry its link names; that entry must still be there, unchanged.
        var first = entries.MinBy(e => e.Sequence);
        string? firstPrevious = null;
        if (first?.Link is { } link)
        {
            var separator = link.LastIndexOf(':');
            var linkedDay = separator > 0 ? ParseDay(link[..separator]) : null;
            var linked = linkedDay is { } d && long.TryParse(link[(separator + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var s)
                ? await _table.GetEntityIfExistsAsync<TableEntity>(PartitionKey(subject, d), RowKey(s), cancellationToken: cancellationToken)
                : null;
            if (linked is not { HasValue: true })
            {
                return AuditVerification.Broken(entries.Count, first.Sequence, AuditBreak.LinkBroken);
            }

            firstPrevious = linked.Value!.GetString("Hash");
        }

        var result = AuditChain.Verify(entries, head, firstPrevious);
        return result with
        {
            Break = result.Break == AuditBreak.ChainBroken && result.BrokenAtSequence == first?.Sequence && first?.Link is not null
                ? AuditBreak.LinkBroken
                : result.Break,
            Head = head,
        };
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
        entity.GetString("Hash") ?? "")
    {
        ActorName = entity.GetString("ActorName"),
        Link = entity.GetString("Link"),
    };

    private static string OutcomeText(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Success => "success",
        AuditOutcome.Denied => "denied",
        _ => "failed",
    };

    private static void ValidateRecord(AuditRecord record)
    {
        if (string.IsNullOrWhiteSpace(record.Subject) || record.Subject.IndexOfAny(['/', '\\', '#', '?', '|']) >= 0 || record.Subject.StartsWith('~'))
        {
            throw new ArgumentException("An audit subject must be non-empty, free of / \\ # ? | and not start with ~.", nameof(record));
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

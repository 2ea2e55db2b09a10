using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;

namespace BusinessApi.Platform.Audit;

/// <summary>
/// The journal's daily anchors: once a local day has closed, the head (last sequence and hash) of every
/// subject partition of that day, chained to the previous day's anchor, written once to the WORM archive
/// container (<c>audit-anchors/yyyy/yyyy-MM-dd.json</c>). The app may write the journal's table, so it could
/// rewrite and re-hash a day; it cannot change an anchor (write-once here, a locked immutability policy in
/// Azure), so verification against the anchor finds a rewritten entry, a deleted entry and a deleted day.
/// </summary>
public sealed partial class AuditAnchors(StorageResources storage, AuditJournal journal, TimeProvider time, ILogger<AuditAnchors> logger)
{
    /// <summary>The archive container (the same WORM container as the document archive, its own account in Azure).</summary>
    public const string ContainerName = "archive";
    public const string Prefix = "audit-anchors/";
    public const int Version = 1;

    /// <summary>How many closed days one run anchors at most (after an outage it catches up over several runs).</summary>
    public const int MaxDaysPerRun = 400;

    private readonly BlobContainerClient _container = storage.Container(ContainerName);

    public static string BlobName(DateOnly day) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}{day:yyyy}/{day:yyyy-MM-dd}.json");

    /// <summary>The anchor of <paramref name="day"/>, or null when the day has none (yet).</summary>
    public async Task<AuditAnchor?> ReadAsync(DateOnly day, CancellationToken cancellationToken)
    {
        try
        {
            var content = await _container.GetBlobClient(BlobName(day)).DownloadContentAsync(cancellationToken);
            return JsonSerializer.Deserialize<AuditAnchor>(content.Value.Content.ToMemory().Span, PlatformExtensions.JsonOptions);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Anchors every closed local day not yet anchored, oldest first; returns the anchors written.</summary>
    public async Task<IReadOnlyList<AuditAnchor>> AnchorClosedDaysAsync(CancellationToken cancellationToken)
    {
        var yesterday = journal.LocalDay(time.GetUtcNow()).AddDays(-1);
        var last = await LatestAsync(yesterday.AddDays(1), cancellationToken);
        DateOnly? start = last is not null ? last.Day.AddDays(1) : await journal.FirstDayAsync(cancellationToken);
        var written = new List<AuditAnchor>();
        for (var day = start; day is { } d && d <= yesterday && written.Count < MaxDaysPerRun; day = d.AddDays(1))
        {
            last = await WriteAsync(d, last, cancellationToken);
            written.Add(last);
        }

        return written;
    }

    /// <summary>The latest anchor of a day before <paramref name="before"/>, or null.</summary>
    public async Task<AuditAnchor?> LatestAsync(DateOnly before, CancellationToken cancellationToken)
    {
        string? latest = null;
        var limit = BlobName(before);
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = Prefix }, cancellationToken))
        {
            if (string.CompareOrdinal(blob.Name, limit) < 0 && (latest is null || string.CompareOrdinal(blob.Name, latest) > 0))
            {
                latest = blob.Name;
            }
        }

        return latest is null || !DateOnly.TryParseExact(Path.GetFileNameWithoutExtension(latest), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? null
            : await ReadAsync(day, cancellationToken);
    }

    private async Task<AuditAnchor> WriteAsync(DateOnly day, AuditAnchor? previous, CancellationToken cancellationToken)
    {
        var heads = new List<AnchoredHead>();
        foreach (var subject in (await journal.SubjectsOfDayAsync(day, cancellationToken)).Order(StringComparer.Ordinal))
        {
            if (await journal.HeadAsync(subject, day, cancellationToken) is { Sequence: > 0 } head)
            {
                heads.Add(new AnchoredHead(subject, head.Sequence, head.Hash));
            }
        }

        var anchor = AuditAnchor.Create(day, previous, heads, time.GetUtcNow());
        var blob = _container.GetBlobClient(BlobName(day));
        try
        {
            await blob.UploadAsync(new BinaryData(JsonSerializer.SerializeToUtf8Bytes(anchor, PlatformExtensions.JsonOptions)),
                new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
            LogAnchored(logger, day, heads.Count);
            return anchor;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another instance anchored the day first: theirs stands (write-once), and the chain continues from it.
            return await ReadAsync(day, cancellationToken) ?? throw new InvalidOperationException($"The anchor of {day:yyyy-MM-dd} exists but cannot be read.", ex);
        }
    }

    /// <summary>
    /// One subject's day: its chain and link (<see cref="AuditJournal.VerifyAsync"/>), then its anchor when the day
    /// has one. Entries after the anchored head (written after the anchor) are reported, not counted as tampering.
    /// </summary>
    public async Task<AnchoredVerification> VerifyAsync(string subject, DateOnly day, CancellationToken cancellationToken) =>
        await VerifyAsync(subject, day, await ReadAsync(day, cancellationToken), cancellationToken);

    private async Task<AnchoredVerification> VerifyAsync(string subject, DateOnly day, AuditAnchor? anchor, CancellationToken cancellationToken)
    {
        var chain = await journal.VerifyAsync(subject, day, cancellationToken);
        var anchored = anchor?.Partitions.FirstOrDefault(p => string.Equals(p.Subject, subject, StringComparison.Ordinal));
        if (anchor is not null && !anchor.HashIsValid())
        {
            return new AnchoredVerification(chain with { Intact = false }, AnchorState.AnchorInvalid, anchored);
        }

        if (!chain.Intact || anchored is null)
        {
            return new AnchoredVerification(chain, anchor is null ? AnchorState.NotAnchored : AnchorState.NotInAnchor, anchored);
        }

        if (chain.Entries == 0)
        {
            return new AnchoredVerification(AuditVerification.Broken(0, 1, AuditBreak.DayMissing), AnchorState.Mismatch, anchored);
        }

        // An intact chain numbers its entries 1..Entries and its head holds the last hash: only entries written after
        // the anchor make the anchored entry's hash a read of its own.
        var stored = anchored.Sequence > chain.Entries ? null
            : chain.Head is { } head && head.Sequence == anchored.Sequence ? head.Hash
            : await journal.EntryHashAsync(subject, day, anchored.Sequence, cancellationToken);
        if (stored is null)
        {
            return new AnchoredVerification(AuditVerification.Broken(chain.Entries, chain.Entries + 1L, AuditBreak.EntriesMissing), AnchorState.Mismatch, anchored);
        }

        if (!string.Equals(stored, anchored.Hash, StringComparison.Ordinal))
        {
            return new AnchoredVerification(AuditVerification.Broken(chain.Entries, anchored.Sequence, AuditBreak.AnchorMismatch), AnchorState.Mismatch, anchored);
        }

        return new AnchoredVerification(chain, AnchorState.Matches, anchored) { EntriesAfterAnchor = Math.Max(0, chain.Entries - (int)anchored.Sequence) };
    }

    /// <summary>
    /// A whole anchored day: the anchor's own hash and its link to the previous anchor, and every partition it lists
    /// against the table — so a day deleted from the table (entries, head and index) is still found.
    /// </summary>
    public async Task<DayVerification> VerifyDayAsync(AuditAnchor anchor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        var day = anchor.Day;
        var previous = await LatestAsync(day, cancellationToken);
        var linked = previous is null
            ? anchor.PreviousHash == AuditChain.GenesisHash
            : anchor.PreviousDay == previous.Day && anchor.PreviousHash == previous.Hash;
        var partitions = new List<PartitionFinding>();
        foreach (var head in anchor.Partitions)
        {
            var result = await VerifyAsync(head.Subject, day, anchor, cancellationToken);
            partitions.Add(new PartitionFinding(head.Subject, result.Chain.Intact && result.Anchor == AnchorState.Matches, result.Chain.Entries,
                head.Sequence, result.Chain.BrokenAtSequence, result.Chain.Break));
        }

        var intact = anchor.HashIsValid() && linked && partitions.All(p => p.Intact);
        return new DayVerification(day, intact, anchor.HashIsValid(), linked, anchor.Hash, partitions);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit journal of {Day} anchored: {Partitions} partitions")]
    private static partial void LogAnchored(ILogger logger, DateOnly day, int partitions);
}

/// <summary>Writes the anchors of closed days, shortly after local midnight.</summary>
public sealed class AuditAnchorJob(AuditAnchors anchors) : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:audit-anchor:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "audit-anchor";

    /// <summary>
    /// 00:20 in the timers' offset (<c>Timers:UtcOffset</c>; UTC by default, as Functions' timers without
    /// <c>WEBSITE_TIME_ZONE</c>): the day's last entries have landed. Also the Functions head's timer trigger.
    /// </summary>
    public const string Schedule = "0 20 0 * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public Task RunAsync(ScheduledRun run, CancellationToken cancellationToken) => anchors.AnchorClosedDaysAsync(cancellationToken);
}

/// <summary>One subject partition's head as the anchor recorded it.</summary>
public sealed record AnchoredHead(string Subject, long Sequence, string Hash);

/// <summary>A day's anchor: every partition's head, chained to the previous anchor by its hash.</summary>
public sealed record AuditAnchor(int Version, DateOnly Day, DateOnly? PreviousDay, string PreviousHash, IReadOnlyList<AnchoredHead> Partitions, DateTimeOffset CreatedAt, string Hash)
{
    public static AuditAnchor Create(DateOnly day, AuditAnchor? previous, IReadOnlyList<AnchoredHead> partitions, DateTimeOffset createdAt)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        var previousHash = previous?.Hash ?? AuditChain.GenesisHash;
        return new AuditAnchor(AuditAnchors.Version, day, previous?.Day, previousHash, partitions, createdAt,
            ComputeHash(AuditAnchors.Version, day, previous?.Day, previousHash, partitions));
    }

    /// <summary>Whether <see cref="Hash"/> covers the anchor's content (the creation time is not covered).</summary>
    public bool HashIsValid() => string.Equals(Hash, ComputeHash(Version, Day, PreviousDay, PreviousHash, Partitions), StringComparison.Ordinal);

    private static string ComputeHash(int version, DateOnly day, DateOnly? previousDay, string previousHash, IReadOnlyList<AnchoredHead> partitions)
    {
        var fields = new List<string>
        {
            version.ToString(CultureInfo.InvariantCulture),
            day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            previousDay?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
            previousHash,
        };
        fields.AddRange(partitions.Select(p => $"{p.Subject}|{p.Sequence.ToString(CultureInfo.InvariantCulture)}|{p.Hash}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(fields))));
    }
}

public enum AnchorState
{
    /// <summary>The day has no anchor yet (today, or the job has not run): only the chain was checked.</summary>
    NotAnchored,

    /// <summary>The day's anchor does not list this subject (no entries when it was written).</summary>
    NotInAnchor,

    /// <summary>The table ends in the anchored head.</summary>
    Matches,

    /// <summary>The table disagrees with the anchor.</summary>
    Mismatch,

    /// <summary>The anchor's own hash does not cover its content.</summary>
    AnchorInvalid,
}

/// <summary>A subject's day checked against its chain, its link and its anchor.</summary>
public sealed record AnchoredVerification(AuditVerification Chain, AnchorState Anchor, AnchoredHead? Anchored)
{
    public int EntriesAfterAnchor { get; init; }
}

public sealed record PartitionFinding(string Subject, bool Intact, int Entries, long AnchoredSequence, long? BrokenAtSequence, AuditBreak? Break);

public sealed record DayVerification(DateOnly Day, bool Intact, bool AnchorHashValid, bool LinkedToPrevious, string AnchorHash, IReadOnlyList<PartitionFinding> Partitions);

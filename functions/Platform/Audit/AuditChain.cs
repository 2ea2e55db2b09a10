using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace BusinessApi.Platform.Audit;

/// <summary>
/// The hash chain of the journal, pure: each entry's hash covers its fields and the previous entry's
/// hash, and the partition's head holds the last sequence and hash, so an altered, removed, inserted
/// or truncated entry is detected. A day's first entry chains to the hash of the subject's last entry of
/// its previous day (its <c>link</c>), so the days of a subject form one chain; whoever can write the
/// table can still re-hash it all, which the daily anchors in the WORM archive catch (<see cref="AuditAnchors"/>).
/// </summary>
public static class AuditChain
{
    public static readonly string GenesisHash = new('0', 64);

    public static string ComputeHash(
        string partition, long sequence, string at, string actor, string action, string outcome,
        string? target, string? correlationId, string details, string previousHash, string? actorName = null, string? link = null)
    {
        // A JSON array of strings is an unambiguous, stable encoding of the fields. The later, optional fields
        // are tagged and appended only when present, so entries written before they existed verify unchanged.
        List<string> fields =
        [
            partition, sequence.ToString(CultureInfo.InvariantCulture), at, actor, action, outcome,
            target ?? "", correlationId ?? "", details, previousHash,
        ];
        if (actorName is not null)
        {
            fields.Add("name:" + actorName);
        }

        if (link is not null)
        {
            fields.Add("link:" + link);
        }

        var canonical = JsonSerializer.Serialize(fields);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public static string CanonicalDetails(IReadOnlyDictionary<string, string>? details) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(
            details?.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal) ?? [], StringComparer.Ordinal));

    /// <summary>
    /// Checks a partition's entries (any order) against its head; the first entry must chain to
    /// <paramref name="firstPrevious"/> (the linked entry's hash, or the genesis hash).
    /// </summary>
    public static AuditVerification Verify(IEnumerable<StoredAuditEntry> entries, AuditHead? head, string? firstPrevious = null)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var ordered = entries.OrderBy(e => e.Sequence).ToList();
        var previous = firstPrevious ?? GenesisHash;
        long expected = 1;
        foreach (var entry in ordered)
        {
            if (entry.Sequence != expected)
            {
                return AuditVerification.Broken(ordered.Count, expected, AuditBreak.SequenceGap);
            }

            if (!string.Equals(entry.PreviousHash, previous, StringComparison.Ordinal))
            {
                return AuditVerification.Broken(ordered.Count, entry.Sequence, AuditBreak.ChainBroken);
            }

            var recomputed = ComputeHash(entry.Partition, entry.Sequence, entry.At, entry.Actor, entry.Action, entry.Outcome,
                entry.Target, entry.CorrelationId, entry.Details, entry.PreviousHash, entry.ActorName, entry.Link);
            if (!string.Equals(recomputed, entry.Hash, StringComparison.Ordinal))
            {
                return AuditVerification.Broken(ordered.Count, entry.Sequence, AuditBreak.HashMismatch);
            }

            previous = entry.Hash;
            expected++;
        }

        var lastSequence = expected - 1;
        if ((head?.Sequence ?? 0) != lastSequence || (head is not null && !string.Equals(head.Hash, previous, StringComparison.Ordinal)))
        {
            return AuditVerification.Broken(ordered.Count, Math.Min(lastSequence + 1, head?.Sequence ?? lastSequence + 1), AuditBreak.HeadMismatch);
        }

        return new AuditVerification(true, ordered.Count, null, null);
    }
}

/// <summary>An entry as stored, every hashed field in its stored text form.</summary>
public sealed record StoredAuditEntry(
    string Partition, long Sequence, string At, string Actor, string Action, string Outcome,
    string? Target, string? CorrelationId, string Details, string PreviousHash, string Hash)
{
    public string? ActorName { get; init; }

    /// <summary>On a day's first entry: <c>yyyy-MM-dd:sequence</c> of the subject's entry it chains to.</summary>
    public string? Link { get; init; }
}

/// <summary>The last sequence and hash of a partition.</summary>
public sealed record AuditHead(long Sequence, string Hash);

public enum AuditBreak
{
    HashMismatch,
    ChainBroken,
    SequenceGap,
    HeadMismatch,

    /// <summary>The day's first entry links to an entry of an earlier day that is gone or differs.</summary>
    LinkBroken,

    /// <summary>The entries no longer end in the head the day's anchor recorded: rewritten and re-hashed.</summary>
    AnchorMismatch,

    /// <summary>Fewer entries than the day's anchor recorded: entries at the end were deleted.</summary>
    EntriesMissing,

    /// <summary>The anchor lists this subject's day, but the table has no entry of it.</summary>
    DayMissing,
}

/// <summary>The verifier's finding: intact, or where and how the chain breaks.</summary>
public sealed record AuditVerification(bool Intact, int Entries, long? BrokenAtSequence, AuditBreak? Break)
{
    /// <summary>The partition's head as stored, when it has one.</summary>
    public AuditHead? Head { get; init; }

    public static AuditVerification Broken(int entries, long at, AuditBreak kind) => new(false, entries, at, kind);
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace BusinessApi.Platform.Audit;

/// <summary>
/// The hash chain of the journal, pure: each entry's hash covers its fields and the previous entry's
/// hash, and the partition's head holds the last sequence and hash, so an altered, removed, inserted
/// or truncated entry is detected.
/// </summary>
public static class AuditChain
{
    public static readonly string GenesisHash = new('0', 64);

    public static string ComputeHash(
        string partition, long sequence, string at, string actor, string action, string outcome,
        string? target, string? correlationId, string details, string previousHash)
    {
        // A JSON array of strings is an unambiguous, stable encoding of the fields.
        var canonical = JsonSerializer.Serialize(new[]
        {
            partition, sequence.ToString(CultureInfo.InvariantCulture), at, actor, action, outcome,
            target ?? "", correlationId ?? "", details, previousHash,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public static string CanonicalDetails(IReadOnlyDictionary<string, string>? details) =>
        JsonSerializer.Serialize(new SortedDictionary<string, string>(
            details?.ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal) ?? [], StringComparer.Ordinal));

    /// <summary>Checks a partition's entries (any order) against its head.</summary>
    public static AuditVerification Verify(IEnumerable<StoredAuditEntry> entries, AuditHead? head)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var ordered = entries.OrderBy(e => e.Sequence).ToList();
        var previous = GenesisHash;
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
                entry.Target, entry.CorrelationId, entry.Details, entry.PreviousHash);
            if (!string.Equals(recomputed, entry.Hash, StringComparison.Ordinal))
            {
                return AuditVerification.Broken(ordered.Count, entry.Sequence, AuditBreak.HashMismatch);
            }

            previous = entry.Hash;
            expected++;
        }

        var lastSequence = expected - 1;
        if ((head?.Sequence ?? 0) != lastSequence || !string.Equals(head?.Hash ?? GenesisHash, previous, StringComparison.Ordinal))
        {
            return AuditVerification.Broken(ordered.Count, Math.Min(lastSequence + 1, head?.Sequence ?? lastSequence + 1), AuditBreak.HeadMismatch);
        }

        return new AuditVerification(true, ordered.Count, null, null);
    }
}

/// <summary>An entry as stored, every hashed field in its stored text form.</summary>
public sealed record StoredAuditEntry(
    string Partition, long Sequence, string At, string Actor, string Action, string Outcome,
    string? Target, string? CorrelationId, string Details, string PreviousHash, string Hash);

/// <summary>The last sequence and hash of a partition.</summary>
public sealed record AuditHead(long Sequence, string Hash);

public enum AuditBreak
{
    HashMismatch,
    ChainBroken,
    SequenceGap,
    HeadMismatch,
}

/// <summary>The verifier's finding: intact, or where and how the chain breaks.</summary>
public sealed record AuditVerification(bool Intact, int Entries, long? BrokenAtSequence, AuditBreak? Break)
{
    public static AuditVerification Broken(int entries, long at, AuditBreak kind) => new(false, entries, at, kind);
}

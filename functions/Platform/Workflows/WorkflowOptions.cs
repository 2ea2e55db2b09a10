using System.ComponentModel.DataAnnotations;
namespace BusinessApi.Platform.Workflows;

/// <summary>Engine settings (appsettings.json <c>workflows</c>).</summary>
public sealed class WorkflowOptions
{
    public const string Section = "Workflows";

    /// <summary>How long an instance's last progress protects it from recovery by another worker (W4's bound).</summary>
    [Range(1, 3600)]
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>How often each process sweeps the due index (timers and recovery).</summary>
    [Range(10, 60_000)]
    public int SweepIntervalMilliseconds { get; set; } = 1000;

    /// <summary>Due entries taken per shard per sweep.</summary>
    [Range(1, 1000)]
    public int SweepBatchSize { get; set; } = 100;

    /// <summary>
    /// Shards of the due index new entries go to. Few shards let entries written at the same moment share one
    /// transaction (the index is group-committed per shard); more spread a very busy deployment's partitions.
    /// </summary>
    [Range(1, 64)]
    public int IndexShards { get; set; } = 4;

    /// <summary>
    /// Shards swept (at least <see cref="IndexShards"/>): keep it at the most shards the deployment ever wrote to, so entries
    /// written under an earlier, larger <see cref="IndexShards"/> are still swept.
    /// </summary>
    [Range(1, 64)]
    public int SweptShards { get; set; } = 16;

    /// <summary>Tries of a failing step before the instance is parked as faulted (W6).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    [Range(1, 3_600_000)]
    public int RetryBaseMilliseconds { get; set; } = 1000;

    [Range(1, 86_400)]
    public int RetryMaxSeconds { get; set; } = 300;

    /// <summary>
    /// Transitions group-committed in one write: steps that only move on (no writes of their own, no messages) run one after
    /// another in memory, and the write that ends the chain records them all, each in the history with its time. A crash
    /// mid-chain runs the chain again from its last write (every effect is idempotent, W2). 1 writes every transition.
    /// </summary>
    [Range(1, 100)]
    public int ChainedSteps { get; set; } = 16;

    /// <summary>Steps run at once in this process.</summary>
    [Range(1, 4096)]
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>Waits due sooner than this are also timed in memory, so they fire on time without waiting for a sweep.</summary>
    [Range(0, 3600)]
    public int InMemoryTimerHorizonSeconds { get; set; } = 60;

    /// <summary>Transitions kept in an instance's history (older ones are counted, not kept).</summary>
    [Range(1, 1000)]
    public int HistoryLimit { get; set; } = 100;

    /// <summary>How long a due start intent whose instance row never appeared is kept before it is deleted as garbage.</summary>
    [Range(1, 86_400)]
    public int OrphanGraceSeconds { get; set; } = 600;

    /// <summary>Whether this process runs steps at all (off: it only starts instances; others work them).</summary>
    public bool Worker { get; set; } = true;
}

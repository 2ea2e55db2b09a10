using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// Every process sweeps the due index (W7): an entry that is due means a timer fired or an instance
/// stopped making progress (a crash). A sweeper claims the entry (ETag) for one lease so the others
/// skip it, then the engine recovers the instance. Reads touch only due entries.
/// </summary>
internal sealed partial class WorkflowSweeper(
    WorkflowRunner runner,
    WorkflowIndex index,
    WorkflowWorkQueue queue,
    TimeProvider time,
    IOptions<WorkflowOptions> options,
    ILogger<WorkflowSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Worker)
        {
            return;
        }

        var interval = TimeSpan.FromMilliseconds(Math.Max(10, options.Value.SweepIntervalMilliseconds));
        while (!stoppingToken.IsCancellationRequested)
        {
            var started = time.GetUtcNow();
            try
            {
                await SweepOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever failed, the sweeper must live on: it is what recovers everything else.
                LogSweepFailed(logger, ex);
            }

            if (time.GetUtcNow() - started >= interval)
            {
                // A whole interval passed while sweeping (a slow store, or a clock moved on): what came due
                // meanwhile was not in this pass, so look again now rather than a full interval later.
                continue;
            }

            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass over every shard; returns how many due entries this process took.</summary>
    public async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var taken = 0;
        var now = time.GetUtcNow();
        var lease = TimeSpan.FromSeconds(options.Value.LeaseSeconds);
        await Parallel.ForEachAsync(index.Shards, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (shard, ct) =>
        {
            // Leave work for other processes when this one is already busy.
            if (queue.Pending > options.Value.MaxConcurrency * 4)
            {
                return;
            }

            foreach (var entry in await index.DueAsync(shard, now, options.Value.SweepBatchSize, ct))
            {
                if (runner.TimesItself(WorkflowIndex.InstanceIdOf(entry)))
                {
                    continue; // this process' own timer runs it
                }

                if (await index.TryClaimAsync(entry, now + lease, ct))
                {
                    Interlocked.Increment(ref taken);
                    queue.Enqueue(async (_, work) =>
                    {
                        try
                        {
                            await runner.RecoverAsync(entry, work);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException || !work.IsCancellationRequested)
                        {
                            LogRecoveryFailed(logger, WorkflowIndex.InstanceIdOf(entry), ex);
                        }
                    });
                }
            }
        });
        return taken;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A workflow sweep failed; the next one retries")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recovery of workflow instance {InstanceId} failed; its entry comes due again after the lease")]
    private static partial void LogRecoveryFailed(ILogger logger, string instanceId, Exception exception);
}

/// <summary>
/// A sweep on demand, for a host that was woken because something came due (the Functions head's queue trigger):
/// the same pass the background sweeper makes every <see cref="WorkflowOptions.SweepIntervalMilliseconds"/>.
/// </summary>
public sealed class WorkflowSweeps
{
    private readonly WorkflowSweeper _sweeper;

    internal WorkflowSweeps(WorkflowSweeper sweeper) => _sweeper = sweeper;

    /// <summary>Takes what is due in every shard of the due index; returns how many entries this process took.</summary>
    public Task<int> SweepNowAsync(CancellationToken cancellationToken) => _sweeper.SweepOnceAsync(cancellationToken);
}

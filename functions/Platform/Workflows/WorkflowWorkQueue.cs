using System.Threading.Channels;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// In-process work for the <see cref="WorkflowRunner"/>: instances made due by a commit, a start, an event or
/// a timer, and what sweeps found. The runner consumes it (at most <see cref="WorkflowOptions.MaxConcurrency"/>
/// items at a time); starters only write to it, so they need not know the runner. Nothing here is durable —
/// what is queued when the process dies is recovered from the due index by a sweep.
/// </summary>
internal sealed partial class WorkflowWorkQueue(ILogger<WorkflowWorkQueue> logger)
{
    private readonly Channel<Func<WorkflowRunner, CancellationToken, Task>> _work = Channel.CreateUnbounded<Func<WorkflowRunner, CancellationToken, Task>>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    private int _pending;

    /// <summary>Work queued or running; sweeps hold back while this is high.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public void Enqueue(Func<WorkflowRunner, CancellationToken, Task> work)
    {
        Interlocked.Increment(ref _pending);
        if (!_work.Writer.TryWrite(work))
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>One of the runner's consumers: runs items until the host stops.</summary>
    public async Task ConsumeAsync(WorkflowRunner runner, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var work in _work.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await work(runner, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogWorkFailed(logger, ex);
                }
                finally
                {
                    Interlocked.Decrement(ref _pending);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workflow work item failed; it is recovered by a sweep")]
    private static partial void LogWorkFailed(ILogger logger, Exception exception);
}

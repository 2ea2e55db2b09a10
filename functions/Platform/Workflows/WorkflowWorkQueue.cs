using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// In-process work: steps made due by a commit run here at once, at most
/// <see cref="WorkflowOptions.MaxConcurrency"/> at a time. Nothing here is durable — what is queued
/// when the process dies is recovered from the due index by a sweep.
/// </summary>
internal sealed partial class WorkflowWorkQueue(IOptions<WorkflowOptions> options, ILogger<WorkflowWorkQueue> logger) : BackgroundService
{
    private readonly Channel<Func<CancellationToken, Task>> _work = Channel.CreateUnbounded<Func<CancellationToken, Task>>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    private int _pending;

    /// <summary>Work queued or running; sweeps hold back while this is high.</summary>
    public int Pending => Volatile.Read(ref _pending);

    public void Enqueue(Func<CancellationToken, Task> work)
    {
        Interlocked.Increment(ref _pending);
        if (!_work.Writer.TryWrite(work))
        {
            Interlocked.Decrement(ref _pending);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.MaxConcurrency)).Select(_ => ConsumeAsync(stoppingToken)));

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var work in _work.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await work(stoppingToken);
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

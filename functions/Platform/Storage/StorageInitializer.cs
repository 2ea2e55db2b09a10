using Azure;

namespace BusinessApi.Platform.Storage;

/// <summary>
/// Creates every registered table, queue and container once per process start, so request paths never
/// pay a "create if not exists" call. If storage is down at start the app still starts, keeps trying in
/// the background, and reports not-ready on /readyz until it succeeds.
/// </summary>
public sealed partial class StorageInitializer(
    StorageResources storage,
    IEnumerable<StorageResource> resources,
    ILogger<StorageInitializer> logger) : BackgroundService
{
    private static readonly TimeSpan InlineAttemptLimit = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompletedSuccessfully;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // One bounded attempt inline, so a healthy start serves its first request with everything in
        // place, while a storage outage cannot keep /healthz from answering (the server starts after this).
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        startup.CancelAfter(InlineAttemptLimit);
        try
        {
            await CreateAllAsync(startup.Token);
        }
        catch (Exception ex) when (ex is RequestFailedException or HttpRequestException or AggregateException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogStorageNotReady(logger, ex);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        while (!IsReady && !stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(delay, stoppingToken);
            try
            {
                await CreateAllAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogStorageNotReady(logger, ex);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    private async Task CreateAllAsync(CancellationToken cancellationToken)
    {
        var distinct = resources.Distinct().ToList();
        await Task.WhenAll(distinct.Select(resource => resource.Kind switch
        {
            StorageResourceKind.Table => storage.Table(resource.LogicalName).CreateIfNotExistsAsync(cancellationToken),
            StorageResourceKind.Queue => storage.Queue(resource.LogicalName).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            _ => (Task)storage.Container(resource.LogicalName).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
        }));
        _ready.TrySetResult();
        LogStorageReady(logger, distinct.Count);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage is not reachable yet; retrying in the background")]
    private static partial void LogStorageNotReady(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage ready: {Count} tables, queues and containers in place")]
    private static partial void LogStorageReady(ILogger logger, int count);
}

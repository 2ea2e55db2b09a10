using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BusinessApi.Platform.Health;

/// <summary>Ready when the app's tables exist and Tables, Queues and Blobs all answer within two seconds.</summary>
public sealed class StorageHealthCheck(StorageResources storage, StorageInitializer initializer) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!initializer.IsReady)
        {
            return HealthCheckResult.Unhealthy("Storage resources are not created yet.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await Task.WhenAll(
                storage.TableService.QueryAsync(maxPerPage: 1, cancellationToken: timeout.Token).AsPages().GetAsyncEnumerator(timeout.Token).MoveNextAsync().AsTask(),
                storage.QueueService.GetPropertiesAsync(timeout.Token),
                storage.BlobService.GetPropertiesAsync(timeout.Token));
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (StorageFaults.IsTransient(ex))
        {
            return HealthCheckResult.Unhealthy("Storage is not reachable.", ex is OperationCanceledException ? null : ex);
        }
    }
}

using Azure;

namespace BusinessApi.Platform.Storage;

/// <summary>What a storage call throws when storage failed or could not be reached, as opposed to a bug.</summary>
public static class StorageFaults
{
    /// <summary>
    /// A storage call that failed, or timed out (the SDK cancels a call past its network timeout; the caller is still
    /// there), or all of the SDK's tries of one (it throws them together once its retries are spent).
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        RequestFailedException or TimeoutException or HttpRequestException or OperationCanceledException => true,
        AggregateException all => all.Flatten().InnerExceptions is { Count: > 0 } inner && inner.All(IsTransient),
        _ => false,
    };
}

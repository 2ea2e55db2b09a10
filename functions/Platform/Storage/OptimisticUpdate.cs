using Azure;

namespace BusinessApi.Platform.Storage;

/// <summary>
/// Read–decide–write under an ETag: the change is decided on the value as read, written only if the row
/// is still that version, and decided afresh on a new read after a race (HTTP 412) or a lost answer
/// (status 0). A change that returns null means there is nothing to do.
/// </summary>
public static class OptimisticUpdate
{
    public const int MaxAttempts = 20;

    /// <returns>The value as stored afterwards with its ETag, or null when the row is gone.</returns>
    public static async Task<(T Value, ETag ETag)?> ApplyAsync<T>(
        T value,
        ETag etag,
        Func<T, T?> change,
        Func<T, ETag, Task<ETag>> replace,
        Func<Task<(T Value, ETag ETag)?>> reload)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(replace);
        ArgumentNullException.ThrowIfNull(reload);
        (T Value, ETag ETag) current = (value, etag);
        for (var attempt = 1; ; attempt++)
        {
            var changed = change(current.Value);
            if (changed is null)
            {
                return current;
            }

            try
            {
                return (changed, await replace(changed, current.ETag));
            }
            catch (RequestFailedException ex) when (ex.Status is 412 or 0 && attempt < MaxAttempts)
            {
                if (await reload() is not { } fresh)
                {
                    return null;
                }

                current = fresh;
            }
        }
    }
}

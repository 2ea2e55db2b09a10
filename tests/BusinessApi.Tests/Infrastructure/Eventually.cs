namespace BusinessApi.Tests.Infrastructure;

/// <summary>Waits for background work (in-process workers, other processes) to reach a state; never used to let a deadline pass.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(
        Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null, string? what = null, TimeSpan? interval = null, Func<T, string>? describe = null)
    {
        var limit = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > limit)
            {
                throw new TimeoutException($"Not reached in time: {what ?? "condition"}; last value: {(describe is null ? value : describe(value))}");
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(20));
        }
    }
}

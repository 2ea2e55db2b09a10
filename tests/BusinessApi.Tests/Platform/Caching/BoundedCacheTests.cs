using BusinessApi.Platform.Caching;
using Microsoft.Extensions.Time.Testing;

namespace BusinessApi.Tests.Platform.Caching;

/// <summary>The one cache type: a time to live on its TimeProvider, a size bound, one read per key at a time.</summary>
public sealed class BoundedCacheTests
{
    [Fact]
    public void AnEntry_LivesForItsTimeToLive_AndNotASecondMore()
    {
        var time = new FakeTimeProvider();
        var cache = new BoundedCache<string, int>(time, capacity: 10, TimeSpan.FromSeconds(5));
        cache.Set("a", 1);
        time.Advance(TimeSpan.FromSeconds(4.999));
        Assert.True(cache.TryGet("a", out var value));
        Assert.Equal(1, value);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.TryGet("a", out _));
        Assert.Equal(0, cache.Count); // an expired entry found is dropped
    }

    [Fact]
    public void AZeroTimeToLive_KeepsNothing()
    {
        var cache = new BoundedCache<string, int>(new FakeTimeProvider(), capacity: 10, TimeSpan.Zero);
        cache.Set("a", 1);
        Assert.False(cache.TryGet("a", out _));
    }

    [Fact]
    public void WhenFull_ExpiredEntriesMakeRoom_AndLiveOnesAreNotEvicted()
    {
        var time = new FakeTimeProvider();
        var cache = new BoundedCache<int, int>(time, capacity: 3, TimeSpan.FromSeconds(10));
        cache.Set(1, 1);
        time.Advance(TimeSpan.FromSeconds(6));
        cache.Set(2, 2);
        cache.Set(3, 3);
        cache.Set(4, 4); // full of live entries: not kept
        Assert.False(cache.TryGet(4, out _));
        Assert.Equal(3, cache.Count);

        time.Advance(TimeSpan.FromSeconds(5)); // 1 has expired
        cache.Set(4, 4);
        Assert.True(cache.TryGet(4, out _));
        Assert.True(cache.TryGet(2, out _));
        Assert.False(cache.TryGet(1, out _));
        cache.Set(2, 20); // a key already held is always replaced
        Assert.True(cache.TryGet(2, out var replaced));
        Assert.Equal(20, replaced);
    }

    [Fact]
    public async Task ConcurrentMisses_ShareOneRead_AndANullAnswerIsNotKept()
    {
        var cache = new BoundedCache<string, string>(new FakeTimeProvider(), capacity: 10, TimeSpan.FromSeconds(5));
        var reads = 0;
        var gate = new TaskCompletionSource();
        async Task<string?> ReadAsync(string key)
        {
            Interlocked.Increment(ref reads);
            await gate.Task;
            return key == "missing" ? null : key.ToUpperInvariant();
        }

        var callers = Enumerable.Range(0, 20).Select(_ => cache.GetOrReadAsync("a", ReadAsync, default).AsTask()).ToList();
        gate.SetResult();
        Assert.All(await Task.WhenAll(callers), v => Assert.Equal("A", v));
        Assert.Equal(1, reads);

        Assert.Null(await cache.GetOrReadAsync("missing", ReadAsync, default));
        Assert.Null(await cache.GetOrReadAsync("missing", ReadAsync, default));
        Assert.Equal(3, reads); // not remembered: it may exist later
    }
}

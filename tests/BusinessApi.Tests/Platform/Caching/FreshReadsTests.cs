using BusinessApi.Platform.Caching;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace BusinessApi.Tests.Platform.Caching;

/// <summary>Reads shared only by callers from before the read started: as fresh for each as a read of its own.</summary>
public sealed class FreshReadsTests
{
    private readonly FakeTimeProvider _clock = new(TestApp.DefaultNow);

    [Fact]
    public async Task CallersFromBeforeAReadStarted_ShareIt_ACallerFromAfter_ReadsAgain()
    {
        var answers = new Queue<TaskCompletionSource<int>>();
        var reads = new FreshReads<string, int>(_clock, 10, (_, _) =>
        {
            var answer = new TaskCompletionSource<int>();
            answers.Enqueue(answer);
            return answer.Task;
        });

        var receivedFirst = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var receivedSecond = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        // Both documents were received before this read starts: one read for both, in flight or finished.
        var first = reads.GetAsync("pair", receivedFirst, default);
        var second = reads.GetAsync("pair", receivedSecond, default);
        answers.Dequeue().SetResult(1);
        Assert.Equal((1, 1), (await first, await second));
        Assert.Equal(1, await reads.GetAsync("pair", receivedFirst, default));
        Assert.Equal(1, reads.Reads);

        // A document received at the read's own instant or later never gets it: the state may have changed meanwhile.
        var late = reads.GetAsync("pair", _clock.GetUtcNow(), default);
        Assert.False(late.IsCompleted);
        answers.Dequeue().SetResult(2);
        Assert.Equal(2, await late);
        Assert.Equal(2, reads.Reads);

        // Another key is another read.
        var other = reads.GetAsync("other", receivedFirst, default);
        answers.Dequeue().SetResult(3);
        Assert.Equal(3, await other);
    }

    [Fact]
    public async Task AFailedRead_FailsItsWaiters_AndIsNotServedAgain_AndOneWaitersCancelLeavesTheOthers()
    {
        var calls = 0;
        var gate = new TaskCompletionSource();
        var reads = new FreshReads<string, int>(_clock, 10, async (_, _) =>
        {
            var call = Interlocked.Increment(ref calls);
            await gate.Task;
            return call == 1 ? throw new InvalidOperationException("storage down") : call;
        });
        var before = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMilliseconds(1));

        using var cancel = new CancellationTokenSource();
        var cancelled = reads.GetAsync("k", before, cancel.Token);
        var waiting = reads.GetAsync("k", before, default);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        gate.SetResult();
        await Assert.ThrowsAsync<InvalidOperationException>(() => waiting);

        Assert.Equal(2, await reads.GetAsync("k", before, default));
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task WhenFull_ReadsOlderThanTheHorizon_AreDropped()
    {
        var reads = new FreshReads<int, int>(_clock, 2, (key, _) => Task.FromResult(key));
        var before = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        for (var key = 0; key < 3; key++)
        {
            await reads.GetAsync(key, before, default);
        }

        _clock.Advance(FreshReads<int, int>.Horizon + TimeSpan.FromSeconds(1));
        await reads.GetAsync(3, before, default);
        Assert.Equal(4, reads.Reads);

        // Key 0's old read was dropped: a caller from before it reads again.
        await reads.GetAsync(0, before, default);
        Assert.Equal(5, reads.Reads);
    }
}

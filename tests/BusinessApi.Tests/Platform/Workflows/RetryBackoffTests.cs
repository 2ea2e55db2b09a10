using BusinessApi.Platform.Workflows;

namespace BusinessApi.Tests.Platform.Workflows;

/// <summary>W6's backoff: exponential, ±20% jitter, capped — a pure function of the try and an injected Random.</summary>
public sealed class RetryBackoffTests
{
    private static readonly TimeSpan First = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Cap = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData(1, 800, 1200)]
    [InlineData(2, 1600, 2400)]
    [InlineData(5, 12_800, 19_200)]
    [InlineData(9, 204_800, 300_000)] // 256 s ± 20% meets the 300 s cap
    [InlineData(10, 300_000, 300_000)]
    [InlineData(1000, 300_000, 300_000)] // no overflow however many tries
    public void Doubles_WithinTwentyPercent_UpToTheCap(int attempt, double lowMs, double highMs)
    {
        var random = new Random(attempt);
        for (var i = 0; i < 200; i++)
        {
            var delay = RetryBackoff.Delay(attempt, First, Cap, random).TotalMilliseconds;
            Assert.InRange(delay, lowMs, highMs);
        }
    }

    [Fact]
    public void TheSameSeed_GivesTheSameDelays()
    {
        var (a, b) = (new Random(42), new Random(42));
        Assert.Equal(
            Enumerable.Range(1, 8).Select(n => RetryBackoff.Delay(n, First, Cap, a)),
            Enumerable.Range(1, 8).Select(n => RetryBackoff.Delay(n, First, Cap, b)));
    }

    [Fact]
    public void AttemptZero_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RetryBackoff.Delay(0, First, Cap, new Random(1)));
}

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// How long a failed step waits before its next try (W6): exponential from <see cref="WorkflowOptions.RetryBaseMilliseconds"/>,
/// ±20% jitter so instances that failed together do not retry together, capped at <see cref="WorkflowOptions.RetryMaxSeconds"/>.
/// </summary>
public static class RetryBackoff
{
    /// <param name="attempt">The try that failed: 1 for the first.</param>
    /// <param name="jitter">A source of randomness (tests pass a seeded one).</param>
    public static TimeSpan Delay(int attempt, TimeSpan first, TimeSpan cap, Random jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        ArgumentNullException.ThrowIfNull(jitter);
        var factor = 0.8 + (jitter.NextDouble() * 0.4);
        var exponent = Math.Min(attempt - 1, 62); // 2^62 × anything is past any cap: no overflow to infinity
        return TimeSpan.FromMilliseconds(Math.Min(cap.TotalMilliseconds, first.TotalMilliseconds * Math.Pow(2, exponent) * factor));
    }
}

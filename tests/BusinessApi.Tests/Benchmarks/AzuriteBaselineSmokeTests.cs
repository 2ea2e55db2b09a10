extern alias benchmarks;

using benchmarks::BusinessApi.Benchmarks;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Benchmarks;

/// <summary>Keeps the benchmark runnable: a very short run must report every rate (figures are not judged here).</summary>
public sealed class AzuriteBaselineSmokeTests
{
    [Fact]
    public async Task ShortRun_ReportsEveryRate()
    {
        var rates = await new AzuriteBaseline(Azurite.ConnectionString, concurrency: 2, TimeSpan.FromMilliseconds(150)).MeasureAsync();

        Assert.Equal(6, rates.All.Count());
        Assert.All(rates.All.Take(5), m => Assert.True(m.Operations > 0, $"{m.Name} did no work"));
        Assert.All(rates.All, m => Assert.Contains("|", m.Row(), StringComparison.Ordinal));
    }
}

/// <summary>Keeps the ledger benchmark runnable: a very short run posts on both scenarios and leaves the books balanced.</summary>
public sealed class LedgerThroughputSmokeTests
{
    [Fact]
    public async Task ShortRun_PostsInBothScenarios_AndTheBooksBalance()
    {
        var figures = await new LedgerThroughput(Azurite.ConnectionString, accounts: 4, TimeSpan.FromMilliseconds(200)).MeasureAsync(spreadCallers: 2, hotCallers: 4);

        Assert.True(figures.Spread.Operations > 0);
        Assert.True(figures.Hot.Operations > 0);
        Assert.True(figures.BooksBalanced);
    }
}

/// <summary>Keeps the credentials benchmark runnable, and holds the 90-day job to O(due) storage calls.</summary>
public sealed class CredentialThroughputSmokeTests
{
    [Fact]
    public async Task ShortRun_IssuesTokensAndServesReads_AndTheJobTouchesOnlyDuePairs()
    {
        var figures = await new CredentialThroughput(Azurite.ConnectionString, TimeSpan.FromMilliseconds(200)).MeasureAsync(callers: 2, pairs: 3_000, due: 20);

        Assert.True(figures.Tokens.Operations > 0);
        Assert.True(figures.Reads.Operations > 0);
        Assert.True(figures.UncachedReads.Operations > 0);
        Assert.True(figures.SignIns.Operations > 0);
        Assert.True(figures.SessionReads.Operations > 0);
        Assert.Equal(20, figures.Blocked);
        // About a dozen calls per due pair and one query, never a call per pair of the 3,000: read, block, notice, index delete,
        // and the journal entry, which is the pair's first of the day (the day index, the link to its previous day: four more).
        Assert.InRange(figures.JobStorageCalls, 20, 20 * 13 + 5);
    }

    [Fact]
    public async Task DocumentsShortRun_ReportsEveryFigure_AndKeepsTheBooksBalanced()
    {
        var figures = await new DocumentThroughput(Azurite.ConnectionString, TimeSpan.FromMilliseconds(300)).MeasureAsync(callers: 4, accounts: 10, endToEnd: 20, presigned: 1_000);
        Assert.True(figures.Accepted.Operations > 0);
        Assert.Equal(20, figures.EndToEndSpread.Operations);
        Assert.Equal(20, figures.EndToEndHot.Operations);
        Assert.True(figures.Verification.Cached.Operations > 0);
        Assert.True(figures.BooksBalanced);
        Assert.Equal(0, figures.FailedRequests);
    }
}

public sealed class NoticeFanOutSmokeTests
{
    [Fact]
    public async Task ShortRun_DeliversEveryNoticeOnce_WithValidSignatures()
    {
        var figures = await new NoticeFanOut(Azurite.ConnectionString).MeasureAsync(subscribers: 5, rounds: 2);
        Assert.Equal(2, figures.Rounds.Count);
        Assert.All(figures.Rounds, r => Assert.Equal(5, r.Operations));
        Assert.Equal(0, figures.BadSignatures);
        Assert.Equal(0, figures.Duplicates);
        Assert.True(figures.StorageCallsPerDelivery > 0);
    }
}

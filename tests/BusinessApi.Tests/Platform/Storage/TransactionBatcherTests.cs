using Azure.Core;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform.Storage;

/// <summary>The group commit against a real Azurite, including one that stops answering.</summary>
[Collection(HeavyTests.Name)]
public sealed class TransactionBatcherTests
{
    private static TableClient Table(AzuriteProcess azurite, string name) => new(azurite.ConnectionString, name, new TableClientOptions
    {
        Retry = { MaxRetries = 1, NetworkTimeout = TimeSpan.FromSeconds(1), Mode = RetryMode.Fixed, Delay = TimeSpan.FromMilliseconds(100) },
    });

    [Fact]
    public async Task GroupsQueuedWhileStorageIsStalled_FailWithItsTimeout_AndThePartitionCommitsAgainOnceStorageAnswers()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var table = Table(azurite, "batcher");
        await table.CreateIfNotExistsAsync();
        var batcher = new TransactionBatcher();
        static TableTransactionAction Add(string row) => new(TableTransactionActionType.Add, new TableEntity("p", row));

        azurite.Pause();
        // The first group goes alone; the ones queued behind it go as one combined transaction: both time out.
        var stalled = Enumerable.Range(0, 5).Select(i => batcher.SubmitOneAsync(table, Add("stalled-" + i), CancellationToken.None)).ToList();
        foreach (var write in stalled)
        {
            var thrown = await Assert.ThrowsAnyAsync<Exception>(() => write.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.True(StorageFaults.IsTransient(thrown), thrown.ToString());
        }

        azurite.Resume();
        // The lane was not left draining for ever: the partition's next writes commit, together and alone.
        var after = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => batcher.SubmitOneAsync(table, Add("after-" + i), CancellationToken.None)))
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(after, response => Assert.InRange(response.Status, 200, 299));
        var rows = await table.QueryAsync<TableEntity>(e => e.PartitionKey == "p").Select(e => e.RowKey).ToListAsync();
        Assert.Equal(5, rows.Count(r => r.StartsWith("after-", StringComparison.Ordinal)));
    }
}

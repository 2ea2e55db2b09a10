using Azure.Data.Tables;
using Azure.Storage.Queues;

namespace BusinessApi.Benchmarks;

/// <summary>
/// The raw rates of this machine's Azurite through the real SDK clients, measured in the same run as
/// any figure of ours so that figure can be given as a ratio: the hardware and Azurite version
/// cancel out, what remains is our overhead.
/// </summary>
public sealed class AzuriteBaseline(string connectionString, int concurrency, TimeSpan duration)
{
    public async Task<AzuriteRates> MeasureAsync(CancellationToken cancellationToken = default)
    {
        var tag = "bench" + Guid.NewGuid().ToString("N")[..8];
        var service = new TableServiceClient(connectionString);
        var table = service.GetTableClient(tag);
        await table.CreateIfNotExistsAsync(cancellationToken);
        var queue = new QueueServiceClient(connectionString).GetQueueClient(tag);
        await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        try
        {
            var writtenBy = new long[concurrency];
            var insert = await Load.RunAsync("table: single insert", "entities/s", concurrency, duration, async (worker, i) =>
            {
                await table.AddEntityAsync(Entity($"p{worker}", $"r{i:D10}"), cancellationToken);
                writtenBy[worker] = i + 1;
                return 1;
            }, cancellationToken);

            var batch = await Load.RunAsync("table: batch insert (100/tx)", "entities/s", concurrency, duration, async (worker, i) =>
            {
                var actions = Enumerable.Range(0, 100)
                    .Select(n => new TableTransactionAction(TableTransactionActionType.Add, Entity($"b{worker}-{i}", $"r{n:D3}")));
                await table.SubmitTransactionAsync(actions, cancellationToken);
                return 100;
            }, cancellationToken);

            var read = await Load.RunAsync("table: point read", "reads/s", concurrency, duration, async (worker, i) =>
            {
                await table.GetEntityAsync<TableEntity>($"p{worker}", $"r{i % Math.Max(1, writtenBy[worker]):D10}", cancellationToken: cancellationToken);
                return 1;
            }, cancellationToken);

            var send = await Load.RunAsync("queue: send", "messages/s", concurrency, duration, async (_, _) =>
            {
                await queue.SendMessageAsync("{\"instance\":\"0123456789abcdef\"}", cancellationToken);
                return 1;
            }, cancellationToken);

            // Azurite's receive slows down with the number of messages it holds (in any queue), so it is
            // measured with a backlog (what one costs) and, after clearing it, on a shallow queue (the baseline).
            var deep = (await queue.GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount;
            var receiveDeep = await ReceiveAsync(queue, $"queue: receive + delete ({deep:N0} deep)", TimeSpan.FromTicks(Math.Min(duration.Ticks, TimeSpan.FromSeconds(3).Ticks)), cancellationToken);
            await queue.ClearMessagesAsync(cancellationToken); // the backlog slows every queue of the account, not just its own
            var shallow = new QueueServiceClient(connectionString).GetQueueClient(tag + "s");
            await shallow.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            try
            {
                await Parallel.ForEachAsync(Enumerable.Range(0, ShallowDepth), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                    async (_, token) => await shallow.SendMessageAsync("{\"instance\":\"0123456789abcdef\"}", token));
                var receive = await ReceiveAsync(shallow, $"queue: receive + delete (≤{ShallowDepth:N0} deep)", duration, cancellationToken);
                return new AzuriteRates(insert, batch, read, send, receive, receiveDeep);
            }
            finally
            {
                await shallow.DeleteIfExistsAsync(CancellationToken.None);
            }
        }
        finally
        {
            await table.DeleteAsync(CancellationToken.None);
            await queue.DeleteIfExistsAsync(CancellationToken.None);
        }
    }

    private const int ShallowDepth = 1_000;

    private Task<Measurement> ReceiveAsync(QueueClient queue, string name, TimeSpan time, CancellationToken cancellationToken) =>
        Load.RunAsync(name, "messages/s", concurrency, time, async (_, _) =>
        {
            var message = (await queue.ReceiveMessageAsync(cancellationToken: cancellationToken)).Value;
            if (message is null)
            {
                // Drained: the shallow queue is refilled so the rate stays a rate of real work.
                await queue.SendMessageAsync("{}", cancellationToken);
                return 0;
            }

            try
            {
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                return 1;
            }
            catch (Azure.RequestFailedException ex) when (ex.Status == 404)
            {
                // Azurite stalled past the message's visibility timeout and handed it to another caller: not a completed receive.
                return 0;
            }
        }, cancellationToken);

    private static TableEntity Entity(string partition, string row) => new(partition, row)
    {
        ["Status"] = "running",
        ["Payload"] = "{\"amount\":\"150000.00\",\"currency\":\"KZT\"}",
        ["At"] = DateTimeOffset.UnixEpoch,
    };
}

public sealed record AzuriteRates(
    Measurement SingleInsert, Measurement BatchInsert, Measurement PointRead, Measurement QueueSend,
    Measurement QueueReceiveDelete, Measurement QueueReceiveDeleteDeep)
{
    public IEnumerable<Measurement> All => [SingleInsert, BatchInsert, PointRead, QueueSend, QueueReceiveDelete, QueueReceiveDeleteDeep];
}

using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// Messages a step sends: written as rows beside the instance in its transition's transaction
/// (<c>{instance row}|outbox|{message id}</c>), handed to their topic's dispatcher after the commit, then
/// deleted; a crash in between leaves the row for the next recovery to send again (at least once).
/// </summary>
internal sealed class WorkflowOutbox(StorageResources storage, IEnumerable<IOutboxDispatcher> dispatchers)
{
    private readonly Dictionary<string, IOutboxDispatcher> _dispatchers = dispatchers.ToDictionary(d => d.Topic, StringComparer.Ordinal);

    public static TableEntity Row(WorkflowLocation location, OutboxMessage message) =>
        new(location.PartitionKey, RowKey(location, message.MessageId))
        {
            ["MessageId"] = message.MessageId,
            ["Topic"] = message.Topic,
            ["Payload"] = message.Payload,
        };

    public async Task DispatchAsync(WorkflowLocation location, OutboxMessage message, CancellationToken cancellationToken)
    {
        var dispatcher = _dispatchers.GetValueOrDefault(message.Topic)
            ?? throw new InvalidOperationException($"No outbox dispatcher for topic '{message.Topic}'.");
        await dispatcher.DispatchAsync(message, cancellationToken);
        try
        {
            await storage.Table(location.Table).DeleteEntityAsync(location.PartitionKey, RowKey(location, message.MessageId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
        }
    }

    /// <summary>Sends what a crash left between a commit and its dispatch.</summary>
    public async Task DispatchLeftoversAsync(WorkflowLocation location, CancellationToken cancellationToken)
    {
        var prefix = location.RowKey + "|outbox|";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {location.PartitionKey} and RowKey ge {prefix} and RowKey lt {location.RowKey + "|outbox}"}");
        await foreach (var row in storage.Table(location.Table).QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            await DispatchAsync(location, new OutboxMessage(row.GetString("MessageId") ?? "", row.GetString("Topic") ?? "", row.GetString("Payload") ?? ""), cancellationToken);
        }
    }

    private static string RowKey(WorkflowLocation location, string messageId) => $"{location.RowKey}|outbox|{messageId}";
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Caching;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Notifications;

/// <summary>
/// One notice the bank owes a customer through the communication channel: its kind, its text in each of
/// the terms' languages (ru prevails), the legal deadline by which it must reach the customer, and how it
/// reached them (read from the feed, or acknowledged by a webhook receiver).
/// </summary>
public sealed record Notice(string NoticeId, string CustomerId, string Kind, DateTimeOffset CreatedAt, string? Subject, IReadOnlyDictionary<string, string> Texts)
{
    /// <summary>The notice's place in the customer's feed: 1, 2, 3, … with no gaps and no reordering.</summary>
    public long Sequence { get; init; }

    /// <summary>The terms' deadline for delivery (R-36, R-51, R-60, R-62), if the terms set one.</summary>
    public DateTimeOffset? DeliverBy { get; init; }

    /// <summary>When the customer's software first read it from the feed.</summary>
    public DateTimeOffset? FedAt { get; init; }

    /// <summary>When a webhook receiver first acknowledged it (a 2xx answer).</summary>
    public DateTimeOffset? WebhookDeliveredAt { get; init; }

    /// <summary>When it was escalated to operators as not delivered by <see cref="DeliverBy"/>.</summary>
    public DateTimeOffset? EscalatedAt { get; init; }

    public string Cursor => NoticeStore.CursorOf(Sequence);

    public DateTimeOffset? DeliveredAt => (FedAt, WebhookDeliveredAt) switch
    {
        ({ } fed, { } hooked) => fed < hooked ? fed : hooked,
        ({ } fed, null) => fed,
        (null, var hooked) => hooked,
    };
}

/// <summary>What a caller asks the channel to send.</summary>
/// <param name="About">What the notice is about (e.g. <c>documentId:terminal</c>): the notice's id derives from it, so it is sent once.</param>
/// <param name="Arguments">Formatted into the texts <c>notice.{kind}</c> of the resources.</param>
public sealed record NoticeRequest(string CustomerId, string Kind, string About, DateTimeOffset CreatedAt, string? Subject, object[] Arguments)
{
    public DateTimeOffset? DeliverBy { get; init; }
}

/// <summary>
/// Table <c>Notices</c>, one partition per customer (the channel's outbox lives with the events it carries):
/// <list type="bullet">
/// <item><c>s|</c> — the feed's sequence counter; every notice and every webhook subscription change updates it,
/// so its ETag proves that the sequence number and the subscription list a writer used are current;</item>
/// <item><c>n|{sequence}</c> — the notices, in feed order; <c>k|{noticeId}</c> — one marker per notice id;</item>
/// <item><c>w|{webhookId}</c> — the webhook subscriptions; <c>wf|{noticeId}</c> — the delivery workflow of a notice
/// that has receivers (the outbox entry, committed in the same transaction as the notice: W2).</item>
/// </list>
/// The cursor is the sequence number. Writers of one customer take it in turn (an ETag check on <c>s|</c>), so
/// a notice can never appear behind a cursor a reader has already passed — which a time-ordered key cannot
/// promise when writers' commits overtake each other.
/// </summary>
public sealed class NoticeStore(StorageResources storage, TransactionBatcher batcher, WakeupAlarm? wakeups = null)
{
    public const string TableName = "Notices";
    public const string DueTable = "NoticesDue";
    public const string CounterRow = "s|";
    public const string NoticePrefix = "n|";
    public const string MarkerPrefix = "k|";
    public const string WebhookPrefix = "w|";
    public const string DeliveryWorkflowPrefix = "wf|";

    /// <summary>The terms' languages every notice is written in (ru prevails, R-65).</summary>
    internal static readonly string[] Languages = ["ru", "kk", "en"];
    private readonly TableClient _table = storage.Table(TableName);

    // What a writer knows of each customer's partition. Safe across instances: it is only a guess at the counter's
    // ETag; a stale one fails the ETag check, is dropped and read again.
    private readonly BoundedCache<string, PartitionState> _states = new(TimeProvider.System, capacity: 20_000, TimeSpan.FromMinutes(10), StringComparer.Ordinal);

    /// <summary>The index of notices by the local day of their deadline (read by <see cref="NoticeDeadlineJob"/>).</summary>
    public DueIndex Due { get; } = new(storage.Table(DueTable), wakeups);

    /// <summary>What a writer knows of a customer's partition: the counter and the subscriptions as of one ETag of <c>s|</c>.</summary>
    internal sealed record PartitionState(long Last, ETag ETag, IReadOnlyList<WebhookSubscription> Webhooks);

    internal TableClient Table => _table;

    /// <summary>A stable id for the notice about <paramref name="about"/>.</summary>
    public static string NoticeId(string about) =>
        "ntc_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(about)))[..24];

    public static string CursorOf(long sequence) => sequence.ToString("D12", CultureInfo.InvariantCulture);

    public static string NoticeRow(long sequence) => NoticePrefix + CursorOf(sequence);

    public static bool IsWellFormedCursor(string? cursor) => cursor is { Length: 12 } && cursor.All(char.IsAsciiDigit);

    public static bool IsWellFormedId(string? noticeId) =>
        noticeId is { Length: 28 } && noticeId.StartsWith("ntc_", StringComparison.Ordinal) && noticeId[4..].All(char.IsAsciiHexDigitLower);

    public static WorkflowLocation DeliveryLocation(string customerId, string noticeId) => new(TableName, customerId, DeliveryWorkflowPrefix + noticeId);

    /// <summary>The customer's notices after <paramref name="after"/> (a cursor), oldest first.</summary>
    public async Task<IReadOnlyList<Notice>> ReadAsync(string customerId, string? after, int pageSize, CancellationToken cancellationToken)
    {
        // A reader that is up to date (the common poll) is answered by the counter's point read, without a query: the
        // counter moves in the same transaction as the notices it counts.
        if (after is not null && long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var seen))
        {
            var counter = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, CounterRow, select: ["Last"], cancellationToken: cancellationToken);
            if (!counter.HasValue || (counter.Value!.GetInt64("Last") ?? 0) <= seen)
            {
                return [];
            }
        }

        var from = NoticePrefix + (after ?? "");
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey gt {from} and RowKey lt {NoticePrefix + ":"}");
        var result = new List<Notice>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken))
        {
            result.Add(FromEntity(entity));
            if (result.Count == pageSize)
            {
                break;
            }
        }

        return result;
    }

    /// <summary>
    /// Records that the feed handed these notices to the customer's software: the ones with a deadline not yet
    /// delivered get <see cref="Notice.FedAt"/> (one transaction; the deadline job reads it).
    /// </summary>
    public async Task<IReadOnlyList<Notice>> MarkFedAsync(IReadOnlyList<Notice> notices, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notices);
        var fresh = notices.Where(n => n.DeliverBy is not null && n.FedAt is null).ToList();
        if (fresh.Count == 0)
        {
            return notices;
        }

        await batcher.SubmitAsync(_table,
            [.. fresh.Select(n => new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                new TableEntity(n.CustomerId, NoticeRow(n.Sequence)) { ["FedAt"] = now }, ETag.All))],
            cancellationToken);
        return [.. notices.Select(n => n.DeliverBy is not null && n.FedAt is null ? n with { FedAt = now } : n)];
    }

    public async Task<Notice?> GetAsync(string customerId, long sequence, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, NoticeRow(sequence), cancellationToken: cancellationToken);
        return found.HasValue ? FromEntity(found.Value!) : null;
    }

    public async Task<Notice?> GetByIdAsync(string customerId, string noticeId, CancellationToken cancellationToken)
    {
        var marker = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, MarkerPrefix + noticeId, cancellationToken: cancellationToken);
        return marker.HasValue && marker.Value!.GetInt64("Sequence") is { } sequence ? await GetAsync(customerId, sequence, cancellationToken) : null;
    }

    public async Task MarkEscalatedAsync(Notice notice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(notice);
        await _table.UpdateEntityAsync(new TableEntity(notice.CustomerId, NoticeRow(notice.Sequence)) { ["EscalatedAt"] = now }, ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    public static string DueKey(string customerId, string noticeId) => customerId + "|" + noticeId;

    // ---- webhook subscriptions (rows of the same partition) ----

    public async Task<IReadOnlyList<WebhookSubscription>> ListWebhooksAsync(string customerId, CancellationToken cancellationToken) =>
        (await LoadStateAsync(customerId, cancellationToken)).Webhooks;

    public async Task<WebhookSubscription?> GetWebhookAsync(string customerId, string webhookId, CancellationToken cancellationToken)
    {
        var found = await _table.GetEntityIfExistsAsync<TableEntity>(customerId, WebhookPrefix + webhookId, cancellationToken: cancellationToken);
        return found.HasValue ? WebhookSubscription.FromEntity(found.Value!) : null;
    }

    /// <summary>Adds, replaces or deletes a subscription together with a touch of the counter row, so every writer's cached list goes stale at once.</summary>
    public async Task ChangeWebhookAsync(string customerId, TableTransactionAction change, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        await batcher.SubmitAsync(_table,
        [
            new TableTransactionAction(TableTransactionActionType.UpsertMerge, new TableEntity(customerId, CounterRow) { ["WebhooksChangedAt"] = now }),
            change,
        ], cancellationToken);
        _states.Remove(customerId);
    }

    /// <summary>The partition's state as this process last knew it, or as read now.</summary>
    internal async ValueTask<PartitionState> StateAsync(string customerId, CancellationToken cancellationToken)
    {
        if (_states.TryGet(customerId, out var state))
        {
            return state;
        }

        state = await LoadStateAsync(customerId, cancellationToken);
        _states.Set(customerId, state);
        return state;
    }

    internal void Remember(string customerId, PartitionState state) => _states.Set(customerId, state);

    internal void Forget(string customerId) => _states.Remove(customerId);

    /// <summary>The counter and the subscriptions, in one query of the partition.</summary>
    private async Task<PartitionState> LoadStateAsync(string customerId, CancellationToken cancellationToken)
    {
        var (counter, webhooks) = await ReadWithWebhooksAsync(customerId, CounterRow, cancellationToken);
        return new PartitionState(counter?.GetInt64("Last") ?? 0, counter?.ETag ?? default, webhooks);
    }

    /// <summary>One row of a customer's partition and the customer's webhook subscriptions, in one query.</summary>
    private async Task<(TableEntity? Row, IReadOnlyList<WebhookSubscription> Webhooks)> ReadWithWebhooksAsync(string customerId, string rowKey, CancellationToken cancellationToken)
    {
        TableEntity? row = null;
        var webhooks = new List<WebhookSubscription>();
        var filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {customerId} and (RowKey eq {rowKey} or (RowKey gt {WebhookPrefix} and RowKey lt {"w}"}))");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (entity.RowKey == rowKey)
            {
                row = entity;
            }
            else
            {
                webhooks.Add(WebhookSubscription.FromEntity(entity));
            }
        }

        return (row, webhooks);
    }

    internal static TableEntity ToEntity(Notice notice)
    {
        var entity = new TableEntity(notice.CustomerId, NoticeRow(notice.Sequence))
        {
            ["NoticeId"] = notice.NoticeId,
            ["Kind"] = notice.Kind,
            ["CreatedAt"] = notice.CreatedAt,
            ["Subject"] = notice.Subject,
            ["DeliverBy"] = notice.DeliverBy,
        };
        foreach (var (language, text) in notice.Texts)
        {
            entity["Text_" + language] = text;
        }

        return entity;
    }

    public static Notice FromEntity(TableEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        return new Notice(
            entity.GetString("NoticeId") ?? "",
            entity.PartitionKey,
            entity.GetString("Kind") ?? "",
            entity.GetDateTimeOffset("CreatedAt") ?? default,
            entity.GetString("Subject"),
            Languages.Where(l => entity.ContainsKey("Text_" + l)).ToDictionary(l => l, l => entity.GetString("Text_" + l) ?? ""))
        {
            Sequence = long.Parse(entity.RowKey.AsSpan(NoticePrefix.Length), CultureInfo.InvariantCulture),
            DeliverBy = entity.GetDateTimeOffset("DeliverBy"),
            FedAt = entity.GetDateTimeOffset("FedAt"),
            WebhookDeliveredAt = entity.GetDateTimeOffset("WebhookDeliveredAt"),
            EscalatedAt = entity.GetDateTimeOffset("EscalatedAt"),
        };
    }
}

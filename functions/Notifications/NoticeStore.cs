using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Platform.Http;
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
public sealed class NoticeStore(StorageResources storage, TransactionBatcher batcher, ProblemTexts texts, IServiceProvider services, WakeupAlarm? wakeups = null)
{
    public const string TableName = "Notices";
    public const string DueTable = "NoticesDue";
    public const string CounterRow = "s|";
    public const string NoticePrefix = "n|";
    public const string MarkerPrefix = "k|";
    public const string WebhookPrefix = "w|";

    private static readonly string[] Languages = ["ru", "kk", "en"];
    private readonly TableClient _table = storage.Table(TableName);
    private readonly ConcurrentDictionary<string, PartitionState> _states = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private WorkflowEngine? _engine;

    /// <summary>The index of notices by the local day of their deadline (read by <see cref="NoticeDeadlineJob"/>).</summary>
    public DueIndex Due { get; } = new(storage.Table(DueTable), wakeups);

    /// <summary>What a writer knows of a customer's partition: the counter and the subscriptions as of one ETag of <c>s|</c>.</summary>
    private sealed record PartitionState(long Last, ETag ETag, IReadOnlyList<WebhookSubscription> Webhooks);

    /// <summary>A notice waiting for its customer's writer.</summary>
    private sealed record PendingNotice(NoticeRequest Request, string NoticeId, IReadOnlyDictionary<string, string> Texts)
    {
        public TaskCompletionSource<Notice> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>A customer's queue of notices to write, and whether a writer is draining it.</summary>
    private sealed class Lane
    {
        public List<PendingNotice> Queue { get; } = [];

        public bool Draining { get; set; }
    }

    /// <summary>Notices per group commit: a counter update and two rows each stay within a transaction's 100 actions.</summary>
    private const int MaxGroup = 40;

    /// <summary>A stable id for the notice about <paramref name="about"/>.</summary>
    public static string NoticeId(string about) =>
        "ntc_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(about)))[..24];

    public static string CursorOf(long sequence) => sequence.ToString("D12", CultureInfo.InvariantCulture);

    public static string NoticeRow(long sequence) => NoticePrefix + CursorOf(sequence);

    public static bool IsWellFormedCursor(string? cursor) => cursor is { Length: 12 } && cursor.All(char.IsAsciiDigit);

    public static bool IsWellFormedId(string? noticeId) =>
        noticeId is { Length: 28 } && noticeId.StartsWith("ntc_", StringComparison.Ordinal) && noticeId[4..].All(char.IsAsciiHexDigitLower);

    public static WorkflowLocation DeliveryLocation(string customerId, string noticeId) => new(TableName, customerId, "wf|" + noticeId);

    public Task<Notice> AddAsync(string customerId, string kind, string about, DateTimeOffset createdAt, string? subject, object[] arguments, CancellationToken cancellationToken) =>
        AddAsync(new NoticeRequest(customerId, kind, about, createdAt, subject, arguments), cancellationToken);

    /// <summary>
    /// Adds the notice unless one about the same thing exists already (then that one is answered). With its
    /// deadline it goes into the due index first (the intent: a stale row is recognised and dropped by the
    /// deadline job); with webhook receivers for its kind, its delivery workflow commits with it.
    /// </summary>
    public async Task<Notice> AddAsync(NoticeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var noticeId = NoticeId(request.About);
        var localized = Languages.ToDictionary(l => l, l => texts.Format("notice." + request.Kind, CultureInfo.GetCultureInfo(l), request.Arguments, request.Kind)!);
        if (request.DeliverBy is { } deliverBy)
        {
            await Due.PutAsync(KazakhstanTime.LocalDate(deliverBy), DueKey(request.CustomerId, noticeId), cancellationToken);
            wakeups?.Arm(deliverBy); // the deadline job runs then even if the app had scaled to zero
        }

        var pending = new PendingNotice(request, noticeId, localized);
        var lane = _lanes.GetOrAdd(request.CustomerId, _ => new Lane());
        bool drain;
        lock (lane)
        {
            lane.Queue.Add(pending);
            drain = !lane.Draining;
            lane.Draining = true;
        }

        if (drain)
        {
            _ = Task.Run(() => DrainAsync(request.CustomerId, lane), CancellationToken.None);
        }

        return await pending.Done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// One writer per customer at a time (the counter would refuse the others anyway), taking whatever queued up
    /// meanwhile: notices without webhook receivers commit together — one counter update, a marker and a row each,
    /// one transaction (group commit) — and a notice with receivers commits alone with its delivery workflow.
    /// </summary>
    private async Task DrainAsync(string customerId, Lane lane)
    {
        while (true)
        {
            List<PendingNotice> batch;
            lock (lane)
            {
                if (lane.Queue.Count == 0)
                {
                    lane.Draining = false;
                    return;
                }

                batch = lane.Queue.GetRange(0, Math.Min(MaxGroup, lane.Queue.Count));
                lane.Queue.RemoveRange(0, batch.Count);
            }

            try
            {
                var state = await StateAsync(customerId, CancellationToken.None);
                var plain = batch.Where(p => !state.Webhooks.Any(w => w.Receives(p.Request.Kind))).ToList();
                if (plain.Count > 1 && plain.Select(p => p.NoticeId).Distinct(StringComparer.Ordinal).Count() == plain.Count
                    && await TryCommitGroupAsync(customerId, state, plain))
                {
                    batch = [.. batch.Except(plain)];
                }

                foreach (var one in batch)
                {
                    try
                    {
                        one.Done.TrySetResult(await AddOneAsync(one, CancellationToken.None));
                    }
                    catch (Exception ex)
                    {
                        one.Done.TrySetException(ex);
                    }
                }
            }
            catch (Exception ex)
            {
                foreach (var one in batch)
                {
                    one.Done.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>The group in one transaction; false (nothing written) when the counter moved or one of them exists already.</summary>
    private async Task<bool> TryCommitGroupAsync(string customerId, PartitionState state, List<PendingNotice> group)
    {
        var notices = group.Select((p, i) => NewNotice(p, state.Last + 1 + i)).ToList();
        var actions = new List<TableTransactionAction> { CounterAction(customerId, state, notices[^1].Sequence) };
        foreach (var notice in notices)
        {
            actions.Add(MarkerAction(notice));
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, ToEntity(notice)));
        }

        try
        {
            var answers = await batcher.SubmitAsync(_table, actions, CancellationToken.None);
            _states[customerId] = state with { Last = notices[^1].Sequence, ETag = answers[0].Headers.ETag ?? default };
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            _states.TryRemove(customerId, out _);
            return false;
        }

        for (var i = 0; i < group.Count; i++)
        {
            group[i].Done.TrySetResult(notices[i]);
        }

        return true;
    }

    /// <summary>One notice, until it is written or found written (by an earlier occasion, or another instance).</summary>
    private async Task<Notice> AddOneAsync(PendingNotice pending, CancellationToken cancellationToken)
    {
        var request = pending.Request;
        for (var attempt = 0; ; attempt++)
        {
            var state = await StateAsync(request.CustomerId, cancellationToken);
            var notice = NewNotice(pending, state.Last + 1);
            List<TableTransactionAction> actions =
            [
                CounterAction(request.CustomerId, state, notice.Sequence),
                MarkerAction(notice),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(notice)),
            ];
            var receivers = state.Webhooks.Where(w => w.Receives(request.Kind)).ToList();
            try
            {
                if (receivers.Count == 0)
                {
                    var answers = await batcher.SubmitAsync(_table, actions, cancellationToken);
                    _states[request.CustomerId] = state with { Last = notice.Sequence, ETag = answers[0].Headers.ETag ?? default };
                    return notice;
                }

                var delivery = new NoticeDelivery(request.CustomerId, notice.NoticeId, notice.Sequence, request.Kind,
                    [.. receivers.Select(w => new DeliveryTarget(w.WebhookId) { NextAttemptAt = request.CreatedAt })]);
                _engine ??= services.GetRequiredService<WorkflowEngine>();
                var started = await _engine.StartAsync(services.GetRequiredService<NoticeDeliveryWorkflow>(),
                    DeliveryLocation(request.CustomerId, notice.NoticeId), notice.NoticeId, delivery, actions, cancellationToken);
                _states.TryRemove(request.CustomerId, out _); // the engine keeps the commit's ETag to itself
                if (started)
                {
                    return notice;
                }
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
            {
                _states.TryRemove(request.CustomerId, out _);
            }

            // The counter moved (another writer) or the notice exists already.
            if (await GetByIdAsync(request.CustomerId, notice.NoticeId, cancellationToken) is { } existing)
            {
                return existing;
            }

            if (attempt == 20)
            {
                throw new InvalidOperationException($"Could not add notice {notice.NoticeId} for {request.CustomerId}: the feed's counter kept moving.");
            }
        }
    }

    private static Notice NewNotice(PendingNotice pending, long sequence) =>
        new(pending.NoticeId, pending.Request.CustomerId, pending.Request.Kind, pending.Request.CreatedAt, pending.Request.Subject, pending.Texts)
        {
            Sequence = sequence,
            DeliverBy = pending.Request.DeliverBy,
        };

    private static TableTransactionAction CounterAction(string customerId, PartitionState state, long last)
    {
        var counter = new TableEntity(customerId, CounterRow) { ["Last"] = last };
        return state.ETag == default
            ? new TableTransactionAction(TableTransactionActionType.Add, counter)
            : new TableTransactionAction(TableTransactionActionType.UpdateMerge, counter, state.ETag);
    }

    private static TableTransactionAction MarkerAction(Notice notice) =>
        new(TableTransactionActionType.Add, new TableEntity(notice.CustomerId, MarkerPrefix + notice.NoticeId) { ["Sequence"] = notice.Sequence });

    /// <summary>The customer's notices after <paramref name="after"/> (a cursor), oldest first.</summary>
    public async Task<IReadOnlyList<Notice>> ReadAsync(string customerId, string? after, int pageSize, CancellationToken cancellationToken)
    {
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
        _states.TryRemove(customerId, out _);
    }

    private async ValueTask<PartitionState> StateAsync(string customerId, CancellationToken cancellationToken)
    {
        if (_states.TryGetValue(customerId, out var state))
        {
            return state;
        }

        state = await LoadStateAsync(customerId, cancellationToken);
        if (_states.Count > 20_000)
        {
            _states.Clear();
        }

        _states[customerId] = state;
        return state;
    }

    /// <summary>The counter and the subscriptions, in one query of the partition.</summary>
    private async Task<PartitionState> LoadStateAsync(string customerId, CancellationToken cancellationToken)
    {
        var (counter, webhooks) = await ReadWithWebhooksAsync(customerId, CounterRow, cancellationToken);
        return new PartitionState(counter?.GetInt64("Last") ?? 0, counter?.ETag ?? default, webhooks);
    }

    /// <summary>One row of a customer's partition and the customer's webhook subscriptions, in one query.</summary>
    public async Task<(TableEntity? Row, IReadOnlyList<WebhookSubscription> Webhooks)> ReadWithWebhooksAsync(string customerId, string rowKey, CancellationToken cancellationToken)
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

    private static TableEntity ToEntity(Notice notice)
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

using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Notifications;

/// <summary>
/// The communication channel's sending side: every notice the bank owes a customer is written here, in the
/// customer's feed order, with its delivery workflow when the customer has webhook receivers for its kind.
/// Everything it needs comes by constructor: the store it writes to, the engine and the delivery workflow it starts.
/// </summary>
public sealed class NoticeChannel(
    NoticeStore store, TransactionBatcher batcher, ProblemTexts texts, WorkflowEngine engine, NoticeDeliveryWorkflow delivery, WakeupAlarm? wakeups = null)
{
    /// <summary>Notices per group commit: a counter update and two rows each stay within a transaction's 100 actions.</summary>
    private const int MaxGroup = 40;

    // Per-customer queues of notices waiting for their writer. Safe across instances: each instance's writer takes
    // its turn through the feed counter's ETag; the queue only saves this instance from racing itself.
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

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
        var noticeId = NoticeStore.NoticeId(request.About);
        var localized = NoticeStore.Languages.ToDictionary(l => l, l => texts.Format("notice." + request.Kind, CultureInfo.GetCultureInfo(l), request.Arguments, request.Kind)!);
        if (request.DeliverBy is { } deliverBy)
        {
            await store.Due.PutAsync(KazakhstanTime.LocalDate(deliverBy), NoticeStore.DueKey(request.CustomerId, noticeId), cancellationToken);
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
                var state = await store.StateAsync(customerId, CancellationToken.None);
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
    private async Task<bool> TryCommitGroupAsync(string customerId, NoticeStore.PartitionState state, List<PendingNotice> group)
    {
        var notices = group.Select((p, i) => NewNotice(p, state.Last + 1 + i)).ToList();
        var actions = new List<TableTransactionAction> { CounterAction(customerId, state, notices[^1].Sequence) };
        foreach (var notice in notices)
        {
            actions.Add(MarkerAction(notice));
            actions.Add(new TableTransactionAction(TableTransactionActionType.Add, NoticeStore.ToEntity(notice)));
        }

        try
        {
            var answers = await batcher.SubmitAsync(store.Table, actions, CancellationToken.None);
            store.Remember(customerId, state with { Last = notices[^1].Sequence, ETag = answers[0].Headers.ETag ?? default });
        }
        catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
        {
            store.Forget(customerId);
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
            var state = await store.StateAsync(request.CustomerId, cancellationToken);
            var notice = NewNotice(pending, state.Last + 1);
            List<TableTransactionAction> actions =
            [
                CounterAction(request.CustomerId, state, notice.Sequence),
                MarkerAction(notice),
                new TableTransactionAction(TableTransactionActionType.Add, NoticeStore.ToEntity(notice)),
            ];
            var receivers = state.Webhooks.Where(w => w.Receives(request.Kind)).ToList();
            try
            {
                if (receivers.Count == 0)
                {
                    var answers = await batcher.SubmitAsync(store.Table, actions, cancellationToken);
                    store.Remember(request.CustomerId, state with { Last = notice.Sequence, ETag = answers[0].Headers.ETag ?? default });
                    return notice;
                }

                var run = new NoticeDelivery(request.CustomerId, notice.NoticeId, notice.Sequence, request.Kind,
                    [.. receivers.Select(w => new DeliveryTarget(w.WebhookId) { NextAttemptAt = request.CreatedAt })]);
                ETag? counter = null;
                var started = await engine.StartAsync(delivery, NoticeStore.DeliveryLocation(request.CustomerId, notice.NoticeId), notice.NoticeId, run, actions,
                    committed: answers => counter = answers[0].Headers.ETag, cancellationToken: cancellationToken);
                if (started && counter is { } etag)
                {
                    // The counter as written: the customer's next notice needs no read of the partition (a query).
                    store.Remember(request.CustomerId, state with { Last = notice.Sequence, ETag = etag });
                    return notice;
                }

                store.Forget(request.CustomerId);
                if (started)
                {
                    return notice;
                }
            }
            catch (TableTransactionFailedException ex) when (ex.Status is 409 or 412)
            {
                store.Forget(request.CustomerId);
            }

            // The counter moved (another writer) or the notice exists already.
            if (await store.GetByIdAsync(request.CustomerId, notice.NoticeId, cancellationToken) is { } existing)
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

    private static TableTransactionAction CounterAction(string customerId, NoticeStore.PartitionState state, long last)
    {
        var counter = new TableEntity(customerId, NoticeStore.CounterRow) { ["Last"] = last };
        return state.ETag == default
            ? new TableTransactionAction(TableTransactionActionType.Add, counter)
            : new TableTransactionAction(TableTransactionActionType.UpdateMerge, counter, state.ETag);
    }

    private static TableTransactionAction MarkerAction(Notice notice) =>
        new(TableTransactionActionType.Add, new TableEntity(notice.CustomerId, NoticeStore.MarkerPrefix + notice.NoticeId) { ["Sequence"] = notice.Sequence });
}

using System.Globalization;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;

namespace BusinessApi.Notifications;

/// <summary>Something about the channel an operator must act on: a notice overdue, or a webhook delivery given up.</summary>
public sealed record NoticeAlert(string Kind, string CustomerId, string NoticeId, string NoticeKind, DateTimeOffset RaisedAt)
{
    public DateTimeOffset? DeliverBy { get; init; }

    public string? WebhookId { get; init; }

    public string? Url { get; init; }

    public int? Attempts { get; init; }

    public int? LastStatus { get; init; }

    public string? LastError { get; init; }

    public DateTimeOffset? FirstAttemptAt { get; init; }
}

/// <summary>Table <c>NoticeAlerts</c>: one partition per alert kind, one row per notice (and webhook).</summary>
public sealed class NoticeAlerts(StorageResources storage)
{
    public const string TableName = "NoticeAlerts";
    public const string Overdue = "overdue";
    public const string DeadLetter = "deadLetter";

    private readonly TableClient _table = storage.Table(TableName);

    public async Task PutAsync(NoticeAlert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var row = alert.CustomerId + "|" + alert.NoticeId + (alert.WebhookId is null ? "" : "|" + alert.WebhookId);
        await _table.UpsertEntityAsync(new TableEntity(alert.Kind, row)
        {
            ["CustomerId"] = alert.CustomerId,
            ["NoticeId"] = alert.NoticeId,
            ["NoticeKind"] = alert.NoticeKind,
            ["RaisedAt"] = alert.RaisedAt,
            ["DeliverBy"] = alert.DeliverBy,
            ["WebhookId"] = alert.WebhookId,
            ["Url"] = alert.Url,
            ["Attempts"] = alert.Attempts,
            ["LastStatus"] = alert.LastStatus,
            ["LastError"] = alert.LastError,
            ["FirstAttemptAt"] = alert.FirstAttemptAt,
        }, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<IReadOnlyList<NoticeAlert>> ListAsync(string kind, int limit, CancellationToken cancellationToken)
    {
        var result = new List<NoticeAlert>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {kind}"), maxPerPage: Math.Min(limit, 1000), cancellationToken: cancellationToken))
        {
            result.Add(new NoticeAlert(kind, e.GetString("CustomerId") ?? "", e.GetString("NoticeId") ?? "", e.GetString("NoticeKind") ?? "", e.GetDateTimeOffset("RaisedAt") ?? default)
            {
                DeliverBy = e.GetDateTimeOffset("DeliverBy"),
                WebhookId = e.GetString("WebhookId"),
                Url = e.GetString("Url"),
                Attempts = e.GetInt32("Attempts"),
                LastStatus = e.GetInt32("LastStatus"),
                LastError = e.GetString("LastError"),
                FirstAttemptAt = e.GetDateTimeOffset("FirstAttemptAt"),
            });
            if (result.Count == limit)
            {
                break;
            }
        }

        return result;
    }

    public async Task DeleteAsync(string kind, string customerId, string noticeId, CancellationToken cancellationToken, string? webhookId = null)
    {
        try
        {
            await _table.DeleteEntityAsync(kind, customerId + "|" + noticeId + (webhookId is null ? "" : "|" + webhookId), ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // already gone
        }
    }
}

/// <summary>
/// The terms' delivery deadlines (R-36 refusals within the operational day, R-51 refund notices by the next
/// operational day, R-60 suspensions by the next working day, R-62 planned maintenance by the working day
/// before). Every few minutes this job reads the due index up to today; a notice past its deadline that the
/// customer neither read from the feed nor acknowledged through a webhook is escalated once: listed for
/// operators (<c>GET /ops/notices/alerts?kind=overdue</c>), journaled, logged and counted. A notice delivered
/// late leaves the list at the next run.
/// </summary>
public sealed partial class NoticeDeadlineJob(NoticeStore notices, NoticeAlerts alerts, AuditJournal audit, TimeProvider time, ILogger<NoticeDeadlineJob> logger) : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:notice-deadlines:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "notice-deadlines";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 */5 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var escalated = 0;
        await foreach (var (day, key) in notices.Due.DueAsync(KazakhstanTime.LocalDate(now), cancellationToken))
        {
            var parts = key.Split('|');
            var notice = parts.Length == 2 ? await notices.GetByIdAsync(parts[0], parts[1], cancellationToken) : null;
            if (notice is { DeliverBy: { } deliverBy } && deliverBy > now && notice.DeliveredAt is null)
            {
                continue; // later today
            }

            if (notice is { DeliveredAt: null, EscalatedAt: null, DeliverBy: not null })
            {
                await EscalateAsync(notice, now, cancellationToken);
                escalated++;
            }

            // Delivered, escalated, or an intent whose notice was never written: the row has done its work.
            await notices.Due.DeleteAsync(day, key, cancellationToken);
        }

        // Overdue notices delivered since leave the operators' list.
        foreach (var alert in await alerts.ListAsync(NoticeAlerts.Overdue, 1000, cancellationToken))
        {
            if (await notices.GetByIdAsync(alert.CustomerId, alert.NoticeId, cancellationToken) is not { DeliveredAt: null })
            {
                await alerts.DeleteAsync(NoticeAlerts.Overdue, alert.CustomerId, alert.NoticeId, cancellationToken);
            }
        }

        if (escalated > 0)
        {
            LogRun(logger, escalated);
        }
    }

    private async Task EscalateAsync(Notice notice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await alerts.PutAsync(new NoticeAlert(NoticeAlerts.Overdue, notice.CustomerId, notice.NoticeId, notice.Kind, now) { DeliverBy = notice.DeliverBy }, cancellationToken);
        await notices.MarkEscalatedAsync(notice, now, cancellationToken);
        await audit.AppendAsync(new AuditRecord(notice.CustomerId, "timer:" + Name, "notice.overdue", AuditOutcome.Failed)
        {
            Target = "notifications/" + notice.NoticeId,
            Details = new Dictionary<string, string>
            {
                ["kind"] = notice.Kind,
                ["deliverBy"] = notice.DeliverBy?.ToString("O", CultureInfo.InvariantCulture) ?? "",
            },
        }, cancellationToken);
        NotificationMetrics.Overdue.Add(1, new KeyValuePair<string, object?>("kind", notice.Kind));
        LogOverdue(logger, notice.NoticeId, notice.Kind, notice.CustomerId, notice.DeliverBy);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notice {NoticeId} ({Kind}) to {CustomerId} was not delivered by its deadline {DeliverBy:O}: escalated to operators")]
    private static partial void LogOverdue(ILogger logger, string noticeId, string kind, string customerId, DateTimeOffset? deliverBy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notice deadlines: {Escalated} notices escalated as overdue")]
    private static partial void LogRun(ILogger logger, int escalated);
}

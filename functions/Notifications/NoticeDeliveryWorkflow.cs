using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Workflows;
using Microsoft.Extensions.Options;

namespace BusinessApi.Notifications;

/// <summary>The outbox entry of one notice: its webhook receivers and how each delivery went.</summary>
public sealed record NoticeDelivery(string CustomerId, string NoticeId, long Sequence, string Kind, IReadOnlyList<DeliveryTarget> Targets);

public sealed record DeliveryTarget(string WebhookId)
{
    public int Attempts { get; init; }

    public DateTimeOffset? FirstAttemptAt { get; init; }

    public DateTimeOffset NextAttemptAt { get; init; }

    public DateTimeOffset? DeliveredAt { get; init; }

    public DateTimeOffset? DeadLetteredAt { get; init; }

    /// <summary>The subscription was deleted before the notice reached it.</summary>
    public bool Dropped { get; init; }

    public int? LastStatus { get; init; }

    public string? LastError { get; init; }

    public bool IsPending => DeliveredAt is null && DeadLetteredAt is null && !Dropped;
}

/// <summary>What a receiver gets: the notice, as the feed shows it.</summary>
public sealed record WebhookPayload(string Id, string Type, DateTimeOffset CreatedAt, string CustomerId, NoticeResponse Notice);

/// <summary>
/// Delivers one notice to the customer's webhooks, at least once, each delivery with the notice's id as
/// <c>webhook-id</c> so receivers can de-duplicate. A failed attempt (no 2xx answer within the timeout) is
/// retried with exponential backoff (a durable timer) for <see cref="NotificationOptions.RetryHours"/>; the
/// attempt at the end of that window is the last, after which the delivery is dead-lettered: listed for
/// operators, journaled, counted. The notice stays in the feed either way.
/// </summary>
public sealed partial class NoticeDeliveryWorkflow : WorkflowDefinition<NoticeDelivery>
{
    public const string WorkflowName = "notice-delivery";

    private readonly NoticeStore _notices;
    private readonly WebhookSender _sender;
    private readonly NoticeAlerts _alerts;
    private readonly AuditJournal _audit;
    private readonly IOptions<NotificationOptions> _options;
    private readonly ILogger<NoticeDeliveryWorkflow> _logger;

    public NoticeDeliveryWorkflow(NoticeStore notices, WebhookSender sender, NoticeAlerts alerts, AuditJournal audit, IOptions<NotificationOptions> options, ILogger<NoticeDeliveryWorkflow> logger)
        : base(WorkflowName)
    {
        _notices = notices;
        _sender = sender;
        _alerts = alerts;
        _audit = audit;
        _options = options;
        _logger = logger;
        Step("deliver", next: ["deliver", "done"], DeliverAsync);
        Terminal("done");
    }

    /// <summary>The delay before retry number <paramref name="failures"/> (1 = after the first failure): 5 s, 10 s, 20 s, … up to the maximum.</summary>
    public static TimeSpan RetryDelay(int failures, NotificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var seconds = options.FirstRetrySeconds * Math.Pow(2, Math.Min(30, Math.Max(0, failures - 1)));
        return TimeSpan.FromSeconds(Math.Min(seconds, options.MaxRetryDelayMinutes * 60.0));
    }

    private async Task<Transition> DeliverAsync(StepContext<NoticeDelivery> context, CancellationToken cancellationToken)
    {
        var delivery = context.Data;
        var now = context.Now;
        var options = _options.Value;
        var due = delivery.Targets.Where(t => t.IsPending && t.NextAttemptAt <= now).ToList();
        if (due.Count > 0)
        {
            var (notice, webhooks) = await LoadAsync(delivery, due, cancellationToken);
            var body = JsonSerializer.SerializeToUtf8Bytes(
                new WebhookPayload(notice.NoticeId, notice.Kind, notice.CreatedAt, notice.CustomerId, NoticeResponse.From(notice, "ru")),
                PlatformExtensions.JsonOptions);
            var results = await Task.WhenAll(due.Select(async target =>
            {
                if (!webhooks.TryGetValue(target.WebhookId, out var webhook))
                {
                    return target with { Dropped = true, LastError = "webhook_deleted" };
                }

                var (status, error) = await _sender.SendAsync(webhook, notice.NoticeId, now, body, cancellationToken);
                var first = target.FirstAttemptAt ?? now;
                var attempted = target with { Attempts = target.Attempts + 1, FirstAttemptAt = first, LastStatus = status, LastError = error };
                if (status is >= 200 and < 300)
                {
                    NotificationMetrics.Deliveries.Add(1, new KeyValuePair<string, object?>("outcome", "delivered"));
                    NotificationMetrics.DeliveryDelay.Record((now - notice.CreatedAt).TotalMilliseconds);
                    return attempted with { DeliveredAt = now, LastError = null };
                }

                NotificationMetrics.Deliveries.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
                var window = first + TimeSpan.FromHours(Math.Max(24, options.RetryHours));
                if (now >= window)
                {
                    return attempted with { DeadLetteredAt = now };
                }

                var next = now + RetryDelay(attempted.Attempts, options);
                return attempted with { NextAttemptAt = next > window ? window : next };
            }));

            var byId = results.ToDictionary(t => t.WebhookId, StringComparer.Ordinal);
            context.Data = delivery = delivery with { Targets = [.. delivery.Targets.Select(t => byId.GetValueOrDefault(t.WebhookId) ?? t)] };
            if (notice.WebhookDeliveredAt is null && results.Any(r => r.DeliveredAt is not null))
            {
                context.Write(new TableTransactionAction(TableTransactionActionType.UpdateMerge,
                    new TableEntity(delivery.CustomerId, NoticeStore.NoticeRow(delivery.Sequence)) { ["WebhookDeliveredAt"] = now }, ETag.All));
            }

            // What the customer sees on GET /webhooks/{id}: the last attempt, committed with this step.
            foreach (var attempted in results.Where(r => !r.Dropped))
            {
                var row = new TableEntity(delivery.CustomerId, NoticeStore.WebhookPrefix + attempted.WebhookId)
                {
                    ["LastAttemptAt"] = now,
                    ["LastOutcome"] = attempted.DeliveredAt is not null ? "delivered" : attempted.DeadLetteredAt is not null ? "deadLettered" : "failed",
                    ["LastStatus"] = attempted.LastStatus,
                    ["LastError"] = attempted.LastError ?? "",
                };
                if (attempted.DeliveredAt is not null)
                {
                    row["LastDeliveredAt"] = now;
                }

                context.Write(new TableTransactionAction(TableTransactionActionType.UpdateMerge, row, ETag.All));
            }

            foreach (var dead in results.Where(r => r.DeadLetteredAt is not null))
            {
                await DeadLetterAsync(context, notice, dead, webhooks[dead.WebhookId], cancellationToken);
            }
        }

        var pending = delivery.Targets.Where(t => t.IsPending).ToList();
        return pending.Count == 0 ? context.Complete("done") : context.WaitUntil(pending.Min(t => t.NextAttemptAt), "deliver");
    }

    /// <summary>
    /// The notice and the due targets' subscriptions as they are now, by point reads only: a query of the customer's
    /// partition would cost more with every notice the partition holds (Azurite scans it), and every delivery asks.
    /// </summary>
    private async Task<(Notice Notice, Dictionary<string, WebhookSubscription> Webhooks)> LoadAsync(
        NoticeDelivery delivery, IReadOnlyList<DeliveryTarget> due, CancellationToken cancellationToken)
    {
        var noticeRead = _notices.GetAsync(delivery.CustomerId, delivery.Sequence, cancellationToken);
        var webhookReads = due.Select(t => t.WebhookId).Distinct(StringComparer.Ordinal)
            .Select(id => _notices.GetWebhookAsync(delivery.CustomerId, id, cancellationToken)).ToList();
        var notice = await noticeRead
            ?? throw new InvalidOperationException($"Notice {delivery.NoticeId} ({NoticeStore.NoticeRow(delivery.Sequence)}) of {delivery.CustomerId} does not exist.");
        var webhooks = await Task.WhenAll(webhookReads);
        return (notice, webhooks.OfType<WebhookSubscription>().ToDictionary(w => w.WebhookId, StringComparer.Ordinal));
    }

    private async Task DeadLetterAsync(StepContext<NoticeDelivery> context, Notice notice, DeliveryTarget target, WebhookSubscription webhook, CancellationToken cancellationToken)
    {
        await _alerts.PutAsync(new NoticeAlert(NoticeAlerts.DeadLetter, notice.CustomerId, notice.NoticeId, notice.Kind, context.Now)
        {
            WebhookId = target.WebhookId,
            Url = webhook.Url.AbsoluteUri,
            Attempts = target.Attempts,
            LastStatus = target.LastStatus,
            LastError = target.LastError,
            FirstAttemptAt = target.FirstAttemptAt,
        }, cancellationToken);
        await _audit.AppendAsync(new AuditRecord(notice.CustomerId, "system", "notice.webhook_dead_lettered", AuditOutcome.Failed)
        {
            Target = "webhooks/" + target.WebhookId,
            CorrelationId = context.InstanceId,
            Details = new Dictionary<string, string>
            {
                ["noticeId"] = notice.NoticeId,
                ["attempts"] = target.Attempts.ToString(CultureInfo.InvariantCulture),
                ["lastStatus"] = target.LastStatus?.ToString(CultureInfo.InvariantCulture) ?? "",
                ["lastError"] = target.LastError ?? "",
            },
        }, cancellationToken);
        NotificationMetrics.DeadLetters.Add(1);
        LogDeadLetter(_logger, notice.NoticeId, target.WebhookId, target.Attempts, target.FirstAttemptAt);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Notice {NoticeId} could not be delivered to webhook {WebhookId} after {Attempts} attempts since {FirstAttemptAt:O}: dead-lettered")]
    private static partial void LogDeadLetter(ILogger logger, string noticeId, string webhookId, int attempts, DateTimeOffset? firstAttemptAt);
}

/// <summary>POSTs signed notices to receivers: no redirects, a hard timeout, and never the body or secret in the logs.</summary>
public sealed partial class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly WebhookSigner _signer;
    private readonly ILogger<WebhookSender> _logger;

    public WebhookSender(WebhookSigner signer, IOptions<NotificationOptions> options, ILogger<WebhookSender> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _signer = signer;
        _logger = logger;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = 16,
        };
        if (!options.Value.AllowLoopbackHttp)
        {
            // The URL was checked when subscribed; a name can resolve elsewhere later (DNS rebinding), so the
            // address is checked again here, and the connection goes to the address that was checked.
            handler.ConnectCallback = ConnectToPublicAddressAsync;
        }

        _client = new HttpClient(handler)
        {
            Timeout = options.Value.DeliveryTimeout,
        };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("BusinessApi-Webhooks", "1"));
    }

    /// <summary>One attempt: the receiver's status code, or null and what went wrong.</summary>
    public async Task<(int? Status, string? Error)> SendAsync(WebhookSubscription webhook, string messageId, DateTimeOffset now, byte[] body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(webhook);
        var timestamp = now.ToUnixTimeSeconds();
        var secret = await _signer.SecretAsync(webhook, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSigner.Sign(secret, messageId, timestamp, body));
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            if (status is < 200 or >= 300)
            {
                LogRefused(_logger, webhook.WebhookId, messageId, status);
            }

            return (status, status is >= 200 and < 300 ? null : "status_" + status.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var error = ex is TaskCanceledException ? "timeout" : "connection_failed";
            LogFailed(_logger, webhook.WebhookId, messageId, error, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return (null, error);
        }
    }

    public void Dispose() => _client.Dispose();

    private static async ValueTask<Stream> ConnectToPublicAddressAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var addresses = await System.Net.Dns.GetHostAddressesAsync(context.DnsEndPoint.Host, cancellationToken);
        var allowed = addresses.Where(a => !WebhookUrls.IsPrivate(a)).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"The webhook host {context.DnsEndPoint.Host} resolves only to private addresses.");
        }

        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} answered {Status} to notice {NoticeId}")]
    private static partial void LogRefused(ILogger logger, string webhookId, string noticeId, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {WebhookId} not reached for notice {NoticeId}: {Error} after {ElapsedMs:F0} ms")]
    private static partial void LogFailed(ILogger logger, string webhookId, string noticeId, string error, double elapsedMs);
}

/// <summary>The channel's metrics (meter <c>BusinessApi.Notifications</c>).</summary>
public static class NotificationMetrics
{
    public const string MeterName = "BusinessApi.Notifications";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("webhook.deliveries", description: "Webhook delivery attempts, by outcome");

    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("webhook.dead_letters", description: "Webhook deliveries given up after the retry window");

    public static readonly Histogram<double> DeliveryDelay = Meter.CreateHistogram<double>("webhook.delivery_delay", "ms", "From the notice's creation to its acknowledgement");

    public static readonly Counter<long> Overdue = Meter.CreateCounter<long>("notices.overdue", description: "Notices not delivered by their legal deadline, escalated to operators");
}

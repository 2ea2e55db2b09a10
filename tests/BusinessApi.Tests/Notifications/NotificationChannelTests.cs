using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Notifications;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Notifications;

/// <summary>The communication channel: a gap-free feed, signed webhooks with retries and dead-letters, and delivery deadlines.</summary>
public sealed class NotificationChannelTests
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;

    private static Dictionary<string, string> Settings => new()
    {
        ["Notifications:AllowLoopbackHttp"] = "true",
        ["Notifications:FirstRetrySeconds"] = "60",
        ["Notifications:MaxRetryDelayMinutes"] = "480",
    };

    private static Task<Notice> AddAsync(TestApp app, string customerId, string about, DateTimeOffset? deliverBy = null, string kind = NoticeKinds.ServiceResumed) =>
        app.Services.GetRequiredService<NoticeChannel>().AddAsync(
            new NoticeRequest(customerId, kind, about, app.Time.GetUtcNow(), about, ["x", "y", "z", "w"]) { DeliverBy = deliverBy }, default);

    private static async Task<(string Secret, string WebhookId)> SubscribeAsync(HttpClient client, WebhookReceiver receiver, params string[] events)
    {
        var created = await client.PostAsJsonAsync("/api/v1/webhooks", new { url = receiver.Url.AbsoluteUri, events = events.Length == 0 ? ["*"] : events });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("no-store", created.Headers.CacheControl?.ToString());
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        receiver.Secret = body.GetProperty("secret").GetString();
        return (receiver.Secret!, body.GetProperty("webhook").GetProperty("webhookId").GetString()!);
    }

    [Fact]
    public async Task Feed_IsGapFreeAndInOrder_UnderConcurrentWriters_AndTheCursorIsStable()
    {
        await using var app = await TestApp.StartAsync();
        await using var sibling = await app.StartSiblingAsync();
        var customerId = await app.CreateCustomerAsync();
        var writes = Enumerable.Range(0, 40).Select(i => AddAsync(i % 2 == 0 ? app : sibling, customerId, $"feed-test:{i}")).ToList();
        var added = await Task.WhenAll(writes);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => (long)i), added.Select(n => n.Sequence).Order());

        // The same thing again is the same notice, not a new one.
        var again = await AddAsync(app, customerId, "feed-test:7");
        Assert.Equal(added.Single(n => n.Subject == "feed-test:7").Sequence, again.Sequence);

        using var reader = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications?pageSize=15" + (after is null ? "" : "&after=" + after));
            var items = page.GetProperty("items").EnumerateArray().ToList();
            seen.AddRange(items.Select(i => i.GetProperty("cursor").GetString()!));
            after = items.Count == 0 ? null : page.GetProperty("after").GetString();
        }
        while (after is not null);
        Assert.Equal(Enumerable.Range(1, 40).Select(i => i.ToString("D12", System.Globalization.CultureInfo.InvariantCulture)), seen);

        var tail = await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications?after=" + seen[^1]);
        Assert.Empty(tail.GetProperty("items").EnumerateArray());
        Assert.Equal(seen[^1], tail.GetProperty("after").GetString());

        var bad = await reader.GetAsync("/api/v1/notifications?after=ntc_zz");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("validation_failed", (await Problem.ReadAsync(bad)).Code);
    }

    [Fact]
    public async Task Webhook_IsSignedAsTheReadmeSays_AndAcknowledgementDeliversTheNotice()
    {
        await using var app = await TestApp.StartAsync(Settings);
        await using var receiver = await WebhookReceiver.StartAsync(() => app.Time.GetUtcNow());
        var customerId = await app.CreateCustomerAsync();
        using var client = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        var (secret, webhookId) = await SubscribeAsync(client, receiver, NoticeKinds.ServiceResumed);
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);

        var notice = await AddAsync(app, customerId, "hook-test", deliverBy: app.Time.GetUtcNow().AddHours(1));
        await AddAsync(app, customerId, "other-kind", kind: NoticeKinds.MaintenancePlanned); // not subscribed
        await Eventually.GetAsync(() => Task.FromResult(receiver.Deliveries.Count), c => c >= 1, what: "webhook delivery");
        var delivery = Assert.Single(receiver.Deliveries);
        Assert.True(delivery.Verified);
        Assert.Equal(notice.NoticeId, delivery.Id);
        Assert.Equal(notice.NoticeId, delivery.Body.GetProperty("notice").GetProperty("noticeId").GetString());
        Assert.Equal("service_resumed", delivery.Body.GetProperty("type").GetString());
        Assert.Equal(app.Time.GetUtcNow().ToUnixTimeSeconds(), delivery.Timestamp);

        // A tampered body or a stale timestamp does not verify with the same recipe.
        var body = JsonSerializer.SerializeToUtf8Bytes(delivery.Body);
        var signature = WebhookSigner.Sign(secret, delivery.Id, delivery.Timestamp, body);
        Assert.True(receiver.Verify(delivery.Id, delivery.Timestamp, body, signature));
        Assert.False(receiver.Verify(delivery.Id, delivery.Timestamp, [.. body, (byte)' '], signature));
        Assert.False(receiver.Verify(delivery.Id, delivery.Timestamp - 301, body, WebhookSigner.Sign(secret, delivery.Id, delivery.Timestamp - 301, body)));

        var stored = await Eventually.GetAsync(() => app.Services.GetRequiredService<NoticeStore>().GetByIdAsync(customerId, notice.NoticeId, default),
            n => n?.WebhookDeliveredAt is not null, what: "webhook acknowledgement recorded");
        Assert.Equal(app.Time.GetUtcNow(), stored!.DeliveredAt);

        // Rotation: the old secret stops verifying the next delivery.
        var rotated = await client.PostAsync($"/api/v1/webhooks/{webhookId}/secret", null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newSecret = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("secret").GetString();
        Assert.NotEqual(secret, newSecret);
        await AddAsync(app, customerId, "after-rotation");
        await Eventually.GetAsync(() => Task.FromResult(receiver.Deliveries.Count), c => c >= 2, what: "delivery after rotation");
        Assert.False(receiver.Deliveries.Last().Verified); // the receiver still holds the old secret
        receiver.Secret = newSecret;
    }

    [Fact]
    public async Task FailedDelivery_IsRetriedWithBackoff_UnderTheSameId_ThenDeadLetteredAfter24Hours()
    {
        await using var app = await TestApp.StartAsync(Settings);
        await using var receiver = await WebhookReceiver.StartAsync(() => app.Time.GetUtcNow());
        var customerId = await app.CreateCustomerAsync();
        using var client = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        await SubscribeAsync(client, receiver);
        var engine = app.Services.GetRequiredService<WorkflowEngine>();
        var t0 = app.Time.GetUtcNow();

        // Retries: 500, 500, then 200 — one webhook-id throughout, the receiver processes it once.
        receiver.Answer = n => n <= 2 ? 500 : 200;
        var retried = await AddAsync(app, customerId, "retry-me");
        var location = NoticeStore.DeliveryLocation(customerId, retried.NoticeId);
        var waiting = await Eventually.GetAsync(() => engine.GetAsync(location), s => s?.DueAt == t0.AddSeconds(60), what: "first retry in 60 s");
        app.Time.Advance(TimeSpan.FromSeconds(60));
        await Eventually.GetAsync(() => engine.GetAsync(location), s => s?.DueAt == t0.AddSeconds(60 + 120), what: "second retry 120 s later");
        app.Time.Advance(TimeSpan.FromSeconds(120));
        await Eventually.GetAsync(() => engine.GetAsync(location), s => s?.Status == WorkflowStatus.Completed, what: "delivered on the third attempt");
        Assert.Equal(3, receiver.Requests);
        Assert.All(receiver.Deliveries, d => Assert.Equal(retried.NoticeId, d.Id));
        Assert.Single(receiver.Processed);

        // Dead-letter: never acknowledged; attempts go on for 24 hours, the one at the end of the window is the last.
        receiver.Answer = _ => 503;
        var start = app.Time.GetUtcNow();
        var doomed = await AddAsync(app, customerId, "dead-letter-me");
        location = NoticeStore.DeliveryLocation(customerId, doomed.NoticeId);
        var attempts = 1;
        await Eventually.GetAsync(() => Task.FromResult(receiver.Requests), r => r == 3 + attempts, what: "first attempt");
        while (true)
        {
            var state = await Eventually.GetAsync(() => engine.GetAsync(location), s => s is { Status: WorkflowStatus.Completed } || s?.DueAt > app.Time.GetUtcNow(), what: "next attempt scheduled");
            if (state!.Status == WorkflowStatus.Completed)
            {
                break;
            }

            Assert.True(state.DueAt <= start.AddHours(24), $"no attempt is planned after the 24-hour window ({state.DueAt:O})");
            app.Time.Advance(state.DueAt!.Value - app.Time.GetUtcNow());
            attempts++;
            await Eventually.GetAsync(async () => (receiver.Requests, await engine.GetAsync(location)), r => r.Requests == 3 + attempts, what: $"attempt {attempts}",
                describe: r => $"{r.Requests} {r.Item2?.Status} {r.Item2?.State} {r.Item2?.DueAt:O} now {app.Time.GetUtcNow():O} attempts {r.Item2?.Attempts} err {r.Item2?.LastError} data {r.Item2?.Data} hist {string.Join(";", r.Item2?.History.Select(h => $"{h.To}/{h.Status}@{h.At:O}") ?? [])}");
        }

        Assert.Equal(start.AddHours(24), app.Time.GetUtcNow());
        Assert.InRange(attempts, 8, 20);
        using var ops = app.OperatorClient();
        var alerts = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/notices/alerts?kind=deadLetter");
        var alert = Assert.Single(alerts.GetProperty("items").EnumerateArray());
        Assert.Equal(doomed.NoticeId, alert.GetProperty("noticeId").GetString());
        Assert.Equal(attempts, alert.GetProperty("attempts").GetInt32());
        Assert.Equal(503, alert.GetProperty("lastStatus").GetInt32());

        // The customer sees the webhook failing, and when it last worked.
        using var owner = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        var seen = await owner.GetFromJsonAsync<JsonElement>($"/api/v1/webhooks/{alert.GetProperty("webhookId").GetString()}");
        Assert.Equal("deadLettered", seen.GetProperty("lastAttempt").GetProperty("outcome").GetString());
        Assert.Equal(503, seen.GetProperty("lastAttempt").GetProperty("status").GetInt32());
        Assert.Equal("status_503", seen.GetProperty("lastAttempt").GetProperty("error").GetString());
        Assert.Equal(t0.AddSeconds(180), seen.GetProperty("lastDeliveredAt").GetDateTimeOffset());

        // The feed still has it (a day later: a fresh token).
        using var reader = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        var feed = await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications");
        Assert.Contains(feed.GetProperty("items").EnumerateArray(), i => i.GetProperty("noticeId").GetString() == doomed.NoticeId);
        Assert.Equal(HttpStatusCode.BadRequest, (await ops.GetAsync("/api/v1/ops/notices/alerts?kind=nope")).StatusCode);

        // The receiver is fixed; the operator redelivers: the same webhook-id, processed once, and the dead letter leaves the list.
        receiver.Answer = _ => 200;
        var webhookId = alert.GetProperty("webhookId").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/notifications/{doomed.NoticeId}/redelivery",
            new { webhookId = "whk_0000000000000000" })).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await ops.PostAsJsonAsync($"/api/v1/ops/customers/{customerId}/notifications/{doomed.NoticeId}/redelivery", new { webhookId })).StatusCode);
        await Eventually.GetAsync(() => Task.FromResult(receiver.Processed.ContainsKey(doomed.NoticeId)), p => p, what: "redelivered");
        Assert.Equal(0, (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/notices/alerts?kind=deadLetter")).GetProperty("count").GetInt32());
        _ = waiting;
    }

    [Fact]
    public async Task NoticeNotDeliveredByItsDeadline_IsEscalated_AndOneReadInTimeIsNot()
    {
        await using var app = await TestApp.StartAsync();
        var customerId = await app.CreateCustomerAsync();
        var deadline = new DateTimeOffset(2026, 11, 25, 18, 0, 0, Kazakhstan);
        var unread = await AddAsync(app, customerId, "deadline-unread", deadline);
        using var reader = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        var job = app.Services.GetServices<IScheduledJob>().OfType<NoticeDeadlineJob>().Single();
        using var ops = app.OperatorClient();

        // Read before the deadline: delivered, never escalated.
        var early = await AddAsync(app, customerId, "deadline-read", deadline);
        var feed = await reader.GetFromJsonAsync<JsonElement>("/api/v1/notifications");
        var readItem = feed.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("noticeId").GetString() == early.NoticeId);
        Assert.Equal(app.Time.GetUtcNow(), readItem.GetProperty("deliveredAt").GetDateTimeOffset());
        Assert.Equal(deadline, readItem.GetProperty("deliverBy").GetDateTimeOffset());

        // ...but the first one was read too by that page; make a third that nobody reads.
        var ignored = await AddAsync(app, customerId, "deadline-ignored", deadline);
        app.Time.SetUtcNow(deadline.AddMinutes(-1));
        await job.RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), default);
        Assert.Equal(0, (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/notices/alerts?kind=overdue")).GetProperty("count").GetInt32());

        app.Time.SetUtcNow(deadline.AddSeconds(1));
        await job.RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), default);
        var alerts = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/notices/alerts?kind=overdue");
        var alert = Assert.Single(alerts.GetProperty("items").EnumerateArray());
        Assert.Equal(ignored.NoticeId, alert.GetProperty("noticeId").GetString());
        Assert.Equal(deadline, alert.GetProperty("deliverBy").GetDateTimeOffset());
        var journal = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject={customerId}&date=2026-11-25");
        Assert.Contains(journal.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "notice.overdue");

        // Read late: it leaves the operators' list at the next run, and is escalated only once.
        using var lateReader = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        var late = await lateReader.GetFromJsonAsync<JsonElement>("/api/v1/notifications?after=" + readItem.GetProperty("cursor").GetString());
        Assert.Equal(ignored.NoticeId, late.GetProperty("items")[0].GetProperty("noticeId").GetString());
        await job.RunAsync(new ScheduledRun(app.Time.GetUtcNow(), false, null), default);
        Assert.Equal(0, (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/notices/alerts?kind=overdue")).GetProperty("count").GetInt32());
        _ = unread;
    }

    [Fact]
    public async Task WebhookSubscriptions_RefuseBadInput()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string> { ["Notifications:MaxWebhooksPerCustomer"] = "2" });
        var customerId = await app.CreateCustomerAsync();
        using var client = await app.SoftwareClientAsync(customerId, ["notifications.read", "notifications.manage"]);
        foreach (var (body, field, code) in new (object Body, string Field, string Code)[]
        {
            (new { url = "http://127.0.0.1:9/hook", events = new[] { "*" } }, "url", "https_required"), // loopback HTTP only when allowed
            (new { url = "https://10.1.2.3/hook", events = new[] { "*" } }, "url", "private_address"),
            (new { url = "ftp://example.com/x", events = new[] { "*" } }, "url", "https_required"),
            (new { url = "https://user:pw@example.com/x", events = new[] { "*" } }, "url", "invalid_url"),
            (new { url = "https://example.com/x", events = new[] { "nope" } }, "events", "unknown_event"),
            (new { url = "https://example.com/x", events = Array.Empty<string>() }, "events", "required"),
        })
        {
            var response = await client.PostAsJsonAsync("/api/v1/webhooks", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await Problem.ReadAsync(response);
            Assert.Contains(problem.Errors, e => e.Field == field && e.Code == code);
        }

        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/a", events = new[] { "*" } })).StatusCode);
        var duplicate = await client.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/a", events = new[] { "*" } });
        Assert.Equal("webhook_exists", (await Problem.ReadAsync(duplicate)).Code);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/b", events = new[] { "*" } })).StatusCode);
        var third = await client.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://example.com/c", events = new[] { "*" } });
        Assert.Equal("webhook_limit", (await Problem.ReadAsync(third)).Code);

        var list = await client.GetFromJsonAsync<JsonElement>("/api/v1/webhooks");
        Assert.Equal(2, list.GetProperty("items").GetArrayLength());
        Assert.DoesNotContain("whsec_", list.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/webhooks/whk_0000000000000000")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/v1/webhooks/garbage")).StatusCode);

        // Another customer's webhook is not found.
        var otherId = await app.CreateCustomerAsync("ТОО Другой");
        using var other = await app.SoftwareClientAsync(otherId, ["notifications.read", "notifications.manage"]);
        var id = list.GetProperty("items")[0].GetProperty("webhookId").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/api/v1/webhooks")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task InProduction_AWebhookHostThatResolvesToAPrivateAddress_IsNeverConnected()
    {
        await using var app = await TestApp.StartAsync(); // AllowLoopbackHttp off, as in production
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var accepted = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var connection = await listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref accepted);
            }
        });
        using (var probe = new System.Net.Sockets.TcpClient())
        {
            await probe.ConnectAsync(IPAddress.Loopback, port); // the listener works
        }

        await Eventually.GetAsync(() => Task.FromResult(Volatile.Read(ref accepted)), a => a == 1, what: "probe accepted");

        // A name that passed the check when subscribed but now resolves to loopback (DNS rebinding).
        var customerId = await app.CreateCustomerAsync();
        var store = app.Services.GetRequiredService<NoticeStore>();
        var signer = app.Services.GetRequiredService<WebhookSigner>();
        var webhook = new WebhookSubscription(WebhookSubscription.NewId(), customerId, new Uri($"https://localhost:{port}/hook"), ["*"], app.Time.GetUtcNow())
        {
            KeyVersion = await signer.CurrentKeyVersionAsync(default),
        };
        await store.ChangeWebhookAsync(customerId, new Azure.Data.Tables.TableTransactionAction(Azure.Data.Tables.TableTransactionActionType.Add, webhook.ToEntity()), app.Time.GetUtcNow(), default);
        var notice = await AddAsync(app, customerId, "rebinding");
        var engine = app.Services.GetRequiredService<WorkflowEngine>();
        var waiting = await Eventually.GetAsync(() => engine.GetAsync(NoticeStore.DeliveryLocation(customerId, notice.NoticeId)),
            s => s?.Data.Contains("connection_failed", StringComparison.Ordinal) == true, what: "attempt refused before connecting");
        Assert.Equal(WorkflowStatus.Waiting, waiting!.Status);
        Assert.Equal(1, Volatile.Read(ref accepted));
        listener.Stop();
    }
}

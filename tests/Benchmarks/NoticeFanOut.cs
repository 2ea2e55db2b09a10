using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Notifications;
using BusinessApi.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BusinessApi.Benchmarks;

/// <summary>
/// Notices fanned out to webhook subscribers: <c>subscribers</c> customers, each with one webhook on a loopback
/// receiver that verifies every signature; the operator announces works (an emergency maintenance notice, which
/// goes to every customer), and the app broadcasts, writes each notice with its outbox entry, and delivers. The
/// figures: deliveries per second from the announcement to the last acknowledgement, and the delay from each
/// notice's creation to its acknowledgement (p50/p99), over several rounds.
/// </summary>
public sealed class NoticeFanOut(string connectionString)
{
    public sealed record Figures(int Subscribers, IReadOnlyList<Measurement> Rounds, Measurement Overall, double StorageCallsPerDelivery, long BadSignatures, long Duplicates);

    private sealed record Arrival(string NoticeId, string Subject, DateTimeOffset CreatedAt, DateTimeOffset ArrivedAt, bool Verified);

    public async Task<Figures> MeasureAsync(int subscribers, int rounds, CancellationToken cancellationToken = default)
    {
        var secrets = new ConcurrentDictionary<int, byte[]>();
        var arrivals = new ConcurrentQueue<Arrival>();
        long badSignatures = 0;
        var seen = new ConcurrentDictionary<string, byte>();
        long duplicates = 0;

        var receiverBuilder = WebApplication.CreateSlimBuilder();
        receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        receiverBuilder.Logging.ClearProviders();
        await using var receiver = receiverBuilder.Build();
        receiver.MapPost("/hook/{index:int}", async (int index, HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var body = buffer.ToArray();
            var id = context.Request.Headers["webhook-id"].ToString();
            var timestamp = context.Request.Headers["webhook-timestamp"].ToString();
            var signature = context.Request.Headers["webhook-signature"].ToString();
            var verified = secrets.TryGetValue(index, out var key) && signature == "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, (byte[])[.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body]));
            if (!verified)
            {
                Interlocked.Increment(ref badSignatures);
            }

            if (!seen.TryAdd(id + "/" + index, 0))
            {
                Interlocked.Increment(ref duplicates);
            }

            using var json = JsonDocument.Parse(body);
            var notice = json.RootElement.GetProperty("notice");
            arrivals.Enqueue(new Arrival(id, notice.GetProperty("subject").GetString() ?? "", notice.GetProperty("createdAt").GetDateTimeOffset(), DateTimeOffset.UtcNow, verified));
            return Results.Ok();
        });
        await receiver.StartAsync(cancellationToken);
        var receiverUrl = BenchApp.AddressOf(receiver);

        var prefix = "nf" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        var operatorKey = "ops_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var app = BenchApp.Create(connectionString, prefix, operatorKey, ["--Notifications:AllowLoopbackHttp=true"]);
        await app.StartAsync(cancellationToken);
        using var ops = new HttpClient { BaseAddress = BenchApp.AddressOf(app) };
        ops.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
        var notices = app.Services.GetRequiredService<NoticeStore>();
        var signer = app.Services.GetRequiredService<WebhookSigner>();

        Console.Error.WriteLine($"[notices] setting up {subscribers:N0} customers, each with a webhook ...");
        var keyVersion = await signer.CurrentKeyVersionAsync(cancellationToken);
        await Parallel.ForEachAsync(Enumerable.Range(0, subscribers), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var created = await ops.PostAsJsonAsync("/api/v1/ops/customers", new { name = $"ТОО Подписчик {i}", bin = Tests.Accounts.BankData.NewBin() }, ct);
            created.EnsureSuccessStatusCode();
            var customerId = (await created.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("customerId").GetString()!;
            var webhook = new WebhookSubscription(WebhookSubscription.NewId(), customerId, new Uri(receiverUrl, $"/hook/{i}"), ["*"], DateTimeOffset.UtcNow) { KeyVersion = keyVersion };
            await notices.ChangeWebhookAsync(customerId, new TableTransactionAction(TableTransactionActionType.Add, webhook.ToEntity()), DateTimeOffset.UtcNow, ct);
            var secret = await signer.SecretAsync(webhook, ct);
            secrets[i] = Convert.FromBase64String(secret[WebhookSigner.SecretPrefix.Length..]);
        });

        var monitor = app.Services.GetRequiredService<StorageCallMonitor>();
        var callsBefore = monitor.Calls;
        var results = new List<Measurement>();
        var allDelays = new List<double>();
        var total = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            var announced = Stopwatch.StartNew();
            var response = await ops.PostAsJsonAsync("/api/v1/ops/maintenance", new
            {
                startsAt = DateTimeOffset.UtcNow.AddMinutes(-30), endsAt = DateTimeOffset.UtcNow, planned = false, message = $"Восстановление, раунд {round + 1}",
            }, cancellationToken);
            response.EnsureSuccessStatusCode();
            var maintenanceId = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("maintenanceId").GetString()!;
            var limit = Stopwatch.StartNew();
            while (arrivals.Count(a => a.Subject == maintenanceId) < subscribers && limit.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(20, cancellationToken);
            }

            var elapsed = announced.Elapsed;
            var mine = arrivals.Where(a => a.Subject == maintenanceId).ToList();
            var delays = mine.Select(a => (a.ArrivedAt - a.CreatedAt).TotalMilliseconds).Order().ToArray();
            allDelays.AddRange(delays);
            results.Add(new Measurement($"round {round + 1}: {mine.Count:N0} of {subscribers:N0} delivered", "deliveries", mine.Count, mine.Count, elapsed, Percentile(delays, 0.5), Percentile(delays, 0.99)));
            Console.Error.WriteLine($"[notices] {results[^1].Row()}");
        }

        var delivered = results.Sum(r => r.Operations);
        var sorted = allDelays.Order().ToArray();
        var overall = new Measurement($"all rounds ({rounds} x {subscribers:N0})", "deliveries", delivered, delivered, total.Elapsed, Percentile(sorted, 0.5), Percentile(sorted, 0.99));
        var callsPerDelivery = (double)(monitor.Calls - callsBefore) / Math.Max(1, delivered);
        await app.StopAsync(cancellationToken);
        await receiver.StopAsync(cancellationToken);
        return new Figures(subscribers, results, overall, callsPerDelivery, Interlocked.Read(ref badSignatures), Interlocked.Read(ref duplicates));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

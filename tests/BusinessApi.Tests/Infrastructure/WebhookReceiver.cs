using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>
/// A customer's webhook receiver on loopback, written from the README's "Verifying a webhook" section alone
/// (no code of the app): it checks <c>webhook-signature</c> over <c>{webhook-id}.{webhook-timestamp}.{body}</c>
/// with the base64-decoded key after <c>whsec_</c>, in constant time, rejects timestamps more than 5 minutes
/// from its clock, and de-duplicates by <c>webhook-id</c>.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Func<DateTimeOffset> _clock;
    private int _requests;

    public sealed record Delivery(string Id, long Timestamp, bool Verified, JsonElement Body, int Answered);

    private WebhookReceiver(WebApplication app, Func<DateTimeOffset> clock)
    {
        _app = app;
        _clock = clock;
    }

    public ConcurrentQueue<Delivery> Deliveries { get; } = new();

    /// <summary>Ids accepted once (what a de-duplicating receiver processes).</summary>
    public ConcurrentDictionary<string, byte> Processed { get; } = new();

    public string? Secret { get; set; }

    /// <summary>The status to answer the n-th request (1-based); 200 by default.</summary>
    public Func<int, int> Answer { get; set; } = _ => 200;

    public Uri Url { get; private set; } = null!;

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<WebhookReceiver> StartAsync(Func<DateTimeOffset> clock)
    {
        WebhookReceiver? receiver = null;
        var (app, address) = await LoopbackServer.StartAsync(app => app.MapPost("/hook", (Delegate)((HttpContext context) => receiver!.HandleAsync(context))));
        receiver = new WebhookReceiver(app, clock) { Url = new Uri(address, "/hook") };
        return receiver;
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var n = Interlocked.Increment(ref _requests);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var id = context.Request.Headers["webhook-id"].ToString();
        var timestampText = context.Request.Headers["webhook-timestamp"].ToString();
        var signatures = context.Request.Headers["webhook-signature"].ToString();
        var verified = long.TryParse(timestampText, out var timestamp) && Verify(id, timestamp, body, signatures);
        var status = verified ? Answer(n) : 401;
        Deliveries.Enqueue(new Delivery(id, timestamp, verified, JsonDocument.Parse(body).RootElement.Clone(), status));
        if (status is >= 200 and < 300)
        {
            Processed.TryAdd(id, 0);
        }

        return Results.StatusCode(status);
    }

    /// <summary>The README's recipe.</summary>
    public bool Verify(string id, long timestamp, byte[] body, string signatureHeader)
    {
        if (Secret is null || Math.Abs(_clock().ToUnixTimeSeconds() - timestamp) > 300)
        {
            return false;
        }

        var key = Convert.FromBase64String(Secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        var expected = Encoding.ASCII.GetBytes(Convert.ToBase64String(HMACSHA256.HashData(key, signed)));
        foreach (var part in signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = part.IndexOf(',', StringComparison.Ordinal);
            if (comma > 0 && part[..comma] == "v1" && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(part[(comma + 1)..]), expected))
            {
                return true;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Testing;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace BusinessApi.Tests.Platform;

/// <summary>
/// Storage stalls and restarts under load, and an app instance killed mid-run. Each time the app stays up, <c>/readyz</c>
/// goes red and back to green, clients get 503 with <c>Retry-After</c> (never 500) and retry with the same
/// Idempotency-Key, every document accepted with 202 ends exactly once, the payer's balance is its money less what was
/// executed, and no workflow is left faulted. Each prints its figures: the time to recover and the clients' retries.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class StorageStallTests(ITestOutputHelper output)
{
    private const decimal Funds = 1_000_000m;

    /// <summary>Requests wait at most a few seconds for a storage call (the app's defaults are longer, for Azure).</summary>
    private static Dictionary<string, string> Settings(AzuriteProcess azurite) => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["AzureClients:Retry:MaxRetries"] = "1",
        ["AzureClients:Retry:NetworkTimeout"] = "00:00:03",
        ["Calendar:OperationalHours"] = "00:00-24:00",
        ["Calendar:Weekend"] = "",
        ["Calendar:ApplyPublicHolidays"] = "false",
        ["Workflows:LeaseSeconds"] = "5",
        ["Workflows:RetryBaseMilliseconds"] = "200",
        ["Workflows:RetryMaxSeconds"] = "2",
    };

    [Fact]
    public async Task AzuritePausedFor30Seconds_UnderLoad_ClientsGet503_AndEveryAcceptedDocumentEndsOnce()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        await RunAsync(azurite, "paused (SIGSTOP) for 30 s", async () =>
        {
            azurite.Pause();
            await Task.Delay(TimeSpan.FromSeconds(30));
            azurite.Resume();
        });
    }

    [Fact]
    public async Task AzuriteStoppedAndRestartedOnItsData_UnderLoad_ClientsGet503_AndEveryAcceptedDocumentEndsOnce()
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        await RunAsync(azurite, "stopped (SIGTERM) and started again on its data folder", async () =>
        {
            await azurite.StopAsync();
            await Task.Delay(TimeSpan.FromSeconds(5));
            await azurite.StartAgainAsync();
        });
    }

    [Fact]
    public async Task OneOfTwoInstancesKilledMidRun_TheOtherFinishesItsWork_AndEveryAcceptedDocumentEndsOnce()
    {
        var calendar = new Dictionary<string, string>
        {
            ["Calendar:OperationalHours"] = "00:00-24:00",
            ["Calendar:Weekend"] = "",
            ["Calendar:ApplyPublicHolidays"] = "false",
        };
        await using var setup = await TestApp.StartAsync(new Dictionary<string, string>(calendar) { ["Workflows:Worker"] = "false" }, realTime: true);
        using var pki = new TestPki();
        await setup.TrustAsync(pki);
        using var payer = await setup.PayerAsync(pki, Funds);
        (string, string)[] settings =
        [
            .. calendar.Select(c => (c.Key, c.Value)),
            ("Operations:ApiKeys", setup.OperatorKey),
            ("Secrets:LocalPath", Path.Combine(Path.GetTempPath(), "business-api-tests", setup.TablePrefix, "secrets.json")),
            ("Http:RateLimiting:PermitsPerSecond", "100000"),
            ("Http:RateLimiting:Burst", "100000"),
            ("Users:PasswordHashIterations", "1000"),
            ("Workflows:LeaseSeconds", "5"), // the survivor takes over the dead one's steps after their lease
            ("Workflows:OrphanGraceSeconds", "5"), // and the start intents of requests that died before their commit
            ("Http:Idempotency:InFlightLeaseSeconds", "5"), // and the keys those requests held (409 with Retry-After until then)
        ];
        using var first = HostProcess.StartFunctions(setup.TablePrefix, settings);
        using var second = HostProcess.StartFunctions(setup.TablePrefix, settings);
        await Task.WhenAll(first.WaitUntilHealthyAsync(), second.WaitUntilHealthyAsync());
        HostProcess[] hosts = [first, second];

        var accepted = new ConcurrentDictionary<string, decimal>();
        var retries = 0;
        var sent = 0;
        var killedAt = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, 300), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            var amount = 1m + (i % 7);
            var cms = payer.SignOrder(payer.Order(amount));
            var key = "kill-" + i.ToString(CultureInfo.InvariantCulture);
            for (var attempt = 0; ; attempt++)
            {
                var host = hosts[(i + attempt) % 2].HasExited ? second : hosts[(i + attempt) % 2]; // the client's other address when one fails
                try
                {
                    using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
                    client.DefaultRequestHeaders.Authorization = payer.Software.DefaultRequestHeaders.Authorization;
                    using var response = await payer.SubmitAsync(cms, key, client, CancellationToken.None);
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        accepted[(await response.Content.ReadFromJsonAsync<JsonElement>(CancellationToken.None)).GetProperty("documentId").GetString()!] = amount;
                        break;
                    }

                    // Storage or the key's first request (held by the instance that died) says when to come back.
                    Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.Conflict, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(CancellationToken.None)}");
                    Assert.NotNull(response.Headers.RetryAfter);
                    await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // that instance is gone
                }

                Interlocked.Increment(ref retries);
            }

            if (Interlocked.Increment(ref sent) == 120)
            {
                first.Kill(); // SIGKILL mid-run: its steps in flight are left to the other after their lease
                killedAt = clock.Elapsed;
            }
        });

        Assert.True(first.HasExited);
        using var survivor = new HttpClient { BaseAddress = second.BaseAddress };
        Assert.True(await ReadyAsync(survivor), "the surviving instance stays up and ready");
        using var ops = setup.OperatorClient();
        var ends = await Eventually.GetAsync(
            async () => await Task.WhenAll(accepted.Keys.Select(async id => await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/documents/{id}"))),
            all => all.All(d => d.GetProperty("status").GetString() is "executed" or "refused"), TimeSpan.FromSeconds(120), "every document ended",
            interval: TimeSpan.FromSeconds(1), describe: all => $"{all.Count(d => d.GetProperty("status").GetString() is "executed" or "refused")} of {all.Length}");
        var recovered = clock.Elapsed - killedAt;
        Assert.Equal(300, accepted.Count);
        Assert.All(ends, d => Assert.Single(d.GetProperty("statusHistory").EnumerateArray(), h => h.GetProperty("status").GetString() is "executed" or "refused"));
        var spent = ends.Where(d => d.GetProperty("status").GetString() == "executed").Sum(d => accepted[d.GetProperty("documentId").GetString()!]
            + decimal.Parse(d.GetProperty("paymentOrder").GetProperty("commission").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(Funds - spent, decimal.Parse((await setup.AccountAsync(payer.Iban)).GetProperty("balance").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(0, (await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/workflows?status=faulted")).GetProperty("items").GetArrayLength());

        var figures = $"one of two instances killed after 120 of 300 orders: all 300 accepted, every one ended once {recovered.TotalSeconds:F1} s after the kill; client retries {retries}";
        output.WriteLine(figures);
        Console.WriteLine("[stall] " + figures);
    }

    private async Task RunAsync(AzuriteProcess azurite, string what, Func<Task> stall)
    {
        await using var app = await TestApp.StartAsync(Settings(azurite), realTime: true);
        using var pki = new TestPki();
        await app.TrustAsync(pki);
        using var payer = await app.PayerAsync(pki, Funds);
        using var probe = app.NewClient();

        var accepted = new ConcurrentDictionary<string, decimal>();
        var answers = new ConcurrentDictionary<int, int>();
        var retries = 0;
        var missingRetryAfter = 0;
        var gaveUp = 0;
        var inFlight = 0;
        using var stop = new CancellationTokenSource();
        var number = 0;
        var clock = Stopwatch.StartNew();

        // The client: one order every 100 ms; each is retried with its own Idempotency-Key until it is in, waiting what
        // Retry-After says on a 503 (at most 2 s), each try at most 15 s, and given up 90 s after it was first sent.
        async Task OrderAsync(decimal amount)
        {
            var cms = payer.SignOrder(payer.Order(amount));
            var key = "stall-" + Guid.NewGuid().ToString("N");
            var deadline = clock.Elapsed + TimeSpan.FromSeconds(90);
            Interlocked.Increment(ref inFlight);
            try
            {
                while (clock.Elapsed < deadline)
                {
                    var wait = TimeSpan.FromSeconds(1);
                    try
                    {
                        using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                        using var response = await payer.SubmitAsync(cms, key, cancellationToken: attempt.Token);
                        answers.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                        if (response.StatusCode == HttpStatusCode.Accepted)
                        {
                            accepted[(await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!] = amount;
                            return;
                        }

                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                        if (response.Headers.RetryAfter?.Delta is { } after)
                        {
                            wait = after < TimeSpan.FromSeconds(2) ? after : TimeSpan.FromSeconds(2); // a patient test client, not a slow one
                        }
                        else
                        {
                            Interlocked.Increment(ref missingRetryAfter);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        answers.AddOrUpdate(0, 1, (_, n) => n + 1); // no answer within the try's 15 s
                    }

                    Interlocked.Increment(ref retries);
                    await Task.Delay(wait);
                }

                Interlocked.Increment(ref gaveUp);
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        }

        async Task ClientAsync()
        {
            var orders = new List<Task>();
            while (!stop.IsCancellationRequested)
            {
                orders.Add(OrderAsync(1m + (Interlocked.Increment(ref number) % 7)));
                await Task.Delay(100);
            }

            await Task.WhenAll(orders);
        }

        string Progress() => $"{clock.Elapsed.TotalSeconds:F0} s: sent {number}, accepted {accepted.Count}, in flight {inFlight}, retries {retries}, " +
            $"answers {string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{(a.Key == 0 ? "none" : a.Key)}×{a.Value}"))}";
        var monitor = app.Services.GetRequiredService<StorageCallMonitor>();
        var (lastCalls, lastTicks) = (0L, 0L);
        using var progress = new Timer(_ =>
        {
            var (calls, ticks) = (monitor.Calls, monitor.KindTicks.Values.Sum());
            var top = string.Join(", ", monitor.KindTicks.OrderByDescending(k => k.Value).Take(3).Select(k => $"{k.Key} {k.Value * 1000 / Stopwatch.Frequency} ms"));
            Console.WriteLine($"[stall] {Progress()}; storage calls +{calls - lastCalls} at {(calls == lastCalls ? 0 : (ticks - lastTicks) * 1000.0 / Stopwatch.Frequency / (calls - lastCalls)):F0} ms; thread pool queue {ThreadPool.PendingWorkItemCount}, threads {ThreadPool.ThreadCount}; {top}");
            (lastCalls, lastTicks) = (calls, ticks);
        }, null, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

        var load = ClientAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        var stalledAt = Stopwatch.StartNew();
        var stalling = stall();
        await Eventually.GetAsync(() => ReadyAsync(probe), ready => !ready, TimeSpan.FromSeconds(20), "/readyz red during the stall");
        var red = stalledAt.Elapsed;
        await stalling;
        var resumedAt = stalledAt.Elapsed;
        await Eventually.GetAsync(() => ReadyAsync(probe), ready => ready, TimeSpan.FromSeconds(60), "/readyz green after the stall");
        var recovered = stalledAt.Elapsed - resumedAt;
        await Task.Delay(TimeSpan.FromSeconds(3));
        await stop.CancelAsync();
        await load;
        Assert.True(gaveUp == 0, "every order got in within 90 s: " + Progress());

        // Every document taken in ends, once, and the ledger says so.
        var ends = await Task.WhenAll(accepted.Keys.Select(id => payer.FinishedAsync(id)));
        var executed = ends.Where(d => d.GetProperty("status").GetString() == "executed").ToList();
        Assert.All(ends, d => Assert.Single(d.GetProperty("statusHistory").EnumerateArray(), h => h.GetProperty("status").GetString() is "executed" or "refused"));
        var spent = executed.Sum(d => accepted[d.GetProperty("documentId").GetString()!]
            + decimal.Parse(d.GetProperty("paymentOrder").GetProperty("commission").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(Funds - spent, decimal.Parse((await app.AccountAsync(payer.Iban)).GetProperty("balance").GetString()!, CultureInfo.InvariantCulture));

        using var ops = app.OperatorClient();
        var faulted = await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/workflows?status=faulted");
        Assert.Equal(0, faulted.GetProperty("items").GetArrayLength());

        var figures = $"Azurite {what}: /readyz red {red.TotalSeconds:F1} s into it, green again {recovered.TotalSeconds:F1} s after storage came back; " +
            $"{accepted.Count} documents accepted, {executed.Count} executed, {ends.Length - executed.Count} refused; " + Progress();
        output.WriteLine(figures);
        Console.WriteLine("[stall] " + figures);
        Assert.False(answers.ContainsKey(500), figures);
        Assert.Equal(0, missingRetryAfter);
        Assert.True(answers.GetValueOrDefault(503) > 0, "the stall was seen by the clients: " + figures);
    }

    private static async Task<bool> ReadyAsync(HttpClient client)
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return (await client.GetAsync("/readyz", limit.Token)).StatusCode == HttpStatusCode.OK;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}

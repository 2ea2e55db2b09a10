using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Documents;
using BusinessApi.Platform.Storage;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace BusinessApi.Tests.Documents;

/// <summary>
/// W1, W2, W4 for payments: 1,000 signed orders while the app is killed twice (once by itself between two
/// storage calls, once with SIGKILL from outside). After a restart every document ends exactly once and
/// every payer's ledger equals its money minus the executed documents — no double debit, nothing lost.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class DocumentCrashTests(ITestOutputHelper output)
{
    private const int Payers = 10;
    private const int PerPayer = 100;
    private const decimal Funds = 40_000m;

    [Fact]
    public async Task ThousandDocuments_AppKilledTwice_EachEndsOnce_AndTheLedgerMatches()
    {
        var settings = new Dictionary<string, string>
        {
            ["Calendar:OperationalHours"] = "00:00-24:00",
            ["Calendar:Weekend"] = "",
            ["Calendar:ApplyPublicHolidays"] = "false",
            ["Workflows:Worker"] = "false", // this in-process instance only sets up and reads; the processes do the work
        };
        await using var setup = await TestApp.StartAsync(settings, realTime: true);
        using var pki = new TestPki();
        await setup.TrustAsync(pki);
        var payers = new List<Payer>();
        for (var i = 0; i < Payers; i++)
        {
            payers.Add(await setup.PayerAsync(pki, Funds));
        }

        // Pre-signed orders: amounts 1..100 (5,050 per payer) and 8 large ones per payer that do not all fit.
        var orders = new List<(Payer Payer, string Key, byte[] Cms, decimal Amount)>();
        foreach (var payer in payers)
        {
            for (var n = 1; n <= PerPayer; n++)
            {
                var amount = n <= 92 ? n : 5_000m;
                orders.Add((payer, $"crash-{payer.CustomerId}-{n}", payer.SignOrder(payer.Order(amount)), amount));
            }
        }

        var processSettings = settings.Where(s => s.Key.StartsWith("Calendar", StringComparison.Ordinal))
            .Select(s => (s.Key, s.Value))
            .Concat([
                ("Operations:ApiKeys", setup.OperatorKey),
                ("Secrets:LocalPath", Path.Combine(Path.GetTempPath(), "business-api-tests", setup.TablePrefix, "secrets.json")),
                ("Users:PasswordHashIterations", "1000"),
                ("Workflows:OrphanGraceSeconds", "5"), // start intents of requests that died before their commit
                ("Http:RateLimiting:PermitsPerSecond", "100000"),
                ("Http:RateLimiting:Burst", "100000"),
            ]).ToArray();
        var hosts = new List<HostProcess>
        {
            HostProcess.Start(setup.TablePrefix, [.. processSettings, ("Faults:Enabled", "true"), ("Faults:KillAfterCalls", "2500")]),
        };
        try
        {
            await hosts[0].WaitUntilHealthyAsync();
            var accepted = new ConcurrentDictionary<string, string>();
            var current = 0;
            var retries = 0;
            var gate = new SemaphoreSlim(1, 1);

            async Task<HostProcess> NextHostAsync(int failed)
            {
                await gate.WaitAsync();
                try
                {
                    if (current == failed)
                    {
                        // The client's host died: it retries on a fresh instance with the same Idempotency-Key.
                        var next = HostProcess.StartFunctions(setup.TablePrefix, processSettings);
                        await next.WaitUntilHealthyAsync();
                        hosts.Add(next);
                        current = hosts.Count - 1;
                    }

                    return hosts[current];
                }
                finally
                {
                    gate.Release();
                }
            }

            async Task SubmitAsync((Payer Payer, string Key, byte[] Cms, decimal Amount) order)
            {
                while (true)
                {
                    var index = current;
                    var host = hosts[index];
                    try
                    {
                        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
                        client.DefaultRequestHeaders.Authorization = order.Payer.Software.DefaultRequestHeaders.Authorization;
                        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents") { Content = JsonContent.Create(new { cms = Convert.ToBase64String(order.Cms) }) };
                        request.Headers.Add("Idempotency-Key", order.Key);
                        var response = await client.SendAsync(request);
                        if (response.StatusCode == HttpStatusCode.Accepted)
                        {
                            accepted[order.Key] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("documentId").GetString()!;
                            return;
                        }

                        Assert.True(response.StatusCode >= HttpStatusCode.InternalServerError, $"{order.Key}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        // the host is gone
                    }

                    Interlocked.Increment(ref retries);
                    if (host.HasExited)
                    {
                        await NextHostAsync(index);
                    }
                    else
                    {
                        await Task.Delay(50);
                    }
                }
            }

            var killedFromOutside = false;
            var sent = 0;
            await Parallel.ForEachAsync(orders.OrderBy(_ => Random.Shared.Next()), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (order, _) =>
            {
                await SubmitAsync(order);
                if (Interlocked.Increment(ref sent) == 700 && !killedFromOutside)
                {
                    killedFromOutside = true;
                    var victim = hosts[current];
                    if (!victim.HasExited)
                    {
                        victim.Kill(); // SIGKILL mid-run, from outside
                    }
                }
            });
            Assert.Equal(orders.Count, accepted.Count);

            // Recovery: a surviving (or new) instance finishes what the dead ones left.
            if (hosts[current].HasExited)
            {
                await NextHostAsync(current);
            }

            var store = setup.Services.GetRequiredService<DocumentStore>();
            var documents = await Eventually.GetAsync(
                async () => await Task.WhenAll(accepted.Values.Distinct().Select(id => store.GetAsync(id, default))),
                all => all.All(d => d is { IsTerminal: true }),
                TimeSpan.FromSeconds(240), "every document finished", interval: TimeSpan.FromSeconds(1),
                describe: all => $"{all.Count(d => d?.IsTerminal == true)} of {all.Length} finished");

            output.WriteLine($"hosts started: {hosts.Count}; exited: {hosts.Count(h => h.HasExited)}; submissions retried: {retries}");
            output.WriteLine($"executed: {documents.Count(d => d!.Status == DocumentStatus.Executed)}, refused: {documents.Count(d => d!.Status == DocumentStatus.Refused)}");
            Assert.True(hosts.Count >= 3, "both kills must have happened mid-run");

            // One document per Idempotency-Key, each with exactly one end.
            Assert.Equal(orders.Count, accepted.Values.Distinct().Count());
            Assert.All(documents, d => Assert.Single(d!.StatusHistory, h => h.Status is DocumentStatus.Executed or DocumentStatus.Refused));
            Assert.All(documents.Where(d => d!.Status == DocumentStatus.Refused), d => Assert.Equal(RefusalReasons.InsufficientFunds, d!.Last!.ReasonCode));

            // Each payer's balance is its money minus exactly what its executed documents paid.
            using var ops = setup.OperatorClient();
            foreach (var payer in payers)
            {
                var mine = documents.Where(d => d!.CustomerId == payer.CustomerId).ToList();
                Assert.Equal(PerPayer, mine.Count);
                var paid = mine.Where(d => d!.Status == DocumentStatus.Executed).Sum(d => d!.Summary!.Amount);
                var account = await setup.AccountAsync(payer.Iban);
                Assert.Equal(Funds - paid, decimal.Parse(account.GetProperty("balance").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
                var verification = await ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/accounts/{payer.Iban}/verification");
                Assert.True(verification.GetProperty("consistent").GetBoolean(), verification.ToString());
            }

            Assert.True((await ops.GetFromJsonAsync<JsonElement>("/api/v1/ops/ledger/trial-balance")).GetProperty("balanced").GetBoolean());

            // One notice per document's end; no workflow left behind or faulted.
            var storage = setup.Services.GetRequiredService<StorageResources>();
            var notices = 0;
            await foreach (var _ in storage.Table("Notices").QueryAsync<TableEntity>(filter: "RowKey ge 'k|' and RowKey lt 'k}'", select: ["RowKey"]))
            {
                notices++;
            }

            Assert.Equal(orders.Count, notices);
            Assert.Empty(await RowsAsync(storage, "WorkflowFaults"));
            await Eventually.GetAsync(() => RowsAsync(storage, "WorkflowDue"), r => r.Count == 0, TimeSpan.FromSeconds(60), "workflow due index emptied",
                describe: r => string.Join(", ", r.Select(e => e.PartitionKey + "/" + e.RowKey)));
        }
        finally
        {
            foreach (var host in hosts)
            {
                host.Dispose();
            }

            foreach (var payer in payers)
            {
                payer.Dispose();
            }
        }
    }

    private static async Task<List<TableEntity>> RowsAsync(StorageResources storage, string table)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in storage.Table(table).QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
        {
            rows.Add(row);
        }

        return rows;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Documents;
using BusinessApi.Notifications;
using BusinessApi.Platform.Workflows;
using BusinessApi.Tests.Documents;
using HdrHistogram;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BusinessApi.Benchmarks;

/// <summary>
/// An open-loop load held for a long time: requests arrive at a fixed rate whatever the answers do (each timed from
/// the instant it was due, so a stall is latency, not a pause in the load — free of coordinated omission), in a mix
/// an ERP and its users make — token requests, reads, statements, signed payment orders, drafts and their two
/// signatures — while the app delivers every notice to a webhook receiver on loopback. Every minute it reports
/// p50/p99/p99.9, answers by status, the process's RSS and GC heap, the thread pool's queue, Azurite's RSS and the
/// backlog of due work; at the end it settles every document and checks each against the ledger.
/// </summary>
public sealed class Soak(string connectionString, TimeSpan duration, double? rate, TimeSpan warmUp)
{
    private const int Payers = 8;
    private const int AccountsPerPayer = 25;
    private const decimal Funds = 10_000_000m;
    private const string Amount = "1.00";

    /// <summary>The mix: what share of arrivals each kind of request is.</summary>
    private static readonly (string Kind, int Weight)[] Mix =
    [
        ("token", 8), ("accounts", 12), ("document", 12), ("notifications", 10), ("statement", 5),
        ("order", 38), ("draft", 5), ("signature", 10),
    ];

    private readonly ConcurrentDictionary<string, string> _accepted = new(StringComparer.Ordinal); // document id → payer account
    private readonly ConcurrentDictionary<string, int> _ended = new(StringComparer.Ordinal); // document id → terminal notifications
    private readonly ConcurrentDictionary<string, byte> _executed = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _recent = new();
    private readonly ConcurrentDictionary<string, string> _feedCursors = new(StringComparer.Ordinal); // customer → the feed's "after"
    private readonly ConcurrentQueue<PendingSignature> _signatures = new();
    private long _webhooks;
    private long _numbers = Random.Shared.Next(1, 100_000) * 1_000L;

    private sealed record PendingSignature(string DocumentId, byte[] Content, X509Certificate2 Signer, AuthenticationHeaderValue Session, bool Last);

    public async Task<SoakReport> RunAsync(CancellationToken cancellationToken = default)
    {
        // The webhook receiver: counts what the app delivers (signatures are the notice benchmark's to check).
        var receiverBuilder = WebApplication.CreateSlimBuilder();
        receiverBuilder.WebHost.UseUrls("http://127.0.0.1:0");
        receiverBuilder.Logging.ClearProviders();
        await using var receiver = receiverBuilder.Build();
        receiver.MapPost("/hook", () =>
        {
            Interlocked.Increment(ref _webhooks);
            return Results.Ok();
        });
        await receiver.StartAsync(cancellationToken);

        var prefix = "s" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(5));
        var operatorKey = "ops_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var observer = new EndObserver(this);
        await using var app = BenchApp.Create(connectionString, prefix, operatorKey,
            [
                "--Users:PasswordHashIterations=1000",
                "--Calendar:OperationalHours=00:00-24:00",
                "--Calendar:Weekend=",
                "--Calendar:ApplyPublicHolidays=false",
                "--Notifications:AllowLoopbackHttp=true",
            ],
            builder => builder.Services.AddSingleton<IWorkflowObserver>(observer));
        await app.StartAsync(cancellationToken);
        using var pki = new TestPki();
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 512, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { BaseAddress = BenchApp.AddressOf(app), Timeout = TimeSpan.FromSeconds(60) };
        var setup = new BenchSetup(http, operatorKey);
        await setup.TrustAsync(pki, cancellationToken);
        Console.Error.WriteLine($"[soak] setting up {Payers} customers with {AccountsPerPayer} accounts each, one with a first+second card, webhooks to every customer ...");
        var payers = new List<BenchPayer>();
        for (var i = 0; i < Payers; i++)
        {
            payers.Add(await setup.PayerAsync(pki, AccountsPerPayer, cancellationToken, Funds));
        }

        var twoSigned = payers[^1];
        var accountant = await setup.SecondSignerAsync(pki, twoSigned, cancellationToken);
        var notices = app.Services.GetRequiredService<NoticeStore>();
        var signer = app.Services.GetRequiredService<WebhookSigner>();
        var keyVersion = await signer.CurrentKeyVersionAsync(cancellationToken);
        foreach (var payer in payers)
        {
            var webhook = new WebhookSubscription(WebhookSubscription.NewId(), payer.CustomerId, new Uri(BenchApp.AddressOf(receiver), "/hook"), ["*"], DateTimeOffset.UtcNow) { KeyVersion = keyVersion };
            await notices.ChangeWebhookAsync(payer.CustomerId, new TableTransactionAction(TableTransactionActionType.Add, webhook.ToEntity()), DateTimeOffset.UtcNow, cancellationToken);
        }

        var load = new Load(this, http, payers, twoSigned, accountant);
        var monitor = app.Services.GetRequiredService<BusinessApi.Testing.StorageCallMonitor>();
        var index = Azurite(prefix);
        var azurite = AzuriteProcess(connectionString);
        try
        {
            var perSecond = rate ?? 0.6 * await load.CapacityAsync(TimeSpan.FromSeconds(60), cancellationToken);
            Console.Error.WriteLine($"[soak] {duration.TotalMinutes:F0} min at {perSecond:F0} requests/s{(rate is null ? " (60% of the capacity just measured)" : "")}, the first {warmUp.TotalMinutes:F0} min a warm-up");
            var minutes = await load.OpenLoopAsync(perSecond, duration, () => Sample(index, azurite, monitor), cancellationToken);

            // Drafts whose signatures had not come yet are signed now, so every document taken in has its end.
            await load.SignTheRestAsync(cancellationToken);

            // Settle: every accepted document ends; then each is checked against the ledger.
            var settle = Stopwatch.StartNew();
            while (_accepted.Keys.Any(id => !_ended.ContainsKey(id)) && settle.Elapsed < TimeSpan.FromMinutes(5))
            {
                await Task.Delay(500, cancellationToken);
            }

            var ledger = await CheckLedgerAsync(http, payers, operatorKey, cancellationToken);
            return new SoakReport(perSecond, warmUp, minutes, _accepted.Count, _accepted.Keys.Count(id => !_ended.ContainsKey(id)),
                _ended.Values.Count(n => n > 1), _executed.Count, ledger, load.Statuses.Where(s => s.Key >= 500).Sum(s => s.Value), Interlocked.Read(ref _webhooks));
        }
        finally
        {
            accountant.Certificate.Dispose();
            payers.ForEach(p => p.Certificate.Dispose());
            await app.StopAsync(CancellationToken.None);
            await receiver.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>What the process and Azurite hold now, and the work that is due and not done.</summary>
    private IReadOnlyDictionary<string, long> _lastCalls = new Dictionary<string, long>();
    private IReadOnlyDictionary<string, long> _lastTicks = new Dictionary<string, long>();

    private async Task<Resources> Sample(TableClient index, int? azuritePid, BusinessApi.Testing.StorageCallMonitor monitor)
    {
        // Where storage time went this minute: the kinds of call that took most of it, with their count and mean.
        var (calls, ticks) = (monitor.Kinds, monitor.KindTicks);
        var spent = ticks.Select(t => (t.Key, Ticks: t.Value - _lastTicks.GetValueOrDefault(t.Key), Count: calls.GetValueOrDefault(t.Key) - _lastCalls.GetValueOrDefault(t.Key)))
            .Where(t => t.Count > 0).OrderByDescending(t => t.Ticks).Take(6);
        Console.Error.WriteLine("[soak]   storage time: " + string.Join("; ", spent.Select(t => $"{t.Key} {t.Count:N0}× {t.Ticks * 1000.0 / Stopwatch.Frequency / t.Count:F1} ms")));
        (_lastCalls, _lastTicks) = (calls, ticks);

        using var self = Process.GetCurrentProcess();
        var due = 0;
        var upper = DateTimeOffset.UtcNow.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);
        try
        {
            await foreach (var _ in index.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey lt {upper}"), select: ["RowKey"]))
            {
                due++;
            }
        }
        catch (Azure.RequestFailedException)
        {
            due = -1;
        }

        return new Resources(self.WorkingSet64, GC.GetGCMemoryInfo().HeapSizeBytes, ThreadPool.PendingWorkItemCount, AzuriteRss(azuritePid),
            _accepted.Count - _ended.Count, due, Interlocked.Read(ref _webhooks));
    }

    private TableClient Azurite(string prefix) => new TableServiceClient(connectionString).GetTableClient(prefix + WorkflowIndex.TableName);

    /// <summary>Azurite's process: the node process listening on this connection string's table port.</summary>
    private static int? AzuriteProcess(string connectionString)
    {
        var port = connectionString.Split(';').FirstOrDefault(p => p.StartsWith("TableEndpoint=", StringComparison.Ordinal))?.Split(':').ElementAtOrDefault(2)?.Split('/')[0];
        foreach (var directory in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                var command = File.ReadAllText(Path.Combine(directory, "cmdline")).Replace('\0', ' ');
                if (command.Contains("azurite", StringComparison.Ordinal) && port is not null && command.Contains("--tablePort " + port, StringComparison.Ordinal))
                {
                    return int.Parse(Path.GetFileName(directory), CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    private static long AzuriteRss(int? pid)
    {
        if (pid is null)
        {
            return -1;
        }

        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? -1 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return -1;
        }
    }

    /// <summary>
    /// Every account's balance is its funds less what its executed documents took, amount and commission (one debit
    /// each, never two; a lost posting or a second one shows here), and the books balance.
    /// </summary>
    private async Task<LedgerCheck> CheckLedgerAsync(HttpClient http, List<BenchPayer> payers, string operatorKey, CancellationToken cancellationToken)
    {
        var commission = 0m;
        if (_executed.Keys.FirstOrDefault() is { } sample)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/ops/documents/{sample}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
            using var response = await http.SendAsync(request, cancellationToken);
            var document = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            commission = decimal.Parse(document.GetProperty("paymentOrder").GetProperty("commission").GetString()!, CultureInfo.InvariantCulture);
        }

        var perAccount = _executed.Keys.GroupBy(id => _accepted[id]).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var wrong = new List<string>();
        foreach (var iban in payers.SelectMany(p => p.Ibans))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/ops/accounts/{iban}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
            using var response = await http.SendAsync(request, cancellationToken);
            var balance = decimal.Parse((await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("account").GetProperty("balance").GetString()!, CultureInfo.InvariantCulture);
            var expected = Funds - (perAccount.GetValueOrDefault(iban) * (decimal.Parse(Amount, CultureInfo.InvariantCulture) + commission));
            if (balance != expected)
            {
                wrong.Add($"{iban}: {balance} where {expected}");
            }
        }

        using var trial = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ops/ledger/trial-balance");
        trial.Headers.Authorization = new AuthenticationHeaderValue("Bearer", operatorKey);
        using var answer = await http.SendAsync(trial, cancellationToken);
        var balanced = (await answer.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("balanced").GetBoolean();
        return new LedgerCheck(payers.Sum(p => p.Ibans.Count), wrong, balanced, commission);
    }

    /// <summary>Hears every document's end in this process: one per document, or the check at the end says which ended twice.</summary>
    private sealed class EndObserver(Soak soak) : IWorkflowObserver
    {
        public void OnTransition(WorkflowTransition transition)
        {
            if (transition.Workflow == DocumentWorkflow.WorkflowName && transition.Status == WorkflowStatus.Completed)
            {
                soak._ended.AddOrUpdate(transition.InstanceId, 1, (_, n) => n + 1);
                if (transition.To == "executed")
                {
                    soak._executed.TryAdd(transition.InstanceId, 0);
                }
            }
        }
    }

    /// <summary>The requests themselves, and the open loop that sends them.</summary>
    private sealed class Load(Soak soak, HttpClient http, List<BenchPayer> payers, BenchPayer twoSigned, (X509Certificate2 Certificate, AuthenticationHeaderValue Session) accountant)
    {
        private readonly int _totalWeight = Mix.Sum(m => m.Weight);
        private readonly object _gate = new();
        private LongHistogram _minute = NewHistogram();
        private ConcurrentDictionary<int, long> _minuteStatuses = new();

        public ConcurrentDictionary<int, long> Statuses { get; } = new();

        private static LongHistogram NewHistogram() => new(TimeSpan.FromMinutes(2).Ticks / 10, 3); // microseconds, up to 2 minutes

        /// <summary>Closed loop for <paramref name="time"/>, 64 callers: how many requests of the mix a second the app sustains.</summary>
        public async Task<double> CapacityAsync(TimeSpan time, CancellationToken cancellationToken)
        {
            var done = 0L;
            var clock = Stopwatch.StartNew();
            var acceptedBefore = soak._accepted.Count;
            await Task.WhenAll(Enumerable.Range(0, 64).Select(async worker =>
            {
                var random = new Random(worker);
                while (clock.Elapsed < time)
                {
                    await SendAsync(Pick(random), random, cancellationToken);
                    Interlocked.Increment(ref done);
                }
            }));

            // The mix is only sustained if its documents are executed as fast as they come: the drafts get their signatures,
            // then every document is waited for, and that time counts too.
            await SignTheRestAsync(cancellationToken);
            // (bounded only so that a run that stopped executing ends; the bound is far past any drain seen here)
            while (soak._accepted.Keys.Any(id => !soak._ended.ContainsKey(id)) && clock.Elapsed < time + TimeSpan.FromMinutes(15))
            {
                await Task.Delay(200, cancellationToken);
            }

            var capacity = done / clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"[soak] capacity: {done:N0} requests ({soak._accepted.Count - acceptedBefore:N0} documents) in {time.TotalSeconds:F0} s, " +
                $"their documents ended {clock.Elapsed.TotalSeconds - time.TotalSeconds:F0} s later: {done:N0} / {clock.Elapsed.TotalSeconds:F0} s = {capacity:F0}/s");
            lock (_gate)
            {
                _minute = NewHistogram();
                _minuteStatuses = new();
            }

            Statuses.Clear();
            return capacity;
        }

        public async Task<IReadOnlyList<SoakMinute>> OpenLoopAsync(double perSecond, TimeSpan time, Func<Task<Resources>> sample, CancellationToken cancellationToken)
        {
            var minutes = new List<SoakMinute>();
            var random = new Random(20261203);
            var running = new ConcurrentDictionary<Task, byte>();
            var clock = Stopwatch.StartNew();
            var total = (long)(perSecond * time.TotalSeconds);
            var nextMinute = TimeSpan.FromMinutes(1);
            for (long i = 0; i < total; i++)
            {
                var due = TimeSpan.FromSeconds(i / perSecond);
                while (due > clock.Elapsed)
                {
                    if (clock.Elapsed >= nextMinute)
                    {
                        minutes.Add(await CloseMinuteAsync(minutes.Count + 1, sample));
                        nextMinute += TimeSpan.FromMinutes(1);
                    }

                    var wait = due - clock.Elapsed;
                    if (wait > TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(wait, cancellationToken);
                    }
                }

                var kind = Pick(random);
                var seed = random.Next();
                Task task = null!;
                task = Task.Run(async () =>
                {
                    await SendAsync(kind, new Random(seed), cancellationToken);
                    Record(clock.Elapsed - due);
                    running.TryRemove(task, out _);
                }, cancellationToken);
                running.TryAdd(task, 0);
            }

            await Task.WhenAll(running.Keys);
            minutes.Add(await CloseMinuteAsync(minutes.Count + 1, sample));
            return minutes;
        }

        private void Record(TimeSpan latency)
        {
            lock (_gate)
            {
                _minute.RecordValue(Math.Min(_minute.HighestTrackableValue, Math.Max(1, latency.Ticks / 10)));
            }
        }

        private async Task<SoakMinute> CloseMinuteAsync(int number, Func<Task<Resources>> sample)
        {
            LongHistogram histogram;
            ConcurrentDictionary<int, long> statuses;
            lock (_gate)
            {
                (histogram, _minute) = (_minute, NewHistogram());
                (statuses, _minuteStatuses) = (_minuteStatuses, new());
            }

            var resources = await sample();
            var minute = new SoakMinute(number, histogram, new SortedDictionary<int, long>(statuses), resources);
            Console.Error.WriteLine("[soak] " + minute.Row());
            return minute;
        }

        private string Pick(Random random)
        {
            var roll = random.Next(_totalWeight);
            foreach (var (kind, weight) in Mix)
            {
                if ((roll -= weight) < 0)
                {
                    return kind;
                }
            }

            return Mix[0].Kind;
        }

        private async Task SendAsync(string kind, Random random, CancellationToken cancellationToken)
        {
            var payer = payers[random.Next(payers.Count - 1)]; // the last customer's accounts want two signatures
            HttpRequestMessage request;
            switch (kind)
            {
                case "token":
                    request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/oauth/token")
                    {
                        Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = payer.ClientId, ["client_secret"] = payer.ClientSecret }),
                    };
                    break;
                case "accounts":
                    request = Get("/api/v1/accounts", payer.Session);
                    break;
                case "document" when soak._recent.TryPeek(out var recent):
                    request = Get($"/api/v1/documents/{recent}", payers.First(p => recent.Contains(p.CustomerId[4..], StringComparison.Ordinal)).Session);
                    break;
                case "statement":
                    var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(5)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                    request = Get($"/api/v1/accounts/{payer.Ibans[random.Next(payer.Ibans.Count)]}/statement?from={today}&to={today}&format={(random.Next(2) == 0 ? "mt940" : "json")}", payer.Session);
                    break;
                case "order":
                    var iban = payer.Ibans[random.Next(payer.Ibans.Count)];
                    var cms = TestPki.Sign(Order(payer, iban), DateTimeOffset.UtcNow, payer.Certificate);
                    request = Post("/api/v1/documents", JsonSerializer.Serialize(new { cms = Convert.ToBase64String(cms) }), payer.Session);
                    await AcceptAsync(request, iban, cancellationToken);
                    return;
                case "draft":
                    var account = twoSigned.Ibans[random.Next(twoSigned.Ibans.Count)];
                    var content = Encoding.UTF8.GetBytes(Order(twoSigned, account, compact: true));
                    request = Post("/api/v1/documents", "{\"document\":" + Encoding.UTF8.GetString(content) + "}", twoSigned.Session);
                    if (await SendCountedAsync(request, cancellationToken) is { StatusCode: HttpStatusCode.Created } created)
                    {
                        var id = JsonDocument.Parse(created.Body).RootElement.GetProperty("documentId").GetString()!;
                        soak._accepted[id] = account;
                        soak._signatures.Enqueue(new PendingSignature(id, content, twoSigned.Certificate, twoSigned.Session, false));
                    }

                    return;
                case "signature" when soak._signatures.TryDequeue(out var pending):
                    var detached = TestPki.Sign(pending.Content, DateTimeOffset.UtcNow, true, pending.Signer);
                    request = Post($"/api/v1/documents/{pending.DocumentId}/signatures", JsonSerializer.Serialize(new { cms = Convert.ToBase64String(detached) }), pending.Session);
                    if (await SendCountedAsync(request, cancellationToken) is { StatusCode: HttpStatusCode.Accepted } && !pending.Last)
                    {
                        soak._signatures.Enqueue(pending with { Signer = accountant.Certificate, Session = accountant.Session, Last = true });
                    }

                    return;
                default:
                    // An integrator polls its feed from where it left off (the cursor of its last page).
                    var after = soak._feedCursors.TryGetValue(payer.CustomerId, out var cursor) ? "?after=" + Uri.EscapeDataString(cursor) : "";
                    if (await SendCountedAsync(Get("/api/v1/notifications" + after, payer.Session), cancellationToken) is { StatusCode: HttpStatusCode.OK } page
                        && JsonDocument.Parse(page.Body).RootElement.TryGetProperty("after", out var next) && next.ValueKind == JsonValueKind.String)
                    {
                        soak._feedCursors[payer.CustomerId] = next.GetString()!;
                    }

                    return;
            }

            await SendCountedAsync(request, cancellationToken);
        }

        public async Task SignTheRestAsync(CancellationToken cancellationToken)
        {
            var random = new Random(1);
            while (!soak._signatures.IsEmpty)
            {
                await SendAsync("signature", random, cancellationToken);
            }
        }

        private async Task AcceptAsync(HttpRequestMessage request, string iban, CancellationToken cancellationToken)
        {
            if (await SendCountedAsync(request, cancellationToken) is { StatusCode: HttpStatusCode.Accepted } accepted)
            {
                var id = JsonDocument.Parse(accepted.Body).RootElement.GetProperty("documentId").GetString()!;
                soak._accepted[id] = iban;
                soak._recent.Enqueue(id);
                while (soak._recent.Count > 200 && soak._recent.TryDequeue(out _))
                {
                }
            }
        }

        private async Task<(HttpStatusCode StatusCode, byte[] Body)?> SendCountedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Add("Idempotency-Key", "soak-" + Guid.NewGuid().ToString("N"));
            try
            {
                using (request)
                using (var response = await http.SendAsync(request, cancellationToken))
                {
                    var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    Count((int)response.StatusCode);
                    return (response.StatusCode, body);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Count(0); // no answer
                return null;
            }
        }

        private void Count(int status)
        {
            _minuteStatuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            Statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
        }

        private string Order(BenchPayer payer, string iban, bool compact = false)
        {
            var number = (Interlocked.Increment(ref soak._numbers) % 1_000_000_000).ToString(CultureInfo.InvariantCulture);
            var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(5)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var json = $$"""{"type":"paymentOrder","number":"{{number}}","date":"{{today}}","amount":"{{Amount}}","currency":"KZT","payer":{"iban":"{{iban}}","code":"17"},"beneficiary":{"name":"TOO Beneficiary","idn":"{{payer.BeneficiaryBin}}","iban":"{{payer.BeneficiaryIban}}","bic":"HSBKKZKX","code":"17"},"purposeCode":"710","purpose":"Payment for goods","valueDate":"{{today}}"}""";
            return compact ? json : json.Replace(",\"", ", \"", StringComparison.Ordinal);
        }

        private static HttpRequestMessage Get(string path, AuthenticationHeaderValue session)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Authorization = session;
            return request;
        }

        private static HttpRequestMessage Post(string path, string json, AuthenticationHeaderValue session)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = session;
            return request;
        }
    }
}

/// <summary>What the process and Azurite held at a minute's end, and the work due and not yet done.</summary>
public sealed record Resources(long AppRss, long GcHeap, long ThreadPoolQueue, long AzuriteRss, long DocumentsInFlight, int DueEntries, long Webhooks);

public sealed record SoakMinute(int Number, LongHistogram Latency, SortedDictionary<int, long> Statuses, Resources Resources)
{
    public static string Header =>
        "| minute | requests | p50 ms | p99 ms | p99.9 ms | answers by status | app RSS MB | GC heap MB | pool queue | Azurite RSS MB | documents in flight | due entries | webhooks |\n" +
        "|-------:|---------:|-------:|-------:|---------:|-------------------|-----------:|-----------:|-----------:|---------------:|--------------------:|------------:|---------:|";

    public string Row() => string.Create(CultureInfo.InvariantCulture,
        $"| {Number,6} | {Latency.TotalCount,8:N0} | {Ms(50),6:F1} | {Ms(99),6:F1} | {Ms(99.9),8:F1} | {string.Join(" ", Statuses.Select(s => $"{(s.Key == 0 ? "none" : s.Key)}×{s.Value}")),-17} | {Resources.AppRss / 1048576.0,10:F0} | {Resources.GcHeap / 1048576.0,10:F0} | {Resources.ThreadPoolQueue,10} | {Resources.AzuriteRss / 1048576.0,14:F0} | {Resources.DocumentsInFlight,19} | {Resources.DueEntries,11} | {Resources.Webhooks,8:N0} |");

    public double Ms(double percentile) => Latency.TotalCount == 0 ? double.NaN : Latency.GetValueAtPercentile(percentile) / 1000.0;
}

public sealed record LedgerCheck(int Accounts, IReadOnlyList<string> Wrong, bool Balanced, decimal Commission);

public sealed record SoakReport(
    double Rate, TimeSpan WarmUp, IReadOnlyList<SoakMinute> Minutes, int Accepted, int NotEnded, int EndedTwice, int Executed, LedgerCheck Ledger, long ServerErrors, long Webhooks)
{
    /// <summary>p99 over a run of minutes (their histograms added).</summary>
    public static double P99(IEnumerable<SoakMinute> minutes)
    {
        var all = new LongHistogram(TimeSpan.FromMinutes(2).Ticks / 10, 3);
        foreach (var minute in minutes)
        {
            all.Add(minute.Latency);
        }

        return all.TotalCount == 0 ? double.NaN : all.GetValueAtPercentile(99) / 1000.0;
    }

    public IEnumerable<(string Goal, string Figure, bool Met)> Goals()
    {
        var afterWarmUp = Minutes.Skip((int)WarmUp.TotalMinutes).ToList();
        var window = Math.Min(5, Math.Max(1, afterWarmUp.Count / 2));
        var first = P99(afterWarmUp.Take(window));
        var last = P99(afterWarmUp.TakeLast(window));
        var rssStart = afterWarmUp.FirstOrDefault()?.Resources.AppRss ?? 0;
        var rssEnd = afterWarmUp.LastOrDefault()?.Resources.AppRss ?? 0;
        yield return ("no 5xx", $"{ServerErrors:N0}", ServerErrors == 0);
        yield return ("no document lost or ended twice", $"{Accepted:N0} accepted, {NotEnded:N0} not ended, {EndedTwice:N0} ended twice", NotEnded == 0 && EndedTwice == 0);
        yield return ("every account's balance is its funds less its executed documents; books balanced",
            $"{Executed:N0} executed over {Ledger.Accounts} accounts, {Ledger.Wrong.Count} wrong, balanced: {(Ledger.Balanced ? "yes" : "NO")}", Ledger.Wrong.Count == 0 && Ledger.Balanced);
        yield return ("app memory flat after warm-up (RSS growth < 10%)", $"{rssStart / 1048576.0:F0} → {rssEnd / 1048576.0:F0} MB ({(rssEnd - rssStart) * 100.0 / Math.Max(1, rssStart):+0.0;-0.0}%)", rssEnd < rssStart * 1.10);
        yield return ($"p99 of the last {window} min within 1.5x of the first {window} after warm-up", $"{first:F1} → {last:F1} ms", last <= first * 1.5);
    }
}

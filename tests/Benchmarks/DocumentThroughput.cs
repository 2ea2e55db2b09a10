using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using BusinessApi.Documents;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using BusinessApi.Tests.Documents;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Benchmarks;

/// <summary>
/// Signed payment orders over real HTTP (the app in this process, Kestrel on loopback, open round the
/// clock): accepted documents per second and the latency of <c>POST /documents</c>; documents from
/// intake to <c>executed</c> per second over many payer accounts and over one hot account; and EDS
/// verifications per second on one core, next to OpenSSL's raw RSA-2048 verify rate.
/// </summary>
public sealed class DocumentThroughput(string connectionString, TimeSpan duration)
{
    private const int Customers = 10;

    public async Task<DocumentFigures> MeasureAsync(int callers, int accounts, int endToEnd, int presigned = 12_000, CancellationToken cancellationToken = default)
    {
        var prefix = "d" + Guid.NewGuid().ToString("N")[..10];
        var operatorKey = "bench-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        var completions = new CompletionCounter();
        var app = CreateApp(prefix, operatorKey, [], completions);
        await app.StartAsync(cancellationToken);
        using var pki = new TestPki();
        var payers = new List<BenchPayer>();
        try
        {
            var address = AddressOf(app);
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = callers * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
            using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
            var setup = new BenchSetup(http, operatorKey);
            await setup.TrustAsync(pki, cancellationToken);
            Console.Error.WriteLine($"[documents] setting up {Customers} customers with {accounts:N0} payer accounts ...");
            for (var i = 0; i < Customers; i++)
            {
                payers.Add(await setup.PayerAsync(pki, Math.Max(1, accounts / Customers), cancellationToken));
            }

            // Every order is signed before the clock starts (the client's cost, not the bank's).
            var spreadOrders = Sign([.. payers.SelectMany(p => p.Ibans.Select(iban => (p, iban)))], presigned);
            var hotOrders = Sign([(payers[0], payers[0].Ibans[0])], endToEnd);

            // Warm-up to the steady state: JIT, pools, the first chain build and CRL lookup, and one document per
            // payer account (an account's first document reads its head and its unchanging facts once).
            var warmUp = Math.Max(200, Math.Min(spreadOrders.Count / 2, accounts));
            await SubmitAllAsync(http, spreadOrders, warmUp, callers, cancellationToken);
            await completions.WaitForAsync(warmUp, TimeSpan.FromMinutes(5));
            FailedRequests = 0;

            var queue = new ConcurrentQueue<SignedOrder>(spreadOrders.Skip(warmUp));
            var monitor = app.Services.GetRequiredService<StorageCallMonitor>();

            // Intake to executed first, while the store is small (Azurite slows as its in-memory tables grow):
            // a burst of documents, timed until the last one is executed.
            var endToEndOrders = new List<SignedOrder>();
            while (endToEndOrders.Count < endToEnd && queue.TryDequeue(out var order))
            {
                endToEndOrders.Add(order);
            }

            var callsBefore = monitor.Calls;
            var kindsBefore = monitor.Kinds;
            var spread = await EndToEndAsync("intake to executed, 1,000 payer accounts", http, completions, endToEndOrders, callers, cancellationToken);
            var callsPerDocument = (double)(monitor.Calls - callsBefore) / Math.Max(1, endToEndOrders.Count);
            var callKinds = monitor.Kinds
                .Select(k => (k.Key, PerDocument: (double)(k.Value - kindsBefore.GetValueOrDefault(k.Key)) / Math.Max(1, endToEndOrders.Count)))
                .Where(k => k.PerDocument >= 0.005)
                .OrderByDescending(k => k.PerDocument)
                .ToList();
            var hot = await EndToEndAsync("intake to executed, one hot payer account", http, completions, hotOrders, callers, cancellationToken);

            // The front door alone: an instance that takes documents in and leaves their execution to others
            // (Workflows:Worker=false), as a scaled-out deployment would; this process's worker picks them up after their lease.
            var intakeOnly = CreateApp(prefix, operatorKey, ["--Workflows:Worker=false", "--Workflows:LeaseSeconds=8"], null);
            await intakeOnly.StartAsync(cancellationToken);
            Measurement frontDoor, paced;
            try
            {
                using var intakeHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = callers * 2 }) { BaseAddress = AddressOf(intakeOnly), Timeout = TimeSpan.FromSeconds(60) };

                // Each run starts with nothing else going on: the documents before it are executed first (by this
                // process's worker, once their lease of the intake-only instance lapses). The new instance warms up first.
                var executedBefore = completions.Executed;
                var intakeWarmUp = new List<SignedOrder>();
                while (intakeWarmUp.Count < 200 && queue.TryDequeue(out var order))
                {
                    intakeWarmUp.Add(order);
                }

                await completions.WaitForAsync(executedBefore += await SubmitAllAsync(intakeHttp, intakeWarmUp, intakeWarmUp.Count, callers, cancellationToken), TimeSpan.FromMinutes(5));
                paced = await PacedAsync("accepted at 300 docs/s offered (open loop)", 300, duration, () =>
                    queue.TryDequeue(out var order) ? SubmitAsync(intakeHttp, order, cancellationToken) : Task.FromResult(0));
                await completions.WaitForAsync(executedBefore += paced.Operations, TimeSpan.FromMinutes(5));
                frontDoor = await Load.RunAsync($"  as many as {callers} callers get in (closed loop)", "docs/s", callers, duration, async (_, _) =>
                    queue.TryDequeue(out var order) ? await SubmitAsync(intakeHttp, order, cancellationToken) : 0, cancellationToken);
                await completions.WaitForAsync(executedBefore + frontDoor.Operations, TimeSpan.FromMinutes(5));
            }
            finally
            {
                await intakeOnly.StopAsync(CancellationToken.None);
                await intakeOnly.DisposeAsync();
            }

            var completedBefore = completions.Executed;
            var accepted = await Load.RunAsync("accepted, executing in the same process", "docs/s", callers, duration, async (_, _) =>
                queue.TryDequeue(out var order) ? await SubmitAsync(http, order, cancellationToken) : 0, cancellationToken);
            await completions.WaitForAsync(completedBefore + accepted.Operations, TimeSpan.FromMinutes(5));

            var twoSignatures = await TwoSignaturesAsync(http, setup, pki, payers, completions, callers, Math.Min(1_000, endToEnd), cancellationToken);
            var verification = VerifyOnOneCore(app.Services, payers[1], duration);
            var trial = await http.SendAsync(Ops(HttpMethod.Get, "/api/v1/ops/ledger/trial-balance", operatorKey), cancellationToken);
            var balanced = (await trial.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("balanced").GetBoolean();
            return new DocumentFigures(frontDoor, paced, accepted, spread, hot, verification, OpenSslVerifyRate(), callsPerDocument, completions.Refused, balanced, FailedRequests)
            {
                TwoSignatures = twoSignatures,
                CallsPerDocumentByKind = callKinds,
            };
        }
        finally
        {
            foreach (var payer in payers)
            {
                payer.Certificate.Dispose();
            }

            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    private long FailedRequests;

    /// <summary>
    /// Documents two people sign, intake to executed: a draft (<c>POST /documents {document}</c>), then the director's and
    /// the accountant's detached signatures (<c>POST /documents/{id}/signatures</c>), each document by one caller in turn, over
    /// the customers' 1,000 accounts (each customer's notice feed takes its notices in order: one customer alone bounds the rate).
    /// The content is written compact and ASCII, so the bytes the API serves to sign are known ahead and signed before the clock.
    /// </summary>
    private async Task<Measurement> TwoSignaturesAsync(
        HttpClient http, BenchSetup setup, TestPki pki, List<BenchPayer> payers, CompletionCounter completions, int callers, int count, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"[documents] a chief accountant for each of {payers.Count} customers, and a first+second card on each account ...");
        var accountants = new List<(X509Certificate2 Certificate, AuthenticationHeaderValue Session)>();
        foreach (var payer in payers)
        {
            accountants.Add(await setup.SecondSignerAsync(pki, payer, cancellationToken));
        }

        try
        {
            return await TwoSignaturesAsync(http, payers, accountants, completions, callers, count, cancellationToken);
        }
        finally
        {
            accountants.ForEach(a => a.Certificate.Dispose());
        }
    }

    private async Task<Measurement> TwoSignaturesAsync(
        HttpClient http, List<BenchPayer> payers, List<(X509Certificate2 Certificate, AuthenticationHeaderValue Session)> accountants,
        CompletionCounter completions, int callers, int count, CancellationToken cancellationToken)
    {
        var firstNumber = Interlocked.Add(ref s_numbers, count) - count;
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(5)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var signedAt = DateTimeOffset.UtcNow;
        var drafts = new (string Draft, string First, string Second)[count];
        Parallel.For(0, count, i =>
        {
            var payer = payers[i % payers.Count];
            var accountant = accountants[i % payers.Count].Certificate;
            var content = $$"""{"type":"paymentOrder","number":"{{(firstNumber + i) % 1_000_000_000}}","date":"{{today}}","amount":"1.00","currency":"KZT","payer":{"iban":"{{payer.Ibans[i / payers.Count % payer.Ibans.Count]}}","code":"17"},"beneficiary":{"name":"TOO Beneficiary","idn":"{{payer.BeneficiaryBin}}","iban":"{{payer.BeneficiaryIban}}","bic":"HSBKKZKX","code":"17"},"purposeCode":"710","purpose":"Payment for goods","valueDate":"{{today}}"}""";
            var bytes = Encoding.UTF8.GetBytes(content);
            drafts[i] = ("{\"document\":" + content + "}",
                JsonSerializer.Serialize(new { cms = Convert.ToBase64String(TestPki.Sign(bytes, signedAt, true, payer.Certificate)) }),
                JsonSerializer.Serialize(new { cms = Convert.ToBase64String(TestPki.Sign(bytes, signedAt, true, accountant)) }));
        });

        var before = completions.Executed + completions.Refused;
        var latencies = new ConcurrentBag<double>();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var payer = payers[i % payers.Count];
                var accountantSession = accountants[i % payers.Count].Session;
                var start = Stopwatch.GetTimestamp();
                var created = await PostAsync(http, "/api/v1/documents", drafts[i].Draft, payer.Session, HttpStatusCode.Created, cancellationToken);
                var id = created is null ? null : JsonDocument.Parse(created).RootElement.GetProperty("documentId").GetString();
                if (id is null
                    || await PostAsync(http, $"/api/v1/documents/{id}/signatures", drafts[i].First, payer.Session, HttpStatusCode.Accepted, cancellationToken) is null
                    || await PostAsync(http, $"/api/v1/documents/{id}/signatures", drafts[i].Second, accountantSession, HttpStatusCode.Accepted, cancellationToken) is null)
                {
                    Interlocked.Increment(ref FailedRequests);
                    continue;
                }

                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }));
        await completions.WaitForAsync(before + count, TimeSpan.FromMinutes(10), countRefused: true);
        var elapsed = clock.Elapsed;
        var sorted = completions.LastEndToEnd(count);
        return new Measurement("two signatures: draft, first, second, to executed", "docs/s", count, latencies.Count, elapsed, Percentile(sorted, 0.5), Percentile(sorted, 0.99));
    }

    private static async Task<string?> PostAsync(HttpClient http, string path, string body, AuthenticationHeaderValue session, HttpStatusCode expect, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = session;
        request.Headers.Add("Idempotency-Key", "bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode == expect ? await response.Content.ReadAsStringAsync(cancellationToken) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private static Uri AddressOf(WebApplication app) => BenchApp.AddressOf(app);

    private WebApplication CreateApp(string prefix, string operatorKey, string[] extra, IWorkflowObserver? observer) => BenchApp.Create(connectionString, prefix, operatorKey,
        [
            "--Users:PasswordHashIterations=1000",
            "--Calendar:OperationalHours=00:00-24:00",
            "--Calendar:Weekend=",
            "--Calendar:ApplyPublicHolidays=false",
            "--Timers:credential-inactivity:Schedule=",
            "--Timers:user-inactivity:Schedule=",
            "--Timers:document-deadlines:Schedule=",
            .. extra,
        ],
        builder =>
        {
            if (observer is not null)
            {
                builder.Services.AddSingleton(observer);
            }
        });

    private async Task<Measurement> EndToEndAsync(string name, HttpClient http, CompletionCounter completions, IReadOnlyList<SignedOrder> orders, int callers, CancellationToken cancellationToken)
    {
        var before = completions.Executed + completions.Refused;
        var clock = Stopwatch.StartNew();
        var latencies = await SubmitAllAsync(http, orders, orders.Count, callers, cancellationToken);
        await completions.WaitForAsync(before + orders.Count, TimeSpan.FromMinutes(10), countRefused: true);
        var elapsed = clock.Elapsed;
        var sorted = completions.LastEndToEnd(orders.Count);
        return new Measurement(name, "docs/s", orders.Count, latencies, elapsed, Percentile(sorted, 0.5), Percentile(sorted, 0.99));
    }

    /// <summary>
    /// Requests started at a fixed rate whatever the answers do (open loop): the latency a client sees at that load, timed
    /// from each request's due instant (free of coordinated omission).
    /// </summary>
    private static async Task<Measurement> PacedAsync(string name, int perSecond, TimeSpan duration, Func<Task<int>> operation)
    {
        var latencies = new ConcurrentBag<double>();
        var running = new List<Task<int>>();
        var clock = Stopwatch.StartNew();
        var total = (int)(perSecond * duration.TotalSeconds);
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / perSecond);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }

            // Timed from the instant the request was due, not from when it went out: a late start is latency the client sees.
            running.Add(Task.Run(async () =>
            {
                var done = await operation();
                latencies.Add((clock.Elapsed - due).TotalMilliseconds);
                return done;
            }));
        }

        var accepted = (await Task.WhenAll(running)).Sum();
        var sorted = latencies.Order().ToArray();
        return new Measurement(name, "docs/s", accepted, sorted.Length, clock.Elapsed, Percentile(sorted, 0.5), Percentile(sorted, 0.99));
    }

    private async Task<long> SubmitAllAsync(HttpClient http, IReadOnlyList<SignedOrder> orders, int count, int callers, CancellationToken cancellationToken)
    {
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < Math.Min(count, orders.Count))
            {
                await SubmitAsync(http, orders[i], cancellationToken);
            }
        }));
        return Math.Min(count, orders.Count);
    }

    private async Task<int> SubmitAsync(HttpClient http, SignedOrder order, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/documents") { Content = new StringContent(order.Body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = order.Session;
        request.Headers.Add("Idempotency-Key", order.Key);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                return 1;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
        }

        Interlocked.Increment(ref FailedRequests);
        return 0;
    }

    // A payer's number and date identify one live order: every order signed here has a number of its own.
    private static long s_numbers;

    private static List<SignedOrder> Sign(List<(BenchPayer Payer, string Iban)> accounts, int count)
    {
        var firstNumber = Interlocked.Add(ref s_numbers, count) - count;
        var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(5)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var signedAt = DateTimeOffset.UtcNow;
        var orders = new SignedOrder[count];
        Parallel.For(0, count, i =>
        {
            var (payer, iban) = accounts[i % accounts.Count];
            var json = $$"""
                {"type":"paymentOrder","number":"{{(firstNumber + i) % 1_000_000_000}}","date":"{{today}}","amount":"1.00","currency":"KZT",
                 "payer":{"iban":"{{iban}}","code":"17"},
                 "beneficiary":{"name":"ТОО Получатель","idn":"{{payer.BeneficiaryBin}}","iban":"{{payer.BeneficiaryIban}}","bic":"HSBKKZKX","code":"17"},
                 "purposeCode":"710","purpose":"Оплата за товары","valueDate":"{{today}}"}
                """;
            var cms = TestPki.Sign(json, signedAt, payer.Certificate);
            orders[i] = new SignedOrder(payer.Session, "bench-" + Guid.NewGuid().ToString("N"), JsonSerializer.Serialize(new { cms = Convert.ToBase64String(cms) }));
        });
        return [.. orders];
    }

    /// <summary>The EDS check alone, on one thread: with the chain cached (steady state) and with a chain built every time.</summary>
    private static (Measurement Cached, Measurement Cold) VerifyOnOneCore(IServiceProvider services, BenchPayer payer, TimeSpan duration)
    {
        var trust = services.GetRequiredService<TrustStore>().GetAsync(default).AsTask().GetAwaiter().GetResult();
        var options = new SignatureOptions();
        var cms = TestPki.Sign("""{"type":"paymentOrder"}""", DateTimeOffset.UtcNow, payer.Certificate);
        Measurement Run(string name, Func<TrustMaterial> material)
        {
            var latencies = new List<double>();
            var clock = Stopwatch.StartNew();
            long done = 0;
            while (clock.Elapsed < duration / 2)
            {
                var start = Stopwatch.GetTimestamp();
                if (SignatureVerifier.Verify(cms, material(), DateTimeOffset.UtcNow, options).IsValid)
                {
                    done++;
                }

                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }

            var sorted = latencies.Order().ToArray();
            return new Measurement(name, "checks/s", done, sorted.Length, clock.Elapsed, Percentile(sorted, 0.5), Percentile(sorted, 0.99));
        }

        var cached = Run("EDS verification, chain cached (1 core)", () => trust);
        var cold = Run("EDS verification, chain built each time", () => new TrustMaterial([.. trust.Roots, .. trust.Intermediates], trust.Crls.Select(c => c.Raw)));
        return (cached, cold);
    }

    /// <summary>OpenSSL's raw RSA-2048 verifications per second on one core (<c>openssl speed</c>), or NaN without openssl.</summary>
    internal static double OpenSslVerifyRate()
    {
        try
        {
            var start = new ProcessStartInfo("openssl", "speed -seconds 2 -mr rsa2048") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            // Machine-readable line: +F2:<index>:<bits>:<signs/s>:<verifies/s>
            var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("+F2:", StringComparison.Ordinal));
            var parts = line?.Split(':');
            return parts is { Length: >= 5 } && double.TryParse(parts[4], CultureInfo.InvariantCulture, out var verifies) ? verifies : double.NaN;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return double.NaN;
        }
    }

    private static HttpRequestMessage Ops(HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return request;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private sealed record SignedOrder(AuthenticationHeaderValue Session, string Key, string Body);

    /// <summary>Counts documents reaching their end in this process, with the time each took from its start.</summary>
    private sealed class CompletionCounter : IWorkflowObserver
    {
        private readonly ConcurrentDictionary<string, DateTimeOffset> _started = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<double> _ends = new(); // milliseconds from start to end, in order of ending
        private long _executed;
        private long _refused;

        public long Executed => Interlocked.Read(ref _executed);

        public long Refused => Interlocked.Read(ref _refused);

        public void OnTransition(WorkflowTransition transition)
        {
            if (transition.Workflow != DocumentWorkflow.WorkflowName)
            {
                return;
            }

            if (transition.From is null)
            {
                _started[transition.InstanceId] = transition.At;
            }
            else if (transition.Status == WorkflowStatus.Completed)
            {
                Interlocked.Increment(ref transition.To == "executed" ? ref _executed : ref _refused);
                if (_started.TryRemove(transition.InstanceId, out var started))
                {
                    _ends.Enqueue((transition.At - started).TotalMilliseconds);
                }
            }
        }

        /// <summary>The start-to-end times of the last <paramref name="take"/> documents that ended, sorted.</summary>
        public double[] LastEndToEnd(int take) =>
            [.. _ends.Skip(Math.Max(0, _ends.Count - take)).Order()];

        public async Task WaitForAsync(long count, TimeSpan timeout, bool countRefused = false)
        {
            var limit = Stopwatch.StartNew();
            while ((countRefused ? Executed + Refused : Executed) < count && limit.Elapsed < timeout)
            {
                await Task.Delay(20);
            }
        }
    }
}

public sealed record DocumentFigures(
    Measurement AcceptedIntakeOnly,
    Measurement AcceptedAt300,
    Measurement Accepted,
    Measurement EndToEndSpread,
    Measurement EndToEndHot,
    (Measurement Cached, Measurement Cold) Verification,
    double OpenSslVerifiesPerSecond,
    double StorageCallsPerDocument,
    long Refused,
    bool BooksBalanced,
    long FailedRequests)
{
    /// <summary>Documents two people sign (a first+second card), from the draft to executed.</summary>
    public Measurement? TwoSignatures { get; init; }

    /// <summary>Where the storage calls of the spread run go, per document, most first ("POST table Documents batch").</summary>
    public IReadOnlyList<(string Kind, double PerDocument)> CallsPerDocumentByKind { get; init; } = [];
}

/// <summary>A customer in the benchmark: payer accounts with money, a signer's certificate and a software session.</summary>
internal sealed record BenchPayer(string CustomerId, IReadOnlyList<string> Ibans, X509Certificate2 Certificate, AuthenticationHeaderValue Session, string BeneficiaryIban, string BeneficiaryBin)
{
    public string UserId { get; init; } = "";

    public string Bin { get; init; } = "";

    public string ClientToken { get; init; } = "";

    public string ClientId { get; init; } = "";

    public string ClientSecret { get; init; } = "";
}

/// <summary>Onboarding through the API, as in the README walkthrough, for the benchmark's customers.</summary>
internal sealed class BenchSetup(HttpClient http, string operatorKey)
{
    public async Task TrustAsync(TestPki pki, CancellationToken cancellationToken)
    {
        foreach (var certificate in new[] { pki.Root, pki.Intermediate })
        {
            await SendAsync(HttpMethod.Post, "/api/v1/ops/trust-anchors", new { certificate = certificate.ExportCertificatePem() }, operatorKey, cancellationToken);
        }

        await SendAsync(HttpMethod.Post, "/api/v1/ops/crls", new { crl = TestPki.CrlPem(pki.Crl(DateTimeOffset.UtcNow.AddHours(-1))) }, operatorKey, cancellationToken);
    }

    public async Task<BenchPayer> PayerAsync(TestPki pki, int accounts, CancellationToken cancellationToken, decimal funds = 1_000_000m)
    {
        var bin = Tests.Accounts.BankData.NewBin();
        var customer = (await SendAsync(HttpMethod.Post, "/api/v1/ops/customers", new { name = "ТОО Бенч", bin }, operatorKey, cancellationToken)).GetProperty("customerId").GetString()!;
        var ibans = new string[accounts];
        await Parallel.ForEachAsync(Enumerable.Range(0, accounts), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var iban = Tests.Accounts.BankData.NewIban().Value;
            await SendAsync(HttpMethod.Post, $"/api/v1/ops/customers/{customer}/accounts", new { iban, currency = "KZT" }, operatorKey, ct);
            await SendAsync(HttpMethod.Post, $"/api/v1/ops/accounts/{iban}/credits", new { amount = funds, reference = "bench" }, operatorKey, ct, idempotencyKey: "bench-" + iban);
            ibans[i] = iban;
        });

        var iin = Tests.Accounts.BankData.NewIin();
        var (login, userId) = await UserAsync(customer, iin, isAdmin: true, ["view", "create", "sign"], cancellationToken);
        var portal = (await SendAsync(HttpMethod.Post, "/api/v1/sessions", new { login, password = Password }, null, cancellationToken)).GetProperty("sessionToken").GetString()!;
        var pair = await SendAsync(HttpMethod.Post, "/api/v1/credentials", new { name = "Bench ERP", scopes = new[] { "documents.read", "documents.write", "accounts.read", "statements.read", "notifications.read" } }, portal, cancellationToken);
        var clientId = pair.GetProperty("clientId").GetString()!;
        var clientSecret = pair.GetProperty("clientSecret").GetString()!;
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = clientSecret,
        });
        var token = (await (await http.PostAsync("/api/v1/oauth/token", form, cancellationToken)).Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("access_token").GetString()!;
        var session = (await SendAsync(HttpMethod.Post, "/api/v1/sessions", new { login, password = Password }, token, cancellationToken)).GetProperty("sessionToken").GetString()!;
        return new BenchPayer(customer, ibans, pki.IssueUser(iin, bin), new AuthenticationHeaderValue("Bearer", session),
            Tests.Accounts.BankData.NewIban("601").Value, Tests.Accounts.BankData.NewBin())
        {
            UserId = userId,
            Bin = bin,
            ClientToken = token,
            ClientId = clientId,
            ClientSecret = clientSecret,
        };
    }

    /// <summary>A second signer of <paramref name="payer"/>'s customer (sign only) with a software session, and the card first+second on its accounts.</summary>
    public async Task<(X509Certificate2 Certificate, AuthenticationHeaderValue Session)> SecondSignerAsync(TestPki pki, BenchPayer payer, CancellationToken cancellationToken)
    {
        var iin = Tests.Accounts.BankData.NewIin();
        var (login, userId) = await UserAsync(payer.CustomerId, iin, isAdmin: false, ["view", "sign"], cancellationToken);
        var session = (await SendAsync(HttpMethod.Post, "/api/v1/sessions", new { login, password = Password }, payer.ClientToken, cancellationToken)).GetProperty("sessionToken").GetString()!;
        foreach (var iban in payer.Ibans)
        {
            await SendAsync(HttpMethod.Put, $"/api/v1/ops/accounts/{iban}/signature-rule", new
            {
                rule = "first+second",
                signers = new[] { new { userId = payer.UserId, group = "first" }, new { userId, group = "second" } },
            }, operatorKey, cancellationToken);
        }

        return (pki.IssueUser(iin, payer.Bin), new AuthenticationHeaderValue("Bearer", session));
    }

    private const string Password = "Bench-Passw0rd!";

    private async Task<(string Login, string UserId)> UserAsync(string customer, string iin, bool isAdmin, string[] functions, CancellationToken cancellationToken)
    {
        var login = "bench" + Guid.NewGuid().ToString("N")[..12];
        var user = await SendAsync(HttpMethod.Post, $"/api/v1/ops/customers/{customer}/users",
            new { login, fullName = "Бенч Бенчев", iin, isAdmin, permissions = new { accounts = new[] { "*" }, functions } }, operatorKey, cancellationToken);
        var temporary = user.GetProperty("temporaryPassword").GetString()!;
        var first = (await SendAsync(HttpMethod.Post, "/api/v1/sessions", new { login, password = temporary }, null, cancellationToken, expect: HttpStatusCode.Forbidden)).GetProperty("sessionToken").GetString()!;
        await SendAsync(HttpMethod.Post, "/api/v1/users/me/password", new { currentPassword = temporary, newPassword = Password }, first, cancellationToken, expect: HttpStatusCode.NoContent);
        return (login, user.GetProperty("userId").GetString()!);
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object body, string? bearer, CancellationToken cancellationToken, HttpStatusCode? expect = null, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (expect is { } status ? response.StatusCode != status : !response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        }

        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }
}

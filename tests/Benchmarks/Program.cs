using System.Globalization;
using BusinessApi.Benchmarks;

// Prints this machine's figures. Run through ./bench.sh, which starts Azurite and passes its connection string.
var seconds = ArgValue("--seconds", 5.0);
var concurrency = (int)ArgValue("--concurrency", 32);
var instances = (int)ArgValue("--instances", 3000);
var accounts = (int)ArgValue("--accounts", 1000);
var hotCallers = (int)ArgValue("--hot-callers", 128);
var pairs = (int)ArgValue("--pairs", 100_000);
var duePairs = (int)ArgValue("--due-pairs", 100);
var documents = (int)ArgValue("--documents", 1000);
var subscribers = (int)ArgValue("--subscribers", 1000);
var rounds = (int)ArgValue("--rounds", 3);
var onlyIndex = Array.IndexOf(args, "--only");
var only = onlyIndex >= 0 && onlyIndex + 1 < args.Length ? args[onlyIndex + 1].Split(',') : ["signatures", "statements", "workflows", "ledger", "credentials", "documents", "notices"];
var telemetry = args.Contains("--telemetry");

// --set Key=Value (repeatable): an app setting for every app the benchmarks start, to measure a setting's effect.
for (var i = 0; i + 1 < args.Length; i++)
{
    if (args[i] == "--set")
    {
        BenchApp.CommonSettings.Add("--" + args[i + 1]);
    }
}

if (telemetry)
{
    // Every span and metric collected (no exporter: this measures the instrumentation, not the upload).
    BenchApp.CommonSettings.Add("--Telemetry:Enabled=true");
}

var connection = Environment.GetEnvironmentVariable("AzureWebJobsStorage")
    ?? throw new InvalidOperationException("Set AzureWebJobsStorage (./bench.sh does).");

// ./bench.sh --soak 20m [--rate R] [--warmup 2m]: the open-loop soak alone (at 60% of a capacity it measures first, without --rate).
var soakIndex = Array.IndexOf(args, "--soak");
if (soakIndex >= 0)
{
    var length = Duration(soakIndex + 1 < args.Length ? args[soakIndex + 1] : "20m");
    var rateIndex = Array.IndexOf(args, "--rate");
    double? soakRate = rateIndex >= 0 ? ArgValue("--rate", 0) : null;
    var warmIndex = Array.IndexOf(args, "--warmup");
    var warm = warmIndex >= 0 && warmIndex + 1 < args.Length ? Duration(args[warmIndex + 1]) : TimeSpan.FromMinutes(Math.Min(2, Math.Max(1, length.TotalMinutes / 10)));
    Console.WriteLine($"Business API soak — {Environment.ProcessorCount} cores, {length.TotalMinutes:F0} min, open loop (latency from each request's due instant), the app in this process");
    var report = await new Soak(connection, length, soakRate, warm).RunAsync();
    Console.WriteLine();
    Console.WriteLine($"Per minute, at {report.Rate:F0} requests/s offered (the first {report.WarmUp.TotalMinutes:F0} a warm-up; RSS and GC heap are this process's: the app and the load):");
    Console.WriteLine(SoakMinute.Header);
    foreach (var minute in report.Minutes)
    {
        Console.WriteLine(minute.Row());
    }

    Console.WriteLine();
    Console.WriteLine($"Soak goals ({report.Webhooks:N0} webhooks delivered; commission per document {report.Ledger.Commission}):");
    Console.WriteLine("| goal | figure | result |");
    Console.WriteLine("|---|---|---|");
    foreach (var (goal, figure, met) in report.Goals())
    {
        Console.WriteLine($"| {goal} | {figure} | {(met ? "pass" : "FAIL")} |");
    }

    foreach (var wrong in report.Ledger.Wrong.Take(10))
    {
        Console.WriteLine("  wrong balance: " + wrong);
    }

    return;
}

Console.WriteLine($"Business API benchmarks — {Environment.ProcessorCount} cores, {concurrency} concurrent callers, {seconds:F1} s per figure{(telemetry ? ", OpenTelemetry tracing and metrics on" : "")}");
Console.WriteLine("(our figures are measured first and the raw Azurite rates last: after the raw run deletes its ~100,000");
Console.WriteLine(" entities and ~9,000 messages, Azurite stops answering for 40 s or more a little later, on its own)");

// CPU only, before the storage figures load the machine.
var signatures = only.Contains("signatures") ? new SignatureThroughput(TimeSpan.FromSeconds(seconds)).Measure() : null;
var statements = only.Contains("statements") ? await StatementThroughput.MeasureAsync() : null;
if (statements is not null)
{
    Console.WriteLine();
    Console.WriteLine("Statement files on one core (entries streamed through each writer; the heap sampled every 1,000 entries):");
    Console.WriteLine("| format   | entries/s | goal 100,000/s | peak heap, 100k entries | peak heap, 1M entries | bytes/entry |");
    foreach (var s in statements)
    {
        Console.WriteLine($"| {s.Format,-8} | {s.EntriesPerSecond,9:N0} | {(s.EntriesPerSecond >= 100_000 ? "pass" : "FAIL"),-14} | {s.PeakHeap100K / 1048576.0,20:F1} MB | {s.PeakHeap1M / 1048576.0,18:F1} MB | {s.BytesPerEntry,11:F0} |");
    }
}
var workflows = only.Contains("workflows") ? await new WorkflowThroughput(connection, concurrency, instances).MeasureAsync() : null;
var ledger = only.Contains("ledger") ? await new LedgerThroughput(connection, accounts, TimeSpan.FromSeconds(seconds)).MeasureAsync(concurrency, hotCallers) : null;
var credentials = only.Contains("credentials") ? await new CredentialThroughput(connection, TimeSpan.FromSeconds(seconds)).MeasureAsync(concurrency, pairs, duePairs) : null;
var payments = only.Contains("documents") ? await new DocumentThroughput(connection, TimeSpan.FromSeconds(seconds)).MeasureAsync(concurrency, accounts, documents) : null;
var fanOut = only.Contains("notices") ? await new NoticeFanOut(connection).MeasureAsync(subscribers, rounds) : null;
var baseline = await new AzuriteBaseline(connection, concurrency, TimeSpan.FromSeconds(seconds)).MeasureAsync();

Console.WriteLine();
Console.WriteLine("Raw Azurite rates (the baseline every other figure is a ratio of):");
Console.WriteLine(Measurement.Header);
Console.WriteLine(Measurement.Rule);
foreach (var measurement in baseline.All)
{
    Console.WriteLine(measurement.Row());
}

var insert = baseline.SingleInsert.PerSecond;
if (signatures is not null)
{
    Console.WriteLine();
    Console.WriteLine("Signature checks on one core (the whole CMS verification of a payment order, chain cached as in the app):");
    Console.WriteLine($"| GOST 34.310-2015-512 CMS checks    | {signatures.GostCms,8:N0} /s | {signatures.GostCms / signatures.RawGost,5:F2} x BouncyCastle's raw GOST verify ({signatures.RawGost:N0}/s) |");
    Console.WriteLine($"| RSA-2048 CMS checks                | {signatures.RsaCms,8:N0} /s | {signatures.RsaCms / signatures.RawRsa,5:F2} x the platform's raw RSA verify ({signatures.RawRsa:N0}/s) |");
    Console.WriteLine(double.IsNaN(signatures.OpenSslRsa)
        ? "| openssl speed rsa2048              | (openssl not installed) |"
        : $"| openssl speed rsa2048 (verify/s)   | {signatures.OpenSslRsa,8:N0} /s | ours {signatures.RsaCms / signatures.OpenSslRsa,5:F2} x openssl |");
}
if (workflows is not null)
{
    Console.WriteLine();
    Console.WriteLine($"Durable workflows: {instances:N0} three-step instances, started by {concurrency} callers, completed in-process:");
    Console.WriteLine($"| instances started and completed | {workflows.PerSecond,8:N0} /s | {workflows.PerSecond / insert,5:F3} x single-insert rate (goal >= 0.15x) |");
    Console.WriteLine($"| storage calls per instance      | {workflows.StorageCallsPerInstance,8:F2}    | {workflows.PerSecond * workflows.StorageCallsPerInstance / insert,5:F2} x single-insert rate in storage calls/s |");
    Console.WriteLine($"| start to completion p50 / p99   | {workflows.P50Ms,6:F1} / {workflows.P99Ms:F1} ms |");
}

if (ledger is not null)
{
    Console.WriteLine();
    Console.WriteLine($"Ledger: payments with commission (2 debits + 2 credits each), {concurrency} callers spread over {accounts:N0} accounts, then {hotCallers} callers on one account:");
    Console.WriteLine(Measurement.Header.TrimEnd() + " vs single insert |");
    Console.WriteLine(Measurement.Rule + "------------------|");
    Console.WriteLine(ledger.Spread.Row(baseline.SingleInsert));
    Console.WriteLine(ledger.Hot.Row(baseline.SingleInsert) + " (goal >= 300/s)");
    Console.WriteLine($"| storage calls per posting: spread {ledger.SpreadCallsPerPosting:F2}, hot {ledger.HotCallsPerPosting:F2}; books balanced after the run: {(ledger.BooksBalanced ? "yes" : "NO")} |");
}

if (credentials is not null)
{
    Console.WriteLine();
    Console.WriteLine($"Credentials and sessions over real HTTP (Kestrel on loopback), {concurrency} callers:");
    Console.WriteLine(Measurement.Header.TrimEnd() + " vs single insert |");
    Console.WriteLine(Measurement.Rule + "------------------|");
    Console.WriteLine(credentials.Tokens.Row(baseline.SingleInsert) + " (goal >= 1,000/s)");
    Console.WriteLine(credentials.Reads.Row(baseline.SingleInsert) + " (goal >= 1,500/s)");
    Console.WriteLine(credentials.UncachedReads.Row(baseline.SingleInsert) + " (2 accounts: 3 storage reads per request)");
    Console.WriteLine(credentials.SignIns.Row(baseline.SingleInsert) + $" (bound by the hash: {credentials.HashMilliseconds:F0} ms per PBKDF2-SHA256 x 600,000 on one core)");
    Console.WriteLine(credentials.SessionReads.Row(baseline.SingleInsert));
    Console.WriteLine($"| 90-day job over {credentials.Pairs:N0} pairs, {credentials.Due:N0} due: {credentials.JobStorageCalls:N0} storage calls ({(double)credentials.JobStorageCalls / Math.Max(1, credentials.Due):F1} per due pair), {credentials.Blocked:N0} blocked; requests without an answer in 30 s: {credentials.FailedRequests:N0} |");
}

if (payments is not null)
{
    Console.WriteLine();
    Console.WriteLine($"Signed payment orders over real HTTP, {concurrency} callers (RSA-2048 signatures made beforehand; workflows run in the same process):");
    Console.WriteLine(Measurement.Header.TrimEnd() + " vs single insert |");
    Console.WriteLine(Measurement.Rule + "------------------|");
    Console.WriteLine(payments.AcceptedAt300.Row(baseline.SingleInsert) + " (goal: p99 <= 50 ms at 300/s)");
    Console.WriteLine(payments.AcceptedIntakeOnly.Row(baseline.SingleInsert) + " (goal >= 300/s)");
    Console.WriteLine(payments.Accepted.Row(baseline.SingleInsert) + " (the same Azurite also executing them)");
    Console.WriteLine(payments.EndToEndSpread.Row(baseline.SingleInsert) + " (goal >= 0.10x; p50/p99: intake to executed)");
    Console.WriteLine(payments.EndToEndHot.Row(baseline.SingleInsert) + " (p50/p99: intake to executed)");
    if (payments.TwoSignatures is { } two)
    {
        Console.WriteLine(two.Row(baseline.SingleInsert) + " (p50/p99: draft to executed; each document 3 requests by one caller)");
    }
    Console.WriteLine(payments.Verification.Cached.Row());
    Console.WriteLine(payments.Verification.Cold.Row());
    Console.WriteLine($"| openssl speed rsa2048, verify on one core: {payments.OpenSslVerifiesPerSecond:N0}/s; our cached EDS check is {payments.Verification.Cached.PerSecond / payments.OpenSslVerifiesPerSecond:P1} of it (CMS decoding, the signed-attribute digest, CRL lookup) |");
    Console.WriteLine($"| storage calls per document, by kind: {string.Join(", ", payments.CallsPerDocumentByKind.Select(k => $"{k.Kind} {k.PerDocument:F2}"))} |");
    Console.WriteLine($"| storage calls per document (intake to executed, the spread run): {payments.StorageCallsPerDocument:F1}; refused: {payments.Refused:N0}; books balanced after the run: {(payments.BooksBalanced ? "yes" : "NO")}; requests without an answer: {payments.FailedRequests:N0} |");
}

if (fanOut is not null)
{
    Console.WriteLine();
    Console.WriteLine($"Notices fanned out to {fanOut.Subscribers:N0} webhook subscribers on loopback (one emergency-maintenance broadcast per round; p50/p99: notice created to acknowledged):");
    Console.WriteLine(Measurement.Header);
    Console.WriteLine(Measurement.Rule);
    foreach (var round in fanOut.Rounds)
    {
        Console.WriteLine(round.Row());
    }

    Console.WriteLine(fanOut.Overall.Row());
    Console.WriteLine($"| storage calls per delivered notice: {fanOut.StorageCallsPerDelivery:F1}; signatures that failed to verify: {fanOut.BadSignatures:N0}; duplicate deliveries: {fanOut.Duplicates:N0} |");
}

// The goals, each beside its figure: ratios to this run's raw single insert, so a slow or fast machine cancels out.
var goals = new List<(string Goal, string Figure, string Target, bool Met)>();
if (payments is not null)
{
    goals.Add(("intake to executed, 1,000 payer accounts", $"{payments.EndToEndSpread.PerSecond:N0} docs/s = {payments.EndToEndSpread.PerSecond / insert:F3}x", ">= 0.10x", payments.EndToEndSpread.PerSecond / insert >= 0.10));
    goals.Add(("POST /documents p99 at 300 docs/s offered", $"{payments.AcceptedAt300.P99Ms:F1} ms", "<= 50 ms", payments.AcceptedAt300.P99Ms <= 50));
    goals.Add(("storage calls per document, intake to executed", $"{payments.StorageCallsPerDocument:F2}", "<= 5", payments.StorageCallsPerDocument <= 5));
}

if (workflows is not null)
{
    goals.Add(("3-step workflows started and completed", $"{workflows.PerSecond:N0}/s = {workflows.PerSecond / insert:F3}x", ">= 0.15x", workflows.PerSecond / insert >= 0.15));
    goals.Add(("storage calls per workflow instance", $"{workflows.StorageCallsPerInstance:F2}", "<= 4", workflows.StorageCallsPerInstance <= 4));
}

if (goals.Count > 0)
{
    Console.WriteLine();
    Console.WriteLine($"Goals (ratios to this run's raw single insert, {insert:N0} entities/s):");
    Console.WriteLine("| goal                                              | figure                  | target   | result |");
    Console.WriteLine("|---------------------------------------------------|-------------------------|----------|--------|");
    foreach (var (goal, figure, target, met) in goals)
    {
        Console.WriteLine($"| {goal,-49} | {figure,-23} | {target,-8} | {(met ? "pass" : "FAIL"),-6} |");
    }
}

double ArgValue(string name, double fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? double.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

static TimeSpan Duration(string text) => text[^1] switch
{
    'h' => TimeSpan.FromHours(double.Parse(text[..^1], CultureInfo.InvariantCulture)),
    'm' => TimeSpan.FromMinutes(double.Parse(text[..^1], CultureInfo.InvariantCulture)),
    's' => TimeSpan.FromSeconds(double.Parse(text[..^1], CultureInfo.InvariantCulture)),
    _ => TimeSpan.FromMinutes(double.Parse(text, CultureInfo.InvariantCulture)),
};

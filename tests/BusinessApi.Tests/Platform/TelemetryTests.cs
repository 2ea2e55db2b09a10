using System.Diagnostics;
using System.Net;
using BusinessApi.Calendar;
using BusinessApi.Platform.Telemetry;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using OpenTelemetry.Trace;

namespace BusinessApi.Tests.Platform;

/// <summary>OpenTelemetry: one document is one trace, from the intake request through each workflow step, across a durable wait.</summary>
public sealed class TelemetryTests : IDisposable
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    [Fact]
    public async Task Timer_runs_are_spans_of_their_own_except_the_ten_second_ledger_sweep()
    {
        var spans = new SpanCollection();
        var app = await TestApp.StartAsync(
            new Dictionary<string, string> { ["Telemetry:Enabled"] = "true" },
            services: s => s.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)));
        await using var _ = app;

        List<Activity> Timers() => spans.Snapshot().Where(a => a.Source.Name == PlatformTelemetry.TimersName).ToList();

        // Five minutes on the fake clock: notice-deadlines and document-deadlines come due, the ledger sweep ran 30 times.
        var run = await Eventually.GetAsync(async () =>
        {
            app.Time.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(20);
            return Timers().FirstOrDefault(a => a.GetTagItem("timer.job") as string == "notice-deadlines");
        }, a => a is not null, TimeSpan.FromSeconds(30), "a notice-deadlines run traced");

        Assert.Equal("timer notice-deadlines", run!.DisplayName);
        Assert.Equal(default, run.ParentSpanId); // a run starts its own trace
        Assert.DoesNotContain(Timers(), a => a.GetTagItem("timer.job") as string == "ledger-outbox");
    }

    [Fact]
    public async Task A_document_received_on_Friday_evening_and_executed_on_Monday_is_one_trace()
    {
        var spans = new SpanCollection();
        var app = await TestApp.StartAsync(
            new Dictionary<string, string> { ["Telemetry:Enabled"] = "true" },
            services: s => s.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans)),
            now: new DateTimeOffset(2026, 11, 27, 19, 30, 0, Kazakhstan));
        await using var _ = app;
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki);

        var id = await payer.SubmitOrderAsync(payer.Order(100m));
        await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.GetProperty("status").GetString() == "processing");
        app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 30, 9, 0, 1, Kazakhstan)); // Monday: the operational day opens
        Assert.Equal("executed", (await payer.FinishedAsync(id)).GetProperty("status").GetString());

        List<Activity> Snapshot() => spans.Snapshot();

        // This document's steps (the instance id is the document id): the listener is process-wide, and other
        // tests' apps submit documents at the same time.
        var steps = await Eventually.GetAsync(
            () => Task.FromResult(Snapshot().Where(a => a.Source.Name == PlatformTelemetry.WorkflowsName && a.GetTagItem("workflow.instance_id") as string == id).ToList()),
            list => list.Any(a => a.GetTagItem("workflow.state") as string == "execute"));

        // verify (Friday, right after intake) and execute (Monday, after the durable wait), each its own span
        var verify = Assert.Single(steps, a => a.GetTagItem("workflow.state") as string == "verify");
        var execute = Assert.Single(steps, a => a.GetTagItem("workflow.state") as string == "execute");

        // The intake request: the server span of POST /api/v1/documents that answered 202, verify's parent.
        var intake = Assert.Single(Snapshot(), a => a.SpanId == verify.ParentSpanId);
        Assert.Equal(ActivityKind.Server, intake.Kind);
        Assert.Equal("POST", intake.GetTagItem("http.request.method"));
        Assert.EndsWith("/documents", intake.GetTagItem("url.path") as string ?? "", StringComparison.Ordinal);
        Assert.Equal((int)HttpStatusCode.Accepted, intake.GetTagItem("http.response.status_code"));

        // The X-Request-Id an integrator quotes is on the request's span.
        Assert.Matches("^[0-9a-f]{32}$", intake.GetTagItem("request.id") as string ?? "");
        Assert.Equal(intake!.TraceId, verify.TraceId);
        Assert.Equal(intake.TraceId, execute.TraceId);
        Assert.Equal(intake.SpanId, verify.ParentSpanId);
        Assert.Equal("payment-document", verify.GetTagItem("workflow.name"));
        Assert.Equal("committed", execute.GetTagItem("workflow.outcome"));
        Assert.True(execute.StartTimeUtc > verify.StartTimeUtc);

        // The storage calls the steps made are spans of the same trace, under the step that made them;
        // calls made on no one's behalf (the sweeps, the wake-up poll at start) start no trace of their own.
        Assert.Contains(Snapshot(), a => a.Source.Name.StartsWith("Azure.", StringComparison.Ordinal) && a.ParentSpanId == execute.SpanId);
        Assert.DoesNotContain(Snapshot(), a => a.Source.Name.StartsWith("Azure.", StringComparison.Ordinal) && a.ParentSpanId == default);
        Assert.DoesNotContain(Snapshot(), a => a.Source.Name == "System.Net.Http" && a.ParentSpanId == default);
    }
}

/// <summary>Where the in-memory exporter puts spans: it adds from whichever thread ends a span, so every access takes the lock.</summary>
internal sealed class SpanCollection : ICollection<Activity>
{
    private readonly List<Activity> _items = [];

    public int Count
    {
        get
        {
            lock (_items)
            {
                return _items.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public List<Activity> Snapshot()
    {
        lock (_items)
        {
            return [.. _items];
        }
    }

    public void Add(Activity item)
    {
        lock (_items)
        {
            _items.Add(item);
        }
    }

    public void Clear()
    {
        lock (_items)
        {
            _items.Clear();
        }
    }

    public bool Contains(Activity item)
    {
        lock (_items)
        {
            return _items.Contains(item);
        }
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_items)
        {
            _items.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(Activity item)
    {
        lock (_items)
        {
            return _items.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

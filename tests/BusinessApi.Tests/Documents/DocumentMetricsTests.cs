using System.Diagnostics.Metrics;
using BusinessApi.Documents;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Tests.Documents;

/// <summary>Documents by status, from the payment-document workflow's committed transitions.</summary>
public sealed class DocumentMetricsTests
{
    // The meter is process-wide and other tests run alongside: only measurements made on this test's flow count.
    private static readonly AsyncLocal<List<(string Instrument, long Value, string? Status)>?> Recorded = new();

    [Fact]
    public void Received_then_executed_or_refused_are_counted_and_in_flight_goes_back_down()
    {
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DocumentMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? status = null;
            foreach (var tag in tags)
            {
                status = tag.Key == "status" ? tag.Value as string : status;
            }

            Recorded.Value?.Add((instrument.Name, value, status));
        });
        listener.Start();
        Recorded.Value = [];

        var metrics = new DocumentMetrics();
        var at = DateTimeOffset.UnixEpoch;
        metrics.OnTransition(new WorkflowTransition("d1", DocumentWorkflow.WorkflowName, null, "verify", WorkflowStatus.Running, at));
        metrics.OnTransition(new WorkflowTransition("d1", DocumentWorkflow.WorkflowName, "verify", "execute", WorkflowStatus.Waiting, at));
        metrics.OnTransition(new WorkflowTransition("d1", DocumentWorkflow.WorkflowName, "execute", "executed", WorkflowStatus.Completed, at));
        metrics.OnTransition(new WorkflowTransition("d2", DocumentWorkflow.WorkflowName, null, "verify", WorkflowStatus.Running, at));
        metrics.OnTransition(new WorkflowTransition("d2", DocumentWorkflow.WorkflowName, "verify", "refused", WorkflowStatus.Completed, at));
        metrics.OnTransition(new WorkflowTransition("n1", "notice-delivery", null, "deliver", WorkflowStatus.Running, at)); // not a document

        var recorded = Recorded.Value!;
        Assert.Equal(["received", "executed", "received", "refused"],
            recorded.Where(r => r.Instrument == "documents.status_changes").Select(r => r.Status!).ToArray());
        Assert.Equal(0, recorded.Where(r => r.Instrument == "documents.in_flight").Sum(r => r.Value));
        Assert.Equal([1L, -1L, 1L, -1L], recorded.Where(r => r.Instrument == "documents.in_flight").Select(r => r.Value).ToArray());
    }
}

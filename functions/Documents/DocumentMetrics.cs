using System.Diagnostics.Metrics;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Documents;

/// <summary>
/// Documents by status, counted from the payment-document workflow's committed transitions (the
/// document's status commits with them): <c>received</c> at the start, <c>executed</c> or
/// <c>refused</c> (or <c>cancelled</c>, never fully signed) at the end, and how many are between the two (received,
/// awaiting signatures or processing) in this
/// process' view. (A document verified and executed within one step never shows as processing on
/// its own, so processing is not counted separately.)
/// </summary>
public sealed class DocumentMetrics : IWorkflowObserver
{
    public const string MeterName = "BusinessApi.Documents";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> StatusChanges = Meter.CreateCounter<long>(
        "documents.status_changes", description: "Payment documents reaching a status (received, executed, refused, cancelled)");

    private static readonly UpDownCounter<long> InFlight = Meter.CreateUpDownCounter<long>(
        "documents.in_flight", description: "Payment documents received and not yet executed or refused");

    public void OnTransition(WorkflowTransition transition)
    {
        ArgumentNullException.ThrowIfNull(transition);
        if (transition.Workflow != DocumentWorkflow.WorkflowName)
        {
            return;
        }

        if (transition.From is null)
        {
            StatusChanges.Add(1, new KeyValuePair<string, object?>("status", "received"));
            InFlight.Add(1);
        }
        else if (transition.Status == WorkflowStatus.Completed)
        {
            StatusChanges.Add(1, new KeyValuePair<string, object?>("status", transition.To)); // "executed", "refused" or "cancelled"
            InFlight.Add(-1);
        }
    }
}

namespace BusinessApi.Platform.Workflows;

/// <summary>Told of every committed transition in this process (metrics, tracing, benchmarks). Must be fast and must not throw.</summary>
public interface IWorkflowObserver
{
    void OnTransition(WorkflowTransition transition);
}

/// <summary>A transition that was committed.</summary>
public sealed record WorkflowTransition(string InstanceId, string Workflow, string? From, string To, WorkflowStatus Status, DateTimeOffset At);

internal static class WorkflowObservation
{
    public static void Notify(IWorkflowObserver[] observers, InstanceRecord instance, string? from)
    {
        if (observers.Length == 0)
        {
            return;
        }

        var transition = new WorkflowTransition(instance.InstanceId, instance.Workflow, from, instance.State, instance.Status, instance.UpdatedAt);
        foreach (var observer in observers)
        {
            observer.OnTransition(transition);
        }
    }
}

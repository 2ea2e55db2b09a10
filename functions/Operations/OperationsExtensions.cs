namespace BusinessApi.Operations;

public static class OperationsExtensions
{
    public static void MapAuditJournal(this RouteGroupBuilder ops)
    {
        ops.MapGet("/audit", ReadAuditJournal.HandleAsync)
            .WithName("ReadAuditJournal")
            .WithSummary("One subject's audit journal for one local day (UTC+5), in order, paged.")
            .ProducesValidationProblem();
        ops.MapGet("/audit/verification", VerifyAuditJournal.HandleAsync)
            .WithName("VerifyAuditJournal")
            .WithSummary("Re-computes a day's hash chain: intact, or where it breaks.")
            .ProducesValidationProblem();
    }

    public static void MapWorkflowOperations(this RouteGroupBuilder ops)
    {
        ops.MapGet("/workflows", ListWorkflows.HandleAsync)
            .WithName("ListWorkflows")
            .WithTags("Workflows")
            .WithSummary("Workflow instances parked as faulted after their last try (status=faulted).")
            .ProducesValidationProblem();
        ops.MapPost("/workflows/{id}/retry", RetryWorkflow.HandleAsync)
            .WithName("RetryWorkflow")
            .WithTags("Workflows")
            .WithSummary("Gives a faulted instance another set of tries from the state it faulted in.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }
}

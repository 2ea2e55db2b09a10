using BusinessApi.Platform.Security;

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
            .WithSummary("Re-computes a subject's day: its hash chain, its link to the previous day and, once anchored, the anchored head.")
            .ProducesValidationProblem();
        ops.MapGet("/audit/anchors/{date}", AuditAnchorEndpoints.GetAsync)
            .WithName("GetAuditAnchor")
            .WithSummary("A closed day's anchor in the WORM archive, every partition it lists checked against the tables.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/audit/anchors", AuditAnchorEndpoints.AnchorAsync)
            .RequireOperatorRole(OperatorRoles.Security)
            .WithName("AnchorAuditJournal")
            .WithSummary("Anchors now the closed days not yet anchored (the daily job does it after midnight).");
    }

    public static void MapWorkflowOperations(this RouteGroupBuilder ops)
    {
        ops.MapGet("/workflows", ListWorkflows.HandleAsync)
            .WithName("ListWorkflows")
            .WithTags("Workflows")
            .WithSummary("Workflow instances parked as faulted after their last try (status=faulted).")
            .ProducesValidationProblem();
        ops.MapPost("/workflows/{id}/retry", RetryWorkflow.HandleAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .WithName("RetryWorkflow")
            .WithTags("Workflows")
            .WithSummary("Gives a faulted instance another set of tries from the state it faulted in.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }
}

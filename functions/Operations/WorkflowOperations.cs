using System.Security.Claims;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Operations;

/// <summary><c>GET /api/v1/ops/workflows?status=faulted</c>: instances parked after their last try (W6).</summary>
public static class ListWorkflows
{
    public static async Task<Results<Ok<FaultedWorkflowPage>, ProblemResult>> HandleAsync(
        string? status, string? continuation, int? pageSize, WorkflowEngine engine, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (errors.Required("status", status) && status != "faulted")
        {
            errors.Add("status", "invalid_value");
        }

        var (size, token) = Paging.Read(errors, pageSize, continuation);
        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var (items, next) = await engine.ListFaultedAsync(token, size, cancellationToken);
        return TypedResults.Ok(new FaultedWorkflowPage(items, Paging.Continuation(next)));
    }
}

/// <summary><c>POST /api/v1/ops/workflows/{id}/retry</c>: another set of tries for a faulted instance, from where it stopped.</summary>
public static class RetryWorkflow
{
    public static async Task<Results<Accepted<WorkflowSnapshot>, NotFound>> HandleAsync(
        string id, HttpContext httpContext, WorkflowEngine engine, AuditJournal audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var actor = httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
        var retried = await engine.RetryAsync(id, actor, cancellationToken);
        if (retried is null)
        {
            return TypedResults.NotFound();
        }

        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, actor, "workflow.retried", AuditOutcome.Success)
        {
            Target = $"workflow/{id}",
            CorrelationId = httpContext.TraceIdentifier,
            Details = new Dictionary<string, string> { ["workflow"] = retried.Workflow, ["state"] = retried.State },
        }, cancellationToken);
        return TypedResults.Accepted((string?)null, retried);
    }
}

public sealed record FaultedWorkflowPage(IReadOnlyList<FaultedWorkflow> Items, string? Continuation);

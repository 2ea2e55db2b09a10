using System.Security.Claims;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Security;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Platform.Approvals;

/// <summary>
/// <c>/api/v1/ops/approvals</c>: the pending four-eyes requests, and the second person's decision. Reading needs
/// <c>ops.read</c>; deciding needs the role of the action itself, checked per approval.
/// </summary>
public static class ApprovalEndpoints
{
    public static void MapApprovals(this RouteGroupBuilder ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ops.MapGet("/approvals", ListAsync)
            .WithName("ListApprovals")
            .WithTags("Approvals")
            .WithSummary("Four-eyes requests of this month and last, newest first; status=pending lists those waiting for a second person.")
            .ProducesValidationProblem();
        ops.MapGet("/approvals/{approvalId}", GetAsync)
            .WithName("GetApproval")
            .WithTags("Approvals")
            .WithSummary("One four-eyes request: who asked, who decided, and once carried out, the action's answer.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/approvals/{approvalId}/approve", ApproveAsync)
            .RequireOperatorRole(OperatorRoles.Read)
            .WithName("ApproveRequest")
            .WithTags("Approvals")
            .WithSummary("The second person approves: the request is carried out once. Needs the action's role; the requester and break-glass keys cannot approve.")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapPost("/approvals/{approvalId}/reject", RejectAsync)
            .RequireOperatorRole(OperatorRoles.Read)
            .WithName("RejectRequest")
            .WithTags("Approvals")
            .WithSummary("A person holding the action's role refuses it, or the requester withdraws it; nothing is carried out.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public static async Task<Results<Ok<ApprovalListBody>, ProblemResult>> ListAsync(string? status, ApprovalStore approvals, TimeProvider time, CancellationToken cancellationToken)
    {
        ApprovalStatus? wanted = null;
        if (status is not null)
        {
            if (!Enum.TryParse<ApprovalStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
            {
                var errors = new ValidationErrors();
                errors.Add("status", "invalid_value");
                return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
            }

            wanted = parsed;
        }

        var now = time.GetUtcNow();
        var found = await approvals.ListRecentAsync(wanted, cancellationToken);
        return TypedResults.Ok(new ApprovalListBody([.. found.Select(a => ApprovalBody.From(a, now))]));
    }

    public static async Task<Results<Ok<ApprovalBody>, ProblemResult>> GetAsync(string approvalId, ApprovalStore approvals, TimeProvider time, CancellationToken cancellationToken)
    {
        var approval = await approvals.GetAsync(approvalId, cancellationToken);
        return approval is null ? ProblemResult.For(PlatformProblems.NotFound) : TypedResults.Ok(ApprovalBody.From(approval, time.GetUtcNow()));
    }

    public static async Task<Results<Accepted<ApprovalBody>, Ok<ApprovalBody>, ProblemResult>> ApproveAsync(
        string approvalId, HttpContext httpContext, ApprovalStore approvals, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var user = httpContext.User;
        var approver = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
        var approval = await approvals.GetAsync(approvalId, cancellationToken);
        if (approval is null)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        if (Refusal(approval, user, approver, isApproval: true) is { } refused)
        {
            await JournalAsync(audit, httpContext, approval, approver, "approval.approve_refused", AuditOutcome.Denied, refused.Problem.Type.Code, cancellationToken);
            return refused;
        }

        var now = time.GetUtcNow();
        if (approval.StatusAt(now) != ApprovalStatus.Pending)
        {
            return await NotPendingAsync(approval, approver, approvals, audit, httpContext, now, cancellationToken);
        }

        var approved = await approvals.ApproveAsync(approval, approver, user.DisplayName(), cancellationToken);
        if (approved is null)
        {
            // Another decision committed first (a racing approver, a rejection): answer as for a retry.
            var current = await approvals.GetAsync(approvalId, cancellationToken) ?? approval;
            return await NotPendingAsync(current, approver, approvals, audit, httpContext, now, cancellationToken);
        }

        await JournalAsync(audit, httpContext, approval, approver, "approval.approved", AuditOutcome.Success, null, cancellationToken);
        return TypedResults.Accepted($"/api/v1/ops/approvals/{approvalId}", ApprovalBody.From(approved, now));
    }

    public static async Task<Results<Ok<ApprovalBody>, ProblemResult>> RejectAsync(
        string approvalId, RejectionRequest? request, HttpContext httpContext, ApprovalStore approvals, AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var user = httpContext.User;
        var by = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
        var approval = await approvals.GetAsync(approvalId, cancellationToken);
        if (approval is null)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        if (Refusal(approval, user, by, isApproval: false) is { } refused)
        {
            return refused;
        }

        var now = time.GetUtcNow();
        var status = approval.StatusAt(now);
        if (status != ApprovalStatus.Pending)
        {
            return NotPending(status);
        }

        var closed = await approvals.CloseAsync(approval, ApprovalStatus.Rejected, by, user.DisplayName(), request?.Reason?.Trim(), cancellationToken);
        if (closed is null)
        {
            var current = await approvals.GetAsync(approvalId, cancellationToken) ?? approval;
            return NotPending(current.StatusAt(now));
        }

        await JournalAsync(audit, httpContext, approval, by, "approval.rejected", AuditOutcome.Success, closed.Reason, cancellationToken);
        return TypedResults.Ok(ApprovalBody.From(closed, now));
    }

    /// <summary>Why this caller may not decide: no role, a break-glass key approving, the requester approving.</summary>
    private static ProblemResult? Refusal(Approval approval, ClaimsPrincipal user, string caller, bool isApproval)
    {
        if (!user.HasClaim(OperatorRoles.RoleClaim, approval.Role))
        {
            return ProblemResult.For(new ApiProblem(OperatorProblems.RoleRequired)
            {
                DetailArguments = [approval.Role],
                Extensions = new Dictionary<string, object?> { ["role"] = approval.Role },
            });
        }

        if (isApproval && user.IsBreakGlass())
        {
            return ProblemResult.For(ApprovalProblems.BreakGlassCannotApprove);
        }

        return isApproval && string.Equals(caller, approval.RequestedBy, StringComparison.Ordinal)
            ? ProblemResult.For(ApprovalProblems.FourEyesRequired)
            : null;
    }

    /// <summary>
    /// An approval no longer pending: the approver's own retry gets its current state (200); anyone else 409. A
    /// pending one past its expiry is recorded as expired.
    /// </summary>
    private static async Task<Results<Accepted<ApprovalBody>, Ok<ApprovalBody>, ProblemResult>> NotPendingAsync(
        Approval approval, string caller, ApprovalStore approvals, AuditJournal audit, HttpContext httpContext, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var status = approval.StatusAt(now);
        if (status is ApprovalStatus.Approved or ApprovalStatus.Executed or ApprovalStatus.Failed
            && string.Equals(approval.DecidedBy, caller, StringComparison.Ordinal))
        {
            return TypedResults.Ok(ApprovalBody.From(approval, now));
        }

        if (status == ApprovalStatus.Expired && approval.Status == ApprovalStatus.Pending
            && await approvals.CloseAsync(approval, ApprovalStatus.Expired, null, null, null, cancellationToken) is not null)
        {
            await JournalAsync(audit, httpContext, approval, "system", "approval.expired", AuditOutcome.Success, null, cancellationToken);
        }

        return NotPending(status);
    }

    /// <summary>409: expired, or already decided (the current status is in <c>approvalStatus</c>).</summary>
    private static ProblemResult NotPending(ApprovalStatus status) =>
        ProblemResult.For(new ApiProblem(status == ApprovalStatus.Expired ? ApprovalProblems.Expired : ApprovalProblems.NotPending)
        {
            Extensions = new Dictionary<string, object?> { ["approvalStatus"] = status },
        });

    private static async Task JournalAsync(
        AuditJournal audit, HttpContext httpContext, Approval approval, string actor, string action, AuditOutcome outcome, string? note, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string>
        {
            ["action"] = approval.Action,
            ["requestedBy"] = approval.RequestedBy,
            ["path"] = approval.Path,
        };
        if (note is not null)
        {
            details["note"] = note;
        }

        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, actor, action, outcome)
        {
            Target = $"approvals/{approval.ApprovalId}",
            CorrelationId = httpContext.TraceIdentifier,
            Details = details,
        }, cancellationToken);
    }
}

public sealed record ApprovalListBody(IReadOnlyList<ApprovalBody> Items);

/// <param name="Reason">Why it is refused, up to 500 characters.</param>
public sealed record RejectionRequest(string? Reason) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Reason is { Length: > 500 })
        {
            errors.Add("reason", "too_long", 500);
        }
    }
}

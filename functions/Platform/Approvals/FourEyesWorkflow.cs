using System.Security.Claims;
using System.Text;
using Azure.Data.Tables;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Security;
using BusinessApi.Platform.Workflows;
using Microsoft.AspNetCore.Http.Features;

namespace BusinessApi.Platform.Approvals;

/// <summary>The four-eyes workflow's state: which approval it carries out.</summary>
public sealed record ApprovalRun(string ApprovalId);

/// <summary>
/// Carries out an approved request once. Started in the same transaction as the approval, so an approval is
/// never lost to a crash; its one step replays the request through its endpoint and records the answer on the
/// approval in the same commit as the step's end. A crash between the effect and that commit runs the step
/// again: the endpoint then sees the same requester and Idempotency-Key, and its own idempotency (a credit's
/// transaction id, a lifted restriction, an anchor already trusted) keeps the effect single.
/// </summary>
public sealed class FourEyesWorkflow : WorkflowDefinition<ApprovalRun>
{
    public const string WorkflowName = "four-eyes";

    private readonly IServiceProvider _services;

    public FourEyesWorkflow(IServiceProvider services)
        : base(WorkflowName)
    {
        _services = services;
        Step("execute", next: ["done"], ExecuteAsync);
        Terminal("done");
    }

    private async Task<Transition> ExecuteAsync(StepContext<ApprovalRun> context, CancellationToken cancellationToken)
    {
        var store = _services.GetRequiredService<ApprovalStore>();
        var approval = await store.GetAsync(context.Data.ApprovalId, cancellationToken);
        if (approval is not { Status: ApprovalStatus.Approved })
        {
            return context.Complete("done");
        }

        var (status, body) = await _services.GetRequiredService<ApprovedRequestExecutor>().ExecuteAsync(approval, cancellationToken);
        var finished = approval with
        {
            Status = status < 400 ? ApprovalStatus.Executed : ApprovalStatus.Failed,
            ResultStatus = status,
            ResultBody = body,
            CompletedAt = context.Now,
        };
        context.Write(new TableTransactionAction(TableTransactionActionType.UpdateReplace, finished.ToEntity(), approval.ETag));
        await _services.GetRequiredService<AuditJournal>().AppendAsync(
            new AuditRecord(AuditJournal.SystemSubject, approval.DecidedBy ?? "system", "approval.executed", status < 400 ? AuditOutcome.Success : AuditOutcome.Failed)
            {
                ActorName = approval.DecidedByName,
                Target = $"approvals/{approval.ApprovalId}",
                CorrelationId = approval.ApprovalId,
                Details = new Dictionary<string, string>
                {
                    ["action"] = approval.Action,
                    ["requestedBy"] = approval.RequestedBy,
                    ["path"] = approval.Path,
                    ["status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            }, cancellationToken);
        return context.Complete("done");
    }
}

/// <summary>Tells model binding whether the replayed request carries a body (a server sets this from the wire).</summary>
internal sealed record RequestBody(bool CanHaveBody) : IHttpRequestBodyDetectionFeature;

/// <summary>Marks a request as the approved replay of a four-eyes request, so the four-eyes filter lets it through.</summary>
public sealed record ApprovedExecution(Approval Approval);

/// <summary>
/// Replays an approved request through its endpoint, in a fresh scope, as the person who made it: same route
/// values, body, Idempotency-Key and language; the request id is the approval's id, so the action's own journal
/// entries carry it as their correlation id.
/// </summary>
public sealed class ApprovedRequestExecutor(IServiceScopeFactory scopes, EndpointDataSource endpoints, IHttpContextAccessor accessor)
{
    /// <summary>At most this much of the endpoint's answer is kept on the approval.</summary>
    public const int MaxResultChars = 16_000;

    public async Task<(int Status, string Body)> ExecuteAsync(Approval approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        var endpoint = endpoints.Endpoints.OfType<RouteEndpoint>()
            .FirstOrDefault(e => string.Equals(e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName, approval.Endpoint, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"Approval {approval.ApprovalId}: no endpoint named '{approval.Endpoint}' (removed since it was requested?).");
        await using var scope = scopes.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider, TraceIdentifier = approval.ApprovalId };
        var request = context.Request;
        request.Method = approval.Method;
        request.Scheme = "https";
        request.Host = new HostString("four-eyes.internal");
        request.Path = approval.Path;
        request.QueryString = new QueryString(approval.Query);
        request.Body = new MemoryStream(approval.Body, writable: false);
        request.ContentLength = approval.Body.Length;
        request.ContentType = approval.ContentType;
        request.Headers.AcceptLanguage = approval.Language;
        request.Headers["Idempotency-Key"] = approval.IdempotencyKey ?? "approval:" + approval.ApprovalId;
        foreach (var (key, value) in approval.RouteValues)
        {
            request.RouteValues[key] = value;
        }

        context.Features.Set<IHttpRequestBodyDetectionFeature>(new RequestBody(approval.Body.Length > 0));
        context.SetEndpoint(endpoint);
        context.Features.Set(new ApprovedExecution(approval));
        context.User = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, approval.RequestedBy),
            new Claim(OperatorRoles.NameClaim, approval.RequestedByName ?? approval.RequestedBy),
            new Claim(OperatorRoles.KindClaim, approval.RequestedByBreakGlass ? OperatorRoles.BreakGlass : OperatorRoles.Person),
            new Claim(OperatorRoles.RoleClaim, approval.Role),
            new Claim("approved_by", approval.DecidedBy ?? ""),
        ], "FourEyes", OperatorRoles.NameClaim, OperatorRoles.RoleClaim));
        var output = new MemoryStream();
        context.Response.Body = output;
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(output));

        var previous = accessor.HttpContext;
        accessor.HttpContext = context;
        try
        {
            await endpoint.RequestDelegate!(context);
        }
        catch (BadHttpRequestException ex)
        {
            return (ex.StatusCode, ex.Message);
        }
        finally
        {
            accessor.HttpContext = previous;
        }

        var text = Encoding.UTF8.GetString(output.ToArray());
        return (context.Response.StatusCode, text.Length > MaxResultChars ? text[..MaxResultChars] : text);
    }
}

using System.Security.Claims;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Security;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Approvals;

/// <summary>Endpoint metadata: the operator action needs a second person's approval (when <c>Operations:FourEyes</c> is on).</summary>
public sealed record FourEyesMetadata(string Action);

/// <summary>Problems of four-eyes approvals.</summary>
public static class ApprovalProblems
{
    public static readonly ProblemType FourEyesRequired = new("four_eyes_required", StatusCodes.Status403Forbidden);
    public static readonly ProblemType BreakGlassCannotApprove = new("break_glass_cannot_approve", StatusCodes.Status403Forbidden);
    public static readonly ProblemType NotPending = new("approval_not_pending", StatusCodes.Status409Conflict);
    public static readonly ProblemType Expired = new("approval_expired", StatusCodes.Status409Conflict);
    public static readonly ProblemType TooLarge = new("approval_request_too_large", StatusCodes.Status413PayloadTooLarge);
}

public static class FourEyes
{
    /// <summary>A request body larger than this cannot wait for approval (it is kept in one table property).</summary>
    public const int MaxBodyBytes = 60 * 1024;

    /// <summary>
    /// The action needs four eyes: with <c>Operations:FourEyes</c> on, a call answers 202 with a pending approval and
    /// takes effect only when another person holding the endpoint's role approves it.
    /// </summary>
    public static RouteHandlerBuilder RequireFourEyes(this RouteHandlerBuilder builder, string action)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        return builder
            .WithMetadata(new FourEyesMetadata(action))
            .AddEndpointFilter<FourEyesFilter>()
            .Produces<ApprovalBody>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
    }

    /// <summary>Four-eyes endpoints keep their request body readable after binding, to store it with the approval.</summary>
    internal static IApplicationBuilder UseFourEyesBuffering(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<FourEyesMetadata>() is not null)
            {
                context.Request.EnableBuffering();
            }

            return next(context);
        });

    internal static IServiceCollection AddFourEyes(this IServiceCollection services)
    {
        services.AddStorageTable(ApprovalStore.TableName);
        services.AddWorkflow<FourEyesWorkflow>();
        services.AddSingleton<ApprovalStore>();
        services.AddSingleton<ApprovedRequestExecutor>();
        return services;
    }
}

/// <summary>
/// Holds a four-eyes action for approval: the call is stored as it was made (after its validation passed) and
/// answered 202 with the pending approval; the approved replay (<see cref="ApprovedExecution"/>) goes through.
/// </summary>
public sealed class FourEyesFilter(IOptions<OperationsOptions> operations, ApprovalStore approvals, AuditJournal audit, TimeProvider time) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (!operations.Value.FourEyes || http.Features.Get<ApprovedExecution>() is not null)
        {
            return await next(context);
        }

        var endpoint = http.GetEndpoint()!;
        var action = endpoint.Metadata.GetMetadata<FourEyesMetadata>()!.Action;
        var role = endpoint.Metadata.GetMetadata<OperatorRoleMetadata>()?.Role
            ?? throw new InvalidOperationException($"Four-eyes endpoint '{endpoint.DisplayName}' has no operator role.");
        var name = endpoint.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName
            ?? throw new InvalidOperationException($"Four-eyes endpoint '{endpoint.DisplayName}' has no name to be replayed through.");

        var body = await ReadBodyAsync(http.Request, http.RequestAborted);
        if (body is null)
        {
            return ProblemResult.For(new ApiProblem(ApprovalProblems.TooLarge) { DetailArguments = [FourEyes.MaxBodyBytes] });
        }

        var now = time.GetUtcNow();
        var user = http.User;
        var approval = new Approval
        {
            ApprovalId = Approval.NewId(now),
            Action = action,
            Role = role,
            Endpoint = name,
            Method = http.Request.Method,
            Path = http.Request.Path,
            Query = http.Request.QueryString.HasValue ? http.Request.QueryString.Value : null,
            RouteValues = http.Request.RouteValues.Where(r => r.Value is not null)
                .ToDictionary(r => r.Key, r => Convert.ToString(r.Value, System.Globalization.CultureInfo.InvariantCulture)!, StringComparer.Ordinal),
            Body = body,
            ContentType = http.Request.ContentType,
            IdempotencyKey = http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } key ? key : null,
            Language = http.Request.Headers.AcceptLanguage.ToString() is { Length: > 0 } language ? language : null,
            RequestedBy = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous",
            RequestedByName = user.DisplayName(),
            RequestedByBreakGlass = user.IsBreakGlass(),
            RequestedAt = now,
            ExpiresAt = now + operations.Value.ApprovalLifetime,
        };
        await approvals.AddAsync(approval, http.RequestAborted);
        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, approval.RequestedBy, "approval.requested", AuditOutcome.Success)
        {
            Target = $"approvals/{approval.ApprovalId}",
            CorrelationId = http.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["action"] = action,
                ["role"] = role,
                ["method"] = approval.Method,
                ["path"] = approval.Path,
                ["expiresAt"] = approval.ExpiresAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            },
        }, http.RequestAborted);
        return TypedResults.Accepted($"/api/v1/ops/approvals/{approval.ApprovalId}", ApprovalBody.From(approval, now));
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.Body.CanSeek)
        {
            return [];
        }

        request.Body.Position = 0;
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > FourEyes.MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

/// <summary>An approval as operators see it: what exactly is asked (the request's body and query), by whom, and what became of it.</summary>
/// <param name="Request">The request's JSON body as it was made: what the second person approves.</param>
/// <param name="Result">The endpoint's answer once carried out: its status and body (JSON).</param>
public sealed record ApprovalBody(
    string ApprovalId,
    ApprovalStatus Status,
    string Action,
    string Role,
    string RequestedBy,
    string? RequestedByName,
    DateTimeOffset RequestedAt,
    DateTimeOffset ExpiresAt,
    string Method,
    string Path,
    string? Query,
    System.Text.Json.JsonElement? Request,
    string? DecidedBy,
    string? DecidedByName,
    DateTimeOffset? DecidedAt,
    string? Reason,
    ApprovalResultBody? Result)
{
    public static ApprovalBody From(Approval approval, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(approval);
        return new ApprovalBody(approval.ApprovalId, approval.StatusAt(now), approval.Action, approval.Role, approval.RequestedBy,
            approval.RequestedByName, approval.RequestedAt, approval.ExpiresAt, approval.Method, approval.Path, approval.Query,
            ParseJson(approval.Body.Length == 0 ? null : System.Text.Encoding.UTF8.GetString(approval.Body)), approval.DecidedBy,
            approval.DecidedByName, approval.DecidedAt, approval.Reason,
            approval.ResultStatus is { } status ? new ApprovalResultBody(status, ParseJson(approval.ResultBody)) : null);
    }

    private static System.Text.Json.JsonElement? ParseJson(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (System.Text.Json.JsonException)
        {
            return System.Text.Json.JsonSerializer.SerializeToElement(text);
        }
    }
}

public sealed record ApprovalResultBody(int Status, System.Text.Json.JsonElement? Body);

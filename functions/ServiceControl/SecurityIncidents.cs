using System.Globalization;
using System.Security.Cryptography;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Customers;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.ServiceControl;

/// <summary>A customer's report of unauthorised access or suspicion of it (clauses 4.3, 6.1.12).</summary>
public sealed record SecurityIncident(string IncidentId, string CustomerId, string Kind, DateTimeOffset ReportedAt, string ReportedBy, DateTimeOffset? DiscoveredAt, string? Description)
{
    public int CredentialsBlocked { get; init; }

    public int UsersSignedOut { get; init; }
}

/// <summary>
/// <c>POST /security-incidents</c> (R-63): whoever acts for the customer — client software, a user, an admin —
/// reports unauthorised access or suspicion of it, and the bank blocks access at once: every active Client ID
/// becomes <c>blockedCompromised</c> (documents presented with them afterwards are refused, R-05), every user's
/// sessions end, and the customer's services are suspended (reads included) until an operator resumes them.
/// Operators see the report at <c>GET /ops/security-incidents</c>; it is journaled and logged.
/// </summary>
public sealed partial class SecurityIncidents(
    StorageResources storage, Suspensions suspensions, AccessShutdown shutdown, NoticeChannel notices,
    AuditJournal audit, TimeProvider time, ILogger<SecurityIncidents> logger)
{
    public const string TableName = "SecurityIncidents";
    public static readonly string[] Kinds = ["unauthorizedAccess", "suspicion"];

    private readonly TableClient _table = storage.Table(TableName);

    public async Task<SecurityIncident> ReportAsync(string customerId, SecurityIncidentRequest request, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var incident = new SecurityIncident("inc_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10)), customerId, request.Kind!, now, actor,
            request.DiscoveredAt, request.Description);

        // Block first, record after: the customer's safety does not wait for bookkeeping.
        var (blocked, signedOut) = await shutdown.ShutAsync(customerId, CredentialStatus.BlockedCompromised, "security_incident:" + incident.IncidentId, actor, correlationId, cancellationToken);
        await suspensions.SuspendAsync(customerId, SuspensionReasons.SecurityIncident, request.DiscoveredAt ?? now, actor, incident.IncidentId, correlationId, cancellationToken);
        incident = incident with { CredentialsBlocked = blocked, UsersSignedOut = signedOut };
        await _table.UpsertEntityAsync(new TableEntity("incidents", incident.IncidentId)
        {
            ["CustomerId"] = customerId,
            ["Kind"] = incident.Kind,
            ["ReportedAt"] = now,
            ["ReportedBy"] = actor,
            ["DiscoveredAt"] = incident.DiscoveredAt,
            ["Description"] = incident.Description,
            ["CredentialsBlocked"] = blocked,
            ["UsersSignedOut"] = signedOut,
        }, TableUpdateMode.Replace, cancellationToken);
        await notices.AddAsync(new NoticeRequest(customerId, NoticeKinds.SecurityIncidentReceived, "incident:" + incident.IncidentId, now, incident.IncidentId,
            [incident.IncidentId, KazakhstanTime.Text(now), blocked, signedOut]), cancellationToken);
        await audit.AppendAsync(new AuditRecord(customerId, actor, "security_incident.reported", AuditOutcome.Success)
        {
            Target = "security-incidents/" + incident.IncidentId,
            CorrelationId = correlationId,
            Details = new Dictionary<string, string>
            {
                ["kind"] = incident.Kind,
                ["credentialsBlocked"] = blocked.ToString(CultureInfo.InvariantCulture),
                ["usersSignedOut"] = signedOut.ToString(CultureInfo.InvariantCulture),
            },
        }, cancellationToken);
        LogIncident(logger, incident.IncidentId, customerId, incident.Kind, blocked, signedOut);
        return incident;
    }

    public async Task<IReadOnlyList<SecurityIncident>> ListAsync(int limit, CancellationToken cancellationToken)
    {
        var result = new List<SecurityIncident>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"incidents"}"), maxPerPage: limit, cancellationToken: cancellationToken))
        {
            result.Add(new SecurityIncident(e.RowKey, e.GetString("CustomerId") ?? "", e.GetString("Kind") ?? "", e.GetDateTimeOffset("ReportedAt") ?? default,
                e.GetString("ReportedBy") ?? "", e.GetDateTimeOffset("DiscoveredAt"), e.GetString("Description"))
            {
                CredentialsBlocked = e.GetInt32("CredentialsBlocked") ?? 0,
                UsersSignedOut = e.GetInt32("UsersSignedOut") ?? 0,
            });
            if (result.Count == limit)
            {
                break;
            }
        }

        return [.. result.OrderByDescending(i => i.ReportedAt)];
    }

    public static async Task<Results<Accepted<SecurityIncident>, ProblemResult>> PostAsync(
        SecurityIncidentRequest request, HttpContext context, SecurityIncidents incidents, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.DiscoveredAt > time.GetUtcNow())
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("discoveredAt", "date_in_future")] });
        }

        var incident = await incidents.ReportAsync(context.User.CustomerId()!, request, context.User.Actor(), context.TraceIdentifier, cancellationToken);
        return TypedResults.Accepted((string?)null, incident);
    }

    public static async Task<Ok<SecurityIncidentListResponse>> ListForOperatorsAsync(SecurityIncidents incidents, CancellationToken cancellationToken)
    {
        var items = await incidents.ListAsync(1000, cancellationToken);
        return TypedResults.Ok(new SecurityIncidentListResponse(items.Count, items));
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Security incident {IncidentId} reported for {CustomerId} ({Kind}): {Blocked} Client IDs blocked, {SignedOut} users signed out, services suspended")]
    private static partial void LogIncident(ILogger logger, string incidentId, string customerId, string kind, int blocked, int signedOut);
}

/// <param name="Kind"><c>unauthorizedAccess</c> (it happened) or <c>suspicion</c>.</param>
/// <param name="Description">What was seen (optional; no secrets, please).</param>
public sealed record SecurityIncidentRequest(string? Kind, DateTimeOffset? DiscoveredAt, string? Description) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("kind", Kind) && !SecurityIncidents.Kinds.Contains(Kind!, StringComparer.Ordinal))
        {
            errors.Add("kind", "unknown_incident_kind", string.Join(", ", SecurityIncidents.Kinds));
        }

        if (Description is { Length: > 2000 })
        {
            errors.Add("description", "too_long", 2000);
        }
    }
}

public sealed record SecurityIncidentListResponse(int Count, IReadOnlyList<SecurityIncident> Items);

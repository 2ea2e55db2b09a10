using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Approvals;

public enum ApprovalStatus
{
    /// <summary>Waiting for a second person.</summary>
    Pending,

    /// <summary>Approved: the request is being carried out.</summary>
    Approved,

    /// <summary>Refused by a person holding the role, or withdrawn by the requester.</summary>
    Rejected,

    /// <summary>Nobody approved it within <c>Operations:ApprovalHours</c>.</summary>
    Expired,

    /// <summary>Carried out; the answer is in the result.</summary>
    Executed,

    /// <summary>Carried out, and the action refused (the result holds the problem), e.g. the account was closed meanwhile.</summary>
    Failed,
}

/// <summary>
/// A four-eyes request: the operator call exactly as it was made (endpoint, route values, body, Idempotency-Key),
/// who made it, and what became of it. Approved, it is replayed once through the same endpoint on the
/// requester's behalf, so the action's own rules and idempotency apply unchanged.
/// </summary>
public sealed record Approval
{
    public required string ApprovalId { get; init; }

    public required string Action { get; init; }

    /// <summary>The operator role a person needs to approve or reject it (the endpoint's role).</summary>
    public required string Role { get; init; }

    /// <summary>The endpoint's name (its OpenAPI operation id) the approved request is replayed through.</summary>
    public required string Endpoint { get; init; }

    public required string Method { get; init; }

    public required string Path { get; init; }

    public string? Query { get; init; }

    public IReadOnlyDictionary<string, string> RouteValues { get; init; } = new Dictionary<string, string>();

    public byte[] Body { get; init; } = [];

    public string? ContentType { get; init; }

    public string? IdempotencyKey { get; init; }

    public string? Language { get; init; }

    public required string RequestedBy { get; init; }

    public string? RequestedByName { get; init; }

    public bool RequestedByBreakGlass { get; init; }

    public required DateTimeOffset RequestedAt { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public ApprovalStatus Status { get; init; }

    public string? DecidedBy { get; init; }

    public string? DecidedByName { get; init; }

    public DateTimeOffset? DecidedAt { get; init; }

    public string? Reason { get; init; }

    public int? ResultStatus { get; init; }

    public string? ResultBody { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public ETag ETag { get; init; }

    /// <summary>The status as of <paramref name="now"/>: a pending request past its expiry is expired.</summary>
    public ApprovalStatus StatusAt(DateTimeOffset now) => Status == ApprovalStatus.Pending && now >= ExpiresAt ? ApprovalStatus.Expired : Status;

    /// <summary><c>apr_yyyyMM_</c> and 20 random hex digits: the month is the table partition.</summary>
    public static string NewId(DateTimeOffset now) =>
        $"apr_{MonthPartition(now)}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10))}";

    /// <summary>The partition of approvals requested in the UTC month of <paramref name="instant"/> (<c>yyyyMM</c>).</summary>
    public static string MonthPartition(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyyMM", CultureInfo.InvariantCulture);

    /// <summary>The partition of an id, or null when the id is not one of ours.</summary>
    public static string? PartitionOf(string approvalId) =>
        approvalId is { Length: 31 } && approvalId.StartsWith("apr_", StringComparison.Ordinal) && approvalId[10] == '_'
            && approvalId[4..10].All(char.IsAsciiDigit) && approvalId[11..].All(char.IsAsciiHexDigitLower)
            ? approvalId[4..10]
            : null;

    internal TableEntity ToEntity() => new(PartitionOf(ApprovalId)!, ApprovalId)
    {
        ["Action"] = Action,
        ["Role"] = Role,
        ["Endpoint"] = Endpoint,
        ["Method"] = Method,
        ["Path"] = Path,
        ["Query"] = Query,
        ["RouteValues"] = JsonSerializer.Serialize(RouteValues),
        ["Body"] = Body,
        ["ContentType"] = ContentType,
        ["IdempotencyKey"] = IdempotencyKey,
        ["Language"] = Language,
        ["RequestedBy"] = RequestedBy,
        ["RequestedByName"] = RequestedByName,
        ["RequestedByBreakGlass"] = RequestedByBreakGlass,
        ["RequestedAt"] = RequestedAt,
        ["ExpiresAt"] = ExpiresAt,
        ["Status"] = Status.ToString(),
        ["DecidedBy"] = DecidedBy,
        ["DecidedByName"] = DecidedByName,
        ["DecidedAt"] = DecidedAt,
        ["Reason"] = Reason,
        ["ResultStatus"] = ResultStatus,
        ["ResultBody"] = ResultBody,
        ["CompletedAt"] = CompletedAt,
    };

    internal static Approval FromEntity(TableEntity entity) => new()
    {
        ApprovalId = entity.RowKey,
        Action = entity.GetString("Action") ?? "",
        Role = entity.GetString("Role") ?? "",
        Endpoint = entity.GetString("Endpoint") ?? "",
        Method = entity.GetString("Method") ?? "",
        Path = entity.GetString("Path") ?? "",
        Query = entity.GetString("Query"),
        RouteValues = JsonSerializer.Deserialize<Dictionary<string, string>>(entity.GetString("RouteValues") ?? "{}") ?? [],
        Body = entity.GetBinary("Body") ?? [],
        ContentType = entity.GetString("ContentType"),
        IdempotencyKey = entity.GetString("IdempotencyKey"),
        Language = entity.GetString("Language"),
        RequestedBy = entity.GetString("RequestedBy") ?? "",
        RequestedByName = entity.GetString("RequestedByName"),
        RequestedByBreakGlass = entity.GetBoolean("RequestedByBreakGlass") ?? false,
        RequestedAt = entity.GetDateTimeOffset("RequestedAt") ?? default,
        ExpiresAt = entity.GetDateTimeOffset("ExpiresAt") ?? default,
        Status = Enum.TryParse<ApprovalStatus>(entity.GetString("Status"), out var status) ? status : ApprovalStatus.Pending,
        DecidedBy = entity.GetString("DecidedBy"),
        DecidedByName = entity.GetString("DecidedByName"),
        DecidedAt = entity.GetDateTimeOffset("DecidedAt"),
        Reason = entity.GetString("Reason"),
        ResultStatus = entity.GetInt32("ResultStatus"),
        ResultBody = entity.GetString("ResultBody"),
        CompletedAt = entity.GetDateTimeOffset("CompletedAt"),
        ETag = entity.ETag,
    };
}

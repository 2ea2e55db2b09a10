using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Workflows;

/// <summary>Where an instance lives: the business entity's table (logical name), partition and a row of its own.</summary>
public sealed record WorkflowLocation(string Table, string PartitionKey, string RowKey);

public enum WorkflowStatus
{
    Running,
    Waiting,
    Completed,
    Faulted,
}

/// <summary>One transition in an instance's history (W8).</summary>
public sealed record WorkflowHistoryEntry(string? From, string To, WorkflowStatus Status, DateTimeOffset At, int? Attempt = null, string? Error = null, string? Event = null);

/// <summary>A read-only view of an instance.</summary>
public sealed record WorkflowSnapshot(
    string InstanceId,
    string Workflow,
    string State,
    WorkflowStatus Status,
    DateTimeOffset? DueAt,
    string? WaitingFor,
    int Attempts,
    string? LastError,
    string Data,
    IReadOnlyList<WorkflowHistoryEntry> History,
    int HistoryDropped,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

internal enum WaitKind
{
    None,
    Until,
    Event,
    Retry,
}

/// <summary>The stored instance row; every field is rewritten by each ETag-checked transition.</summary>
internal sealed partial class InstanceRecord
{
    public required WorkflowLocation Location { get; init; }

    public required string InstanceId { get; init; }

    public required string Workflow { get; init; }

    public required string State { get; set; }

    public WorkflowStatus Status { get; set; }

    public string Data { get; set; } = "{}";

    public DateTimeOffset? DueAt { get; set; }

    public WaitKind Wait { get; set; }

    public string? ResumeState { get; set; }

    public string? EventName { get; set; }

    public string? TimeoutState { get; set; }

    public Dictionary<string, string?> PendingEvents { get; set; } = new(StringComparer.Ordinal);

    public WorkflowEvent? DeliveredEvent { get; set; }

    public DateTimeOffset LeaseUntil { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }

    public long Sequence { get; set; }

    /// <summary>Bumped by every write of the row; index entries say which version they were made for.</summary>
    public long Version { get; set; }

    /// <summary>A random mark of the write that made this version: after a lost answer, it tells our write from another's.</summary>
    public string? CommitId { get; set; }

    public List<WorkflowHistoryEntry> History { get; set; } = [];

    public int HistoryDropped { get; set; }

    /// <summary>The row key of this instance's one canonical due-index entry.</summary>
    public string IndexKey { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The W3C trace context of the request that started the instance: every step is a span of that trace.</summary>
    public string? TraceParent { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public ETag ETag { get; set; }

    public bool IsFinished => Status is WorkflowStatus.Completed or WorkflowStatus.Faulted;

    /// <summary>A copy to change for the next transition; this one stays what storage holds.</summary>
    /// <summary>What the starter handed to the first step in this process; never stored.</summary>
    public object? StartInput { get; set; }

    /// <summary>The instance stored at <paramref name="location"/>, or null.</summary>
    public static async Task<InstanceRecord?> ReadAsync(Storage.StorageResources storage, WorkflowLocation location, CancellationToken cancellationToken)
    {
        var found = await storage.Table(location.Table).GetEntityIfExistsAsync<TableEntity>(location.PartitionKey, location.RowKey, cancellationToken: cancellationToken);
        return found.HasValue ? FromEntity(location.Table, found.Value!) : null;
    }

    public InstanceRecord Copy()
    {
        var copy = (InstanceRecord)MemberwiseClone();
        copy.StartInput = null; // for the first step only
        copy.PendingEvents = new Dictionary<string, string?>(PendingEvents, StringComparer.Ordinal);
        copy.History = [.. History];
        return copy;
    }

    public void Record(string? from, int historyLimit, int? attempt = null, string? error = null, string? eventName = null)
    {
        History.Add(new WorkflowHistoryEntry(from, State, Status, UpdatedAt, attempt, error, eventName));
        while (History.Count > historyLimit)
        {
            History.RemoveAt(0);
            HistoryDropped++;
        }
    }

    public WorkflowSnapshot ToSnapshot() => new(
        InstanceId, Workflow, State, Status, DueAt, Wait == WaitKind.Event ? EventName : null, Attempts, LastError, Data,
        History, HistoryDropped, CreatedAt, UpdatedAt);

    public TableEntity ToEntity() => new(Location.PartitionKey, Location.RowKey)
    {
        ["WorkflowInstanceId"] = InstanceId,
        ["Workflow"] = Workflow,
        ["State"] = State,
        ["Status"] = Status.ToString(),
        ["Data"] = Data,
        ["DueAt"] = DueAt,
        ["Wait"] = Wait.ToString(),
        ["ResumeState"] = ResumeState,
        ["EventName"] = EventName,
        ["TimeoutState"] = TimeoutState,
        ["PendingEvents"] = PendingEvents.Count == 0 ? null : JsonSerializer.Serialize(PendingEvents),
        ["DeliveredEvent"] = DeliveredEvent is null ? null : JsonSerializer.Serialize(DeliveredEvent),
        ["LeaseUntil"] = LeaseUntil,
        ["Attempts"] = Attempts,
        ["LastError"] = LastError,
        ["Sequence"] = Sequence,
        ["Version"] = Version,
        ["CommitId"] = CommitId,
        ["History"] = JsonSerializer.Serialize(History, PlatformExtensions.JsonOptions),
        ["HistoryDropped"] = HistoryDropped,
        ["IndexKey"] = IndexKey,
        ["CreatedAt"] = CreatedAt,
        ["TraceParent"] = TraceParent,
        ["UpdatedAt"] = UpdatedAt,
    };

    public static InstanceRecord FromEntity(string table, TableEntity entity) => new()
    {
        Location = new WorkflowLocation(table, entity.PartitionKey, entity.RowKey),
        InstanceId = entity.GetString("WorkflowInstanceId") ?? "",
        Workflow = entity.GetString("Workflow") ?? "",
        State = entity.GetString("State") ?? "",
        Status = Enum.Parse<WorkflowStatus>(entity.GetString("Status") ?? nameof(WorkflowStatus.Running)),
        Data = entity.GetString("Data") ?? "{}",
        DueAt = entity.GetDateTimeOffset("DueAt"),
        Wait = Enum.Parse<WaitKind>(entity.GetString("Wait") ?? nameof(WaitKind.None)),
        ResumeState = entity.GetString("ResumeState"),
        EventName = entity.GetString("EventName"),
        TimeoutState = entity.GetString("TimeoutState"),
        PendingEvents = entity.GetString("PendingEvents") is { } pending
            ? JsonSerializer.Deserialize<Dictionary<string, string?>>(pending) ?? new(StringComparer.Ordinal)
            : new(StringComparer.Ordinal),
        DeliveredEvent = entity.GetString("DeliveredEvent") is { } delivered ? JsonSerializer.Deserialize<WorkflowEvent>(delivered) : null,
        LeaseUntil = entity.GetDateTimeOffset("LeaseUntil") ?? DateTimeOffset.MinValue,
        Attempts = entity.GetInt32("Attempts") ?? 0,
        LastError = entity.GetString("LastError"),
        Sequence = entity.GetInt64("Sequence") ?? 0,
        Version = entity.GetInt64("Version") ?? 0,
        CommitId = entity.GetString("CommitId"),
        History = JsonSerializer.Deserialize<List<WorkflowHistoryEntry>>(entity.GetString("History") ?? "[]", PlatformExtensions.JsonOptions) ?? [],
        HistoryDropped = entity.GetInt32("HistoryDropped") ?? 0,
        IndexKey = entity.GetString("IndexKey") ?? "",
        CreatedAt = entity.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        TraceParent = entity.GetString("TraceParent"),
        UpdatedAt = entity.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
        ETag = entity.ETag,
    };

    public static string ValidateId(string instanceId, string what) =>
        SafeKey().IsMatch(instanceId) ? instanceId : throw new ArgumentException($"{what} '{instanceId}' must be 1-200 of A-Z a-z 0-9 . _ - : @");

    public static string IndexRowKey(DateTimeOffset due, string instanceId) =>
        $"{due.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}|{instanceId}";

    public static DateTimeOffset DueOf(string indexRowKey) =>
        new(long.Parse(indexRowKey.AsSpan(0, 19), CultureInfo.InvariantCulture), TimeSpan.Zero);

    [GeneratedRegex("^[A-Za-z0-9._:@-]{1,200}$")]
    private static partial Regex SafeKey();
}

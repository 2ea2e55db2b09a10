namespace BusinessApi.Platform.Audit;

/// <summary>What happened, to be appended: who did what to which subject, with what outcome.</summary>
/// <param name="Subject">Whose journal it goes in (a customer id, or <see cref="AuditJournal.SystemSubject"/>).</param>
/// <param name="Actor">Who acted: <c>staff:…</c> (a person of the bank), <c>break-glass:…</c>, <c>client:…</c>, <c>user:…</c>, <c>system</c>, <c>anonymous</c>.</param>
/// <param name="Action">A stable dotted name, e.g. <c>calendar.updated</c>.</param>
/// <param name="Outcome">Whether it succeeded.</param>
public sealed record AuditRecord(string Subject, string Actor, string Action, AuditOutcome Outcome)
{
    /// <summary>
    /// The acting person's name, when known (bank staff: the token's <c>name</c>). Left null, the journal takes
    /// it from the request's signed-in operator when that operator is <see cref="Actor"/>.
    /// </summary>
    public string? ActorName { get; init; }

    /// <summary>The object acted on, when there is one.</summary>
    public string? Target { get; init; }

    /// <summary>The request id (or workflow id) that ties this entry to logs and traces.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>Small facts; names that suggest a secret are refused (the journal never stores one).</summary>
    public IReadOnlyDictionary<string, string>? Details { get; init; }
}

public enum AuditOutcome
{
    Success,
    Denied,
    Failed,
}

/// <summary>One stored, chained entry of the journal.</summary>
public sealed record AuditEntry(
    string Subject,
    DateOnly Day,
    long Sequence,
    DateTimeOffset At,
    string Actor,
    string Action,
    AuditOutcome Outcome,
    string? Target,
    string? CorrelationId,
    IReadOnlyDictionary<string, string> Details,
    string PreviousHash,
    string Hash)
{
    public string? ActorName { get; init; }
}

using System.Globalization;
using System.Text.Json;
using BusinessApi.Platform.Http;

namespace BusinessApi.Platform.Audit;

/// <summary>One journal entry as the customer sees it in an object's history.</summary>
public sealed record HistoryEvent(DateTimeOffset At, string Action, string Outcome, string Actor, IReadOnlyDictionary<string, string> Details);

public sealed record HistoryResponse(IReadOnlyList<HistoryEvent> Items, string? Continuation);

/// <summary>An object's history from the audit journal: its subject's entries over a period of local days, paged.</summary>
public static class SubjectHistory
{
    /// <summary>The page, or the problem with the query (a period that ends before it starts, a bad page size or continuation).</summary>
    public static async Task<(HistoryResponse? History, ProblemResult? Problem)> ReadAsync(
        AuditJournal audit, string subject, DateOnly from, DateOnly to, int? pageSize, string? continuation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(audit);
        var errors = new ValidationErrors();
        var (size, storageToken) = Paging.Read(errors, pageSize, continuation);
        if (to < from)
        {
            errors.Add("to", "before_from");
        }

        if (errors.Count > 0)
        {
            return (null, ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] }));
        }

        var (entries, next) = await audit.ReadSubjectAsync(subject, from, to, storageToken, size, cancellationToken);
        return (new HistoryResponse(
            [.. entries.Select(e => new HistoryEvent(
                DateTimeOffset.Parse(e.At, CultureInfo.InvariantCulture),
                e.Action,
                e.Outcome,
                e.Actor,
                JsonSerializer.Deserialize<Dictionary<string, string>>(e.Details) ?? []))],
            Paging.Continuation(next)), null);
    }
}

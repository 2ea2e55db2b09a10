using System.Globalization;
using System.Text.Json;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Operations;

/// <summary><c>GET /api/v1/ops/audit?subject=&amp;date=</c>: one subject's journal for one local day, in order, paged.</summary>
public static class ReadAuditJournal
{
    public static async Task<Results<Ok<AuditPage>, ProblemResult>> HandleAsync(
        string? subject, string? date, string? continuation, int? pageSize, AuditJournal journal, CancellationToken cancellationToken)
    {
        var errors = AuditQuery.Validate(subject, date, out var day);
        var (size, token) = Paging.Read(errors, pageSize, continuation);
        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var (entries, next) = await journal.ReadAsync(subject!, day, token, size, cancellationToken);
        return TypedResults.Ok(new AuditPage(
            subject!,
            day,
            [.. entries.Select(AuditEntryBody.From)],
            Paging.Continuation(next)));
    }
}

/// <summary><c>GET /api/v1/ops/audit/verification?subject=&amp;date=</c>: re-computes a day's hash chain.</summary>
public static class VerifyAuditJournal
{
    public static async Task<Results<Ok<AuditVerificationBody>, ProblemResult>> HandleAsync(
        string? subject, string? date, AuditJournal journal, CancellationToken cancellationToken)
    {
        var errors = AuditQuery.Validate(subject, date, out var day);
        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var result = await journal.VerifyAsync(subject!, day, cancellationToken);
        return TypedResults.Ok(new AuditVerificationBody(subject!, day, result.Intact, result.Entries, result.BrokenAtSequence, result.Break));
    }
}

internal static class AuditQuery
{
    public static ValidationErrors Validate(string? subject, string? date, out DateOnly day)
    {
        var errors = new ValidationErrors();
        day = default;
        if (errors.Required("subject", subject) && subject!.IndexOfAny(['/', '\\', '#', '?', '|']) >= 0)
        {
            errors.Add("subject", "invalid_value");
        }

        if (errors.Required("date", date) && !DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day))
        {
            errors.Add("date", "invalid_format", "YYYY-MM-DD");
        }

        return errors;
    }
}

public sealed record AuditPage(string Subject, DateOnly Date, IReadOnlyList<AuditEntryBody> Entries, string? Continuation);

/// <param name="Details">The entry's facts; the hash covers their canonical JSON text.</param>
public sealed record AuditEntryBody(
    long Sequence, string At, string Actor, string Action, string Outcome, string? Target, string? CorrelationId,
    IReadOnlyDictionary<string, string> Details, string PreviousHash, string Hash)
{
    public static AuditEntryBody From(StoredAuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new AuditEntryBody(entry.Sequence, entry.At, entry.Actor, entry.Action, entry.Outcome, entry.Target,
            entry.CorrelationId, JsonSerializer.Deserialize<Dictionary<string, string>>(entry.Details) ?? [], entry.PreviousHash, entry.Hash);
    }
}

public sealed record AuditVerificationBody(string Subject, DateOnly Date, bool Intact, int Entries, long? BrokenAtSequence, AuditBreak? Break);

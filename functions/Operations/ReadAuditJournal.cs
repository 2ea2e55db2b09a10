using System.Globalization;
using System.Security.Claims;
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

/// <summary>
/// <c>GET /api/v1/ops/audit/verification?subject=&amp;date=</c>: re-computes a subject's day — its hash chain, its
/// link to the subject's previous day, and, once the day is anchored, the anchored head in the WORM archive.
/// </summary>
public static class VerifyAuditJournal
{
    public static async Task<Results<Ok<AuditVerificationBody>, ProblemResult>> HandleAsync(
        string? subject, string? date, AuditAnchors anchors, CancellationToken cancellationToken)
    {
        var errors = AuditQuery.Validate(subject, date, out var day);
        if (errors.Count > 0)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var result = await anchors.VerifyAsync(subject!, day, cancellationToken);
        var chain = result.Chain;
        return TypedResults.Ok(new AuditVerificationBody(subject!, day, chain.Intact, chain.Entries, chain.BrokenAtSequence, chain.Break)
        {
            Finding = AuditFindings.Of(chain.Break),
            Anchor = result.Anchor,
            AnchoredSequence = result.Anchored?.Sequence,
            AnchoredHash = result.Anchored?.Hash,
            EntriesAfterAnchor = result.EntriesAfterAnchor,
        });
    }
}

/// <summary>
/// <c>GET /api/v1/ops/audit/anchors/{date}</c>: the day's anchor and every partition it lists checked against the
/// tables, with the anchor's link to the previous one; <c>POST /api/v1/ops/audit/anchors</c> anchors the closed
/// days not yet anchored now (the daily job does the same after midnight).
/// </summary>
public static class AuditAnchorEndpoints
{
    public static async Task<Results<Ok<AuditAnchorBody>, ProblemResult>> GetAsync(string date, AuditAnchors anchors, CancellationToken cancellationToken)
    {
        if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            var errors = new ValidationErrors();
            errors.Add("date", "invalid_format", "YYYY-MM-DD");
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [.. errors] });
        }

        var anchor = await anchors.ReadAsync(day, cancellationToken);
        if (anchor is null)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        var verification = await anchors.VerifyDayAsync(anchor, cancellationToken);
        return TypedResults.Ok(new AuditAnchorBody(anchor, verification.Intact, verification.AnchorHashValid, verification.LinkedToPrevious,
            [.. verification.Partitions.Select(p => new AuditPartitionFindingBody(p.Subject, p.Intact, p.Entries, p.AnchoredSequence, p.BrokenAtSequence, p.Break, AuditFindings.Of(p.Break)))]));
    }

    public static async Task<Ok<AnchorRunBody>> AnchorAsync(HttpContext httpContext, AuditAnchors anchors, AuditJournal audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var written = await anchors.AnchorClosedDaysAsync(cancellationToken);
        if (written.Count > 0)
        {
            await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous", "audit.anchored", AuditOutcome.Success)
            {
                CorrelationId = httpContext.TraceIdentifier,
                Details = new Dictionary<string, string>
                {
                    ["from"] = written[0].Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    ["to"] = written[^1].Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                },
            }, cancellationToken);
        }

        return TypedResults.Ok(new AnchorRunBody([.. written.Select(a => new AnchorSummary(a.Day, a.Partitions.Count, a.Hash))]));
    }
}

/// <summary>What a break means in the words of the review: which kind of tampering it shows.</summary>
public static class AuditFindings
{
    public static string? Of(AuditBreak? kind) => kind switch
    {
        null => null,
        AuditBreak.HashMismatch or AuditBreak.AnchorMismatch or AuditBreak.ChainBroken => "entry_rewritten",
        AuditBreak.SequenceGap or AuditBreak.EntriesMissing or AuditBreak.HeadMismatch => "entry_deleted",
        AuditBreak.DayMissing or AuditBreak.LinkBroken => "day_deleted_or_rewritten",
        _ => "broken",
    };
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
    /// <summary>The acting person's name (bank staff), when the journal knows it.</summary>
    public string? ActorName { get; init; }

    /// <summary>On a day's first entry: the subject's earlier entry (<c>yyyy-MM-dd:sequence</c>) it chains to.</summary>
    public string? Link { get; init; }

    public static AuditEntryBody From(StoredAuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new AuditEntryBody(entry.Sequence, entry.At, entry.Actor, entry.Action, entry.Outcome, entry.Target,
            entry.CorrelationId, JsonSerializer.Deserialize<Dictionary<string, string>>(entry.Details) ?? [], entry.PreviousHash, entry.Hash)
        {
            ActorName = entry.ActorName,
            Link = entry.Link,
        };
    }
}

/// <param name="Break">The low-level break the verifier found (hashMismatch, chainBroken, sequenceGap, headMismatch, linkBroken, anchorMismatch, entriesMissing, dayMissing).</param>
public sealed record AuditVerificationBody(string Subject, DateOnly Date, bool Intact, int Entries, long? BrokenAtSequence, AuditBreak? Break)
{
    /// <summary>entry_rewritten, entry_deleted or day_deleted_or_rewritten; null when intact.</summary>
    public string? Finding { get; init; }

    /// <summary>notAnchored (today, or before the job ran), notInAnchor, matches, mismatch, anchorInvalid.</summary>
    public AnchorState Anchor { get; init; }

    public long? AnchoredSequence { get; init; }

    public string? AnchoredHash { get; init; }

    /// <summary>Entries appended after the anchor was written (late writes around midnight), not tampering.</summary>
    public int EntriesAfterAnchor { get; init; }
}

public sealed record AuditAnchorBody(AuditAnchor Anchor, bool Intact, bool AnchorHashValid, bool LinkedToPrevious, IReadOnlyList<AuditPartitionFindingBody> Partitions);

public sealed record AuditPartitionFindingBody(string Subject, bool Intact, int Entries, long AnchoredSequence, long? BrokenAtSequence, AuditBreak? Break, string? Finding);

public sealed record AnchorRunBody(IReadOnlyList<AnchorSummary> Anchored);

public sealed record AnchorSummary(DateOnly Day, int Partitions, string Hash);

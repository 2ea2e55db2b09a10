using BusinessApi.Calendar;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Timers;

namespace BusinessApi.Documents;

/// <summary>
/// a document must be refused within its operational day of receipt, and one not refused by
/// the end of the next operational day counts as executed by default. Every few minutes this job reads
/// the due index (days up to today) and, for each document still not terminal at that instant, marks it
/// overdue (the API then shows <c>deemedExecuted</c>), puts it on the operators' work list and journals the
/// escalation. Documents that ended are taken off the index by their workflow; stale rows are dropped here.
/// </summary>
public sealed partial class DocumentDeadlineJob(DocumentStore store, AuditJournal audit, TimeProvider time, ILogger<DocumentDeadlineJob> logger) : IScheduledJob
{
    public string Name => "document-deadlines";

    public string DefaultSchedule => "0 */5 * * * *";

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var escalated = 0;
        await foreach (var (day, documentId) in store.Due.DueAsync(KazakhstanTime.LocalDate(now), cancellationToken))
        {
            var document = DocumentIds.IsWellFormed(documentId) ? await store.GetAsync(documentId, cancellationToken) : null;
            if (document is not null && !document.IsTerminal)
            {
                if (document.DeemedExecutedAt > now)
                {
                    continue; // later today
                }

                if (document.OverdueSince is null)
                {
                    await store.MarkOverdueAsync(documentId, now, cancellationToken);
                    await store.PutAlertAsync(DocumentAlerts.Overdue, document, now, document.WaitingFor ?? document.Status.ToString(), cancellationToken);
                    await audit.AppendAsync(new AuditRecord(document.CustomerId, "timer:" + Name, "document.overdue", AuditOutcome.Failed)
                    {
                        Target = "documents/" + documentId,
                        Details = new Dictionary<string, string>
                        {
                            ["status"] = DocumentStore.StatusText(document.Status),
                            ["waitingFor"] = document.WaitingFor ?? "",
                            ["deemedExecutedAt"] = document.DeemedExecutedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                        },
                    }, cancellationToken);
                    escalated++;
                    LogOverdue(logger, documentId, document.DeemedExecutedAt);
                }
            }

            await store.Due.DeleteAsync(day, documentId, cancellationToken);
        }

        if (escalated > 0)
        {
            LogRun(logger, escalated);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} is not executed or refused by {DeemedExecutedAt:O}: it now counts as executed by default (R-33); escalated to operators")]
    private static partial void LogOverdue(ILogger logger, string documentId, DateTimeOffset deemedExecutedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document deadlines: {Escalated} documents escalated as overdue")]
    private static partial void LogRun(ILogger logger, int escalated);
}

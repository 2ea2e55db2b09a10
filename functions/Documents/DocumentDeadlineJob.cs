using BusinessApi.Calendar;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Documents;

/// <summary>
/// a document must be refused within its operational day of receipt, and one not refused by
/// the end of the next operational day counts as executed by default. Every few minutes this job reads
/// the due index (days up to today) and, for each document still not terminal at that instant, marks it
/// overdue (the API then shows <c>deemedExecuted</c>), puts it on the operators' work list and journals the
/// escalation. Only documents that waited have a due row (the others run straight through); documents whose
/// workflow faulted are found through the engine's list of faulted instances. Rows of documents that ended
/// are dropped here, and overdue alerts of documents that ended since leave the operators' list.
/// </summary>
public sealed partial class DocumentDeadlineJob(DocumentStore store, WorkflowEngine engine, AuditJournal audit, TimeProvider time, ILogger<DocumentDeadlineJob> logger) : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:document-deadlines:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "document-deadlines";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "0 */5 * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var escalated = 0;
        await foreach (var (day, documentId) in store.Due.DueAsync(KazakhstanTime.LocalDate(now), cancellationToken))
        {
            var document = DocumentIds.IsWellFormed(documentId) ? await store.GetAsync(documentId, cancellationToken) : null;
            if (document is { IsTerminal: false } && document.DeemedExecutedAt > now)
            {
                continue; // later today
            }

            if (document is not null && await EscalateAsync(document, now, cancellationToken))
            {
                escalated++;
            }

            await store.Due.DeleteAsync(day, documentId, cancellationToken);
        }

        // Documents whose workflow gave up (faulted) never waited, so they have no due row: look at them here.
        string? continuation = null;
        do
        {
            var (faulted, next) = await engine.ListFaultedAsync(continuation, 100, cancellationToken);
            foreach (var workflow in faulted.Where(f => f.Workflow == DocumentWorkflow.WorkflowName))
            {
                if (await store.GetAsync(workflow.InstanceId, cancellationToken) is { } document && document.DeemedExecutedAt <= now
                    && await EscalateAsync(document, now, cancellationToken))
                {
                    escalated++;
                }
            }

            continuation = next;
        }
        while (continuation is not null);

        // Overdue documents that have ended since leave the operators' list.
        foreach (var alert in await store.ListAlertsAsync(DocumentAlerts.Overdue, 1000, cancellationToken))
        {
            if (await store.GetAsync(alert.DocumentId, cancellationToken) is not { IsTerminal: false })
            {
                await store.DeleteAlertAsync(DocumentAlerts.Overdue, alert.DocumentId, cancellationToken);
            }
        }

        if (escalated > 0)
        {
            LogRun(logger, escalated);
        }
    }

    /// <summary>Marks a document not terminal at its R-33 instant as overdue, lists it for operators and journals it (once).</summary>
    private async Task<bool> EscalateAsync(Document document, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (document.IsTerminal || document.OverdueSince is not null)
        {
            return false;
        }

        await store.MarkOverdueAsync(document.DocumentId, now, cancellationToken);
        await store.PutAlertAsync(DocumentAlerts.Overdue, document, now, document.WaitingFor ?? DocumentStore.StatusText(document.Status), cancellationToken);
        await audit.AppendAsync(new AuditRecord(document.CustomerId, "timer:" + Name, "document.overdue", AuditOutcome.Failed)
        {
            Target = "documents/" + document.DocumentId,
            Details = new Dictionary<string, string>
            {
                ["status"] = DocumentStore.StatusText(document.Status),
                ["waitingFor"] = document.WaitingFor ?? "",
                ["deemedExecutedAt"] = document.DeemedExecutedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            },
        }, cancellationToken);
        LogOverdue(logger, document.DocumentId, document.DeemedExecutedAt);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} is not executed or refused by {DeemedExecutedAt:O}: it now counts as executed by default (R-33); escalated to operators")]
    private static partial void LogOverdue(ILogger logger, string documentId, DateTimeOffset deemedExecutedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document deadlines: {Escalated} documents escalated as overdue")]
    private static partial void LogRun(ILogger logger, int escalated);
}

using System.ComponentModel.DataAnnotations;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Timers;
using Microsoft.Extensions.Options;

namespace BusinessApi.Accounts.Ledger;

public sealed class LedgerOptions
{
    public const string Section = "Ledger";

    /// <summary>An outbox row younger than this is left to the process that wrote it.</summary>
    [Range(1, 3600)]
    public int OutboxGraceSeconds { get; set; } = 30;

    /// <summary>How long information services may show an account view read earlier (0: always read). Commits of this instance drop it at once.</summary>
    [Range(0, 60_000)]
    public int ViewCacheMilliseconds { get; set; } = 1000;

    /// <summary>How long the list of a customer's accounts is reused for information services. Openings in this instance drop it at once.</summary>
    [Range(0, 3600)]
    public int DirectoryCacheSeconds { get; set; } = 10;
}

/// <summary>
/// Finishes transactions whose process stopped between the primary write and the other legs. It visits
/// only accounts that marked themselves as writing outbox rows (a small index), reads just their
/// outbox rows, and drops a marker once its account's outbox is empty and the marker has lapsed.
/// </summary>
public sealed partial class LedgerOutboxSweep(Ledger ledger, TimeProvider time, IOptions<LedgerOptions> options, ILogger<LedgerOutboxSweep> logger) : IScheduledJob
{
    /// <summary>The job's name: its timer state, its schedule setting (<c>Timers:ledger-outbox:Schedule</c>) and its timer trigger.</summary>
    public const string JobName = "ledger-outbox";

    /// <summary>The default schedule, also the Functions head's timer trigger.</summary>
    public const string Schedule = "*/10 * * * * *";

    public string Name => JobName;

    public string DefaultSchedule => Schedule;

    /// <summary>Every 10 seconds and almost always empty: counted, not traced.</summary>
    public bool Traced => false;

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        var grace = TimeSpan.FromSeconds(options.Value.OutboxGraceSeconds);
        var index = ledger.Storage.OutboxIndex;
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {LedgerRows.OutboxIndexPartition}");
        await foreach (var marker in index.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (!LedgerAccountId.TryParse(marker.RowKey, out var account))
            {
                continue;
            }

            var left = await ledger.CompleteOutboxAsync(account, grace, cancellationToken);
            if (left == 0 && marker.GetDateTimeOffset("ActiveUntil") is { } until && until < time.GetUtcNow())
            {
                try
                {
                    // Only if no writer renewed it meanwhile (a renewal means new outbox rows may come).
                    await index.DeleteEntityAsync(marker.PartitionKey, marker.RowKey, marker.ETag, cancellationToken);
                }
                catch (RequestFailedException ex) when (ex.Status is 404 or 412)
                {
                    LogMarkerKept(logger);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox marker renewed during the sweep; kept")]
    private static partial void LogMarkerKept(ILogger logger);
}

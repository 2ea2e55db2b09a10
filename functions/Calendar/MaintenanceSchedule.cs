using System.Globalization;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Calendar;

/// <summary>A window of technical works on Internet-banking and the API: planned (5.2.11) or emergency (5.2.12).</summary>
public sealed record MaintenanceWindow(string MaintenanceId, DateTimeOffset StartsAt, DateTimeOffset EndsAt, bool Planned, string Message, DateTimeOffset AnnouncedAt, string AnnouncedBy)
{
    /// <summary>For planned works: the end of the working day before they start, by which every customer must have the notice.</summary>
    public DateTimeOffset? NoticeDeliverBy { get; init; }
}

/// <summary>Table <c>Maintenance</c>: one partition, rows ordered by start. Small: a few windows a month.</summary>
public sealed class MaintenanceSchedule(StorageResources storage)
{
    public const string TableName = "Maintenance";
    public const string Partition = "windows";

    private readonly TableClient _table = storage.Table(TableName);
    private (IReadOnlyList<MaintenanceWindow> Windows, long ReadAt)? _cached;

    /// <summary>How long <c>GET /operational-day</c> reuses the list (an anonymous endpoint must not cost a query per call).</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    /// <summary>Drops the cached list (after this instance announced works).</summary>
    public void Forget() => _cached = null;

    public static string Row(MaintenanceWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return window.StartsAt.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "|" + window.MaintenanceId;
    }

    public TableEntity ToEntity(MaintenanceWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        return new TableEntity(Partition, Row(window))
        {
            ["MaintenanceId"] = window.MaintenanceId,
            ["StartsAt"] = window.StartsAt,
            ["EndsAt"] = window.EndsAt,
            ["Planned"] = window.Planned,
            ["Message"] = window.Message,
            ["AnnouncedAt"] = window.AnnouncedAt,
            ["AnnouncedBy"] = window.AnnouncedBy,
            ["NoticeDeliverBy"] = window.NoticeDeliverBy,
        };
    }

    /// <summary>Windows not over at <paramref name="now"/>, soonest first (those of the last 30 days are looked at, which covers any real window).</summary>
    public async Task<IReadOnlyList<MaintenanceWindow>> CurrentAndUpcomingAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_cached is { } cached && Environment.TickCount64 - cached.ReadAt < (long)CacheFor.TotalMilliseconds)
        {
            return [.. cached.Windows.Where(w => w.EndsAt > now)];
        }

        var windows = await ReadAsync(now, cancellationToken);
        _cached = (windows, Environment.TickCount64);
        return windows;
    }

    private async Task<IReadOnlyList<MaintenanceWindow>> ReadAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var from = now.AddDays(-30).UtcTicks.ToString("D19", CultureInfo.InvariantCulture);
        var result = new List<MaintenanceWindow>();
        await foreach (var e in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and RowKey ge {from}"), cancellationToken: cancellationToken))
        {
            var window = new MaintenanceWindow(e.GetString("MaintenanceId") ?? "", e.GetDateTimeOffset("StartsAt") ?? default, e.GetDateTimeOffset("EndsAt") ?? default,
                e.GetBoolean("Planned") ?? true, e.GetString("Message") ?? "", e.GetDateTimeOffset("AnnouncedAt") ?? default, e.GetString("AnnouncedBy") ?? "")
            {
                NoticeDeliverBy = e.GetDateTimeOffset("NoticeDeliverBy"),
            };
            if (window.EndsAt > now)
            {
                result.Add(window);
            }
        }

        return result;
    }
}

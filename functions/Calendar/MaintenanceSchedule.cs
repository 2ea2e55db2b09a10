using System.Globalization;
using Azure.Data.Tables;
using BusinessApi.Platform.Caching;
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
    // Safe across instances: another instance's announcement is seen within CacheFor (real time); this one's at once.
    private readonly BoundedCache<string, IReadOnlyList<MaintenanceWindow>> _cached = new(TimeProvider.System, capacity: 1, CacheFor);

    /// <summary>How long <c>GET /operational-day</c> reuses the list (an anonymous endpoint must not cost a query per call).</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    /// <summary>Drops the cached list (after this instance announced works).</summary>
    public void Forget() => _cached.Clear();

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
        if (_cached.TryGet(nameof(MaintenanceWindow), out var cached))
        {
            return [.. cached.Where(w => w.EndsAt > now)];
        }

        var windows = await ReadAsync(now, cancellationToken);
        _cached.Set(nameof(MaintenanceWindow), windows);
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

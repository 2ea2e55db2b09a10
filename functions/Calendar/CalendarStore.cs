using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using BusinessApi.Platform;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Calendar;

/// <summary>Published calendar years and hours changes in Table storage (a few small rows; read whole).</summary>
public sealed class CalendarStore(StorageResources storage)
{
    public const string TableName = "BankCalendar";
    private const string YearPartition = "year";
    private const string HoursPartition = "hours";
    private static readonly JsonSerializerOptions Json = PlatformExtensions.JsonOptions;
    private readonly TableClient _table = storage.Table(TableName);

    public async Task<(IReadOnlyList<CalendarYear> Years, IReadOnlyList<OperationalHoursChange> Changes)> LoadAsync(CancellationToken cancellationToken)
    {
        var years = new List<CalendarYear>();
        var changes = new List<OperationalHoursChange>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(cancellationToken: cancellationToken))
        {
            if (entity.PartitionKey == YearPartition)
            {
                years.Add(JsonSerializer.Deserialize<CalendarYear>(entity.GetString("Json"), Json)!);
            }
            else if (entity.PartitionKey == HoursPartition
                     && OperationalHours.TryCreate(entity.GetString("Open"), entity.GetString("Close"), out var hours))
            {
                changes.Add(new OperationalHoursChange(
                    DateOnly.ParseExact(entity.RowKey, "yyyy-MM-dd", CultureInfo.InvariantCulture),
                    hours,
                    entity.GetDateTimeOffset("PublishedAt") ?? DateTimeOffset.MinValue,
                    entity.GetString("PublishedBy") ?? ""));
            }
        }

        return (years, changes);
    }

    public async Task SaveYearAsync(CalendarYear year, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(year);
        var entity = new TableEntity(YearPartition, year.Year.ToString(CultureInfo.InvariantCulture))
        {
            ["Json"] = JsonSerializer.Serialize(year, Json),
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task SaveHoursChangeAsync(OperationalHoursChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var entity = new TableEntity(HoursPartition, change.EffectiveFrom.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))
        {
            ["Open"] = OperationalHours.Format(change.Hours.Open),
            ["Close"] = OperationalHours.Format(change.Hours.Close),
            ["PublishedAt"] = change.PublishedAt,
            ["PublishedBy"] = change.PublishedBy,
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }
}

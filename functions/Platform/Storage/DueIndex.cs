using System.Globalization;
using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Storage;

/// <summary>
/// An index of items by the local day they fall due: one partition per day (<c>yyyy-MM-dd</c>), one row per
/// item. A timer job reads only the partitions up to today with one range query, so its cost follows the
/// number of due items, never the size of the table it indexes. Writers put the new row before pointing
/// the item at it and delete the old one after, so an item is never without its row; stale rows are
/// recognised by the job (the item names another day) and removed.
/// </summary>
public sealed class DueIndex(TableClient table, Timers.WakeupAlarm? wakeups = null)
{
    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public async Task PutAsync(DateOnly day, string key, CancellationToken cancellationToken)
    {
        await table.UpsertEntityAsync(new TableEntity(Day(day), key), TableUpdateMode.Replace, cancellationToken);
        // A scaled-to-zero app is started when the day begins, so its jobs see the item.
        wakeups?.ArmDay(day);
    }

    public async Task DeleteAsync(DateOnly day, string key, CancellationToken cancellationToken)
    {
        try
        {
            await table.DeleteEntityAsync(Day(day), key, ETag.All, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            // already gone
        }
    }

    /// <summary>
    /// Moves <paramref name="key"/> from <paramref name="before"/> to <paramref name="after"/> around the item's own
    /// write (<paramref name="update"/>): the new row first, so the item never names a day without a row, and the
    /// old row last, once the stored item names another day.
    /// </summary>
    public async Task<T?> MoveAsync<T>(string key, DateOnly before, DateOnly after, Func<Task<T?>> update, Func<T, DateOnly> dueDayOf, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(update);
        ArgumentNullException.ThrowIfNull(dueDayOf);
        if (after > before)
        {
            await PutAsync(after, key, cancellationToken);
        }

        var stored = await update();
        if (stored is not null && dueDayOf(stored) != before)
        {
            await DeleteAsync(before, key, cancellationToken);
        }

        return stored;
    }

    /// <summary>Rows of days up to and including <paramref name="today"/>.</summary>
    public async IAsyncEnumerable<(DateOnly Day, string Key)> DueAsync(DateOnly today, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey le {Day(today)}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            if (DateOnly.TryParseExact(entity.PartitionKey, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                yield return (day, entity.RowKey);
            }
        }
    }

    /// <summary>The row of <paramref name="key"/> for <paramref name="day"/>, as a batch action (bulk imports).</summary>
    public static TableEntity Row(DateOnly day, string key) => new(Day(day), key);
}

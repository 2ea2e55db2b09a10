using Azure;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Workflows;

/// <summary>Helpers that make a step's effects idempotent (W2): run twice, change nothing the second time.</summary>
public static class Effects
{
    /// <summary>Inserts an entity keyed by a deterministic id; false when it is already there (the effect happened).</summary>
    public static async Task<bool> InsertIfAbsentAsync(this TableClient table, ITableEntity entity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        try
        {
            await table.AddEntityAsync(entity, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Replaces an entity only if it is still the version read (<paramref name="etag"/>); false when it changed meanwhile.</summary>
    public static async Task<bool> UpdateIfMatchAsync(this TableClient table, ITableEntity entity, ETag etag, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(table);
        try
        {
            await table.UpdateEntityAsync(entity, etag, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false;
        }
    }
}

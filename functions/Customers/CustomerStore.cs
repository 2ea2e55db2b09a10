using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Caching;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Customers;

/// <summary>
/// Customers by id, with a registration-number index that keeps BINs unique: the index row is
/// claimed first with one conditional insert, so two concurrent requests for one BIN make one customer.
/// </summary>
public sealed class CustomerStore(StorageResources storage)
{
    public const string TableName = "Customers";
    public const string BinIndexTable = "CustomerBins";
    private const string Row = "customer";

    private readonly TableClient _customers = storage.Table(TableName);
    private readonly TableClient _bins = storage.Table(BinIndexTable);
    // Safe across instances: another instance's change is seen within CacheFor (real time, so a test's frozen clock
    // cannot make it stale for ever); this instance's own changes remove the entry at once.
    private readonly BoundedCache<string, Customer> _cache = new(TimeProvider.System, capacity: 20_000, CacheFor, StringComparer.Ordinal);

    /// <summary>How long <see cref="GetCachedAsync"/> trusts a read: another instance's status change is seen within this time.</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    /// <summary>Creates the customer, or answers the one that already holds the BIN (<c>Created</c> false).</summary>
    public async Task<(bool Created, Customer Customer)> CreateAsync(Customer customer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(customer);
        var claim = new TableEntity(customer.Bin, Row) { ["CustomerId"] = customer.CustomerId };
        try
        {
            await _bins.AddEntityAsync(claim, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            var holder = (await _bins.GetEntityAsync<TableEntity>(customer.Bin, Row, cancellationToken: cancellationToken)).Value.GetString("CustomerId")!;
            if (await GetAsync(holder, cancellationToken) is { } existing)
            {
                return (false, existing);
            }

            // The holder's creation stopped after its claim: finish it under the claimed id.
            customer = customer with { CustomerId = holder };
        }

        try
        {
            await _customers.AddEntityAsync(ToEntity(customer), cancellationToken);
            return (true, customer);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            return (false, (await GetAsync(customer.CustomerId, cancellationToken))!);
        }
    }

    /// <summary>Every customer, in id order (a monthly job's walk; not for request paths).</summary>
    public async IAsyncEnumerable<Customer> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in _customers.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {Row}"), cancellationToken: cancellationToken))
        {
            yield return FromEntity(row);
        }
    }

    public async Task<Customer?> GetAsync(string customerId, CancellationToken cancellationToken)
    {
        if (!Customer.IsWellFormedId(customerId))
        {
            return null;
        }

        var found = await _customers.GetEntityIfExistsAsync<TableEntity>(customerId, Row, cancellationToken: cancellationToken);
        return found.HasValue ? FromEntity(found.Value!) : null;
    }

    /// <summary>
    /// The customer, trusted for <see cref="CacheFor"/>; a status change in this process is seen at once. When the
    /// entry expires, concurrent callers share one read (every customer request asks, so a miss must not become a
    /// read per caller).
    /// </summary>
    public ValueTask<Customer?> GetCachedAsync(string customerId, CancellationToken cancellationToken) =>
        _cache.GetOrReadAsync(customerId, id => GetAsync(id, CancellationToken.None), cancellationToken);

    /// <summary>Records the customer's service status.</summary>
    public async Task SetStatusAsync(string customerId, CustomerStatus status, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await _customers.UpdateEntityAsync(new TableEntity(customerId, Row) { ["Status"] = status.ToString(), ["StatusChangedAt"] = at },
            ETag.All, TableUpdateMode.Merge, cancellationToken);
        _cache.Remove(customerId);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the stored customer under an ETag check, again on a conflict. The change
    /// answers null when nothing is to be done; the result is the customer as stored then (null if there is none).
    /// </summary>
    public async Task<(Customer? Customer, bool Changed)> ChangeAsync(string customerId, Func<Customer, Customer?> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 0; ; attempt++)
        {
            if (!Customer.IsWellFormedId(customerId))
            {
                return (null, false);
            }

            var found = await _customers.GetEntityIfExistsAsync<TableEntity>(customerId, Row, cancellationToken: cancellationToken);
            if (!found.HasValue)
            {
                return (null, false);
            }

            var current = FromEntity(found.Value!);
            if (change(current) is not { } next)
            {
                return (current, false);
            }

            try
            {
                await _customers.UpdateEntityAsync(ToEntity(next), found.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                _cache.Remove(customerId);
                return (next, true);
            }
            catch (RequestFailedException ex) when (ex.Status == 412 && attempt < 10)
            {
                // changed under us: read again
            }
        }
    }

    private static TableEntity ToEntity(Customer customer) => new(customer.CustomerId, Row)
    {
        ["Name"] = customer.Name,
        ["Bin"] = customer.Bin,
        ["IndividualEntrepreneur"] = customer.IsIndividualEntrepreneur,
        ["Status"] = customer.Status.ToString(),
        ["CreatedAt"] = customer.CreatedAt,
        ["StatusChangedAt"] = customer.StatusChangedAt,
        ["SuspensionReason"] = customer.Suspension?.Reason,
        ["SuspendedAt"] = customer.Suspension?.Since,
        ["SuspensionDiscoveredAt"] = customer.Suspension?.DiscoveredAt,
        ["SuspendedBy"] = customer.Suspension?.By,
        ["SuspensionComment"] = customer.Suspension?.Comment,
        ["TerminationDate"] = customer.Termination?.EffectiveDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
        ["TerminationInitiator"] = customer.Termination?.Initiator,
        ["TerminationRequestedAt"] = customer.Termination?.RequestedAt,
        ["TerminationRequestedBy"] = customer.Termination?.RequestedBy,
        ["TerminationReason"] = customer.Termination?.Reason,
    };

    private static Customer FromEntity(TableEntity entity) => new(
        entity.PartitionKey,
        entity.GetString("Name") ?? "",
        entity.GetString("Bin") ?? "",
        Enum.Parse<CustomerStatus>(entity.GetString("Status") ?? nameof(CustomerStatus.Active)),
        entity.GetDateTimeOffset("CreatedAt") ?? default)
    {
        IsIndividualEntrepreneur = entity.GetBoolean("IndividualEntrepreneur") ?? false,
        StatusChangedAt = entity.GetDateTimeOffset("StatusChangedAt"),
        Suspension = entity.GetString("SuspensionReason") is { } reason
            ? new Suspension(reason, entity.GetDateTimeOffset("SuspendedAt") ?? default, entity.GetDateTimeOffset("SuspensionDiscoveredAt") ?? default,
                entity.GetString("SuspendedBy") ?? "", entity.GetString("SuspensionComment"))
            : null,
        Termination = entity.GetString("TerminationDate") is { } date
            ? new Termination(DateOnly.ParseExact(date, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), entity.GetString("TerminationInitiator") ?? "",
                entity.GetDateTimeOffset("TerminationRequestedAt") ?? default, entity.GetString("TerminationRequestedBy") ?? "", entity.GetString("TerminationReason"))
            : null,
    };
}

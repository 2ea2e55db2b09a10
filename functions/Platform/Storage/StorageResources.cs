using System.Collections.Concurrent;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Storage;

/// <summary>A table, queue or blob container a capability needs; created once at start-up.</summary>
/// <param name="Account">The setting of a separate account the resource lives in when that setting is configured (blob containers only).</param>
public sealed record StorageResource(StorageResourceKind Kind, string LogicalName, string? Account = null);

/// <summary>The blob service of a separately configured account (the archive's, see <see cref="StorageServiceCollectionExtensions.ArchiveSetting"/>).</summary>
public sealed record SeparateBlobAccount(string Setting, BlobServiceClient Client);

public enum StorageResourceKind
{
    Table,
    Queue,
    BlobContainer,
}

/// <summary>Clients for the app's own tables, queues and containers, by logical name.</summary>
public sealed class StorageResources(
    TableServiceClient tables,
    QueueServiceClient queues,
    BlobServiceClient blobs,
    IOptions<StorageOptions> options,
    IEnumerable<StorageResource> resources,
    IEnumerable<SeparateBlobAccount> separateAccounts)
{
    // Containers whose account is configured separately, by logical name.
    private readonly Dictionary<string, BlobServiceClient> _containerAccounts = resources
        .Where(r => r.Kind == StorageResourceKind.BlobContainer && r.Account is not null)
        .Join(separateAccounts, r => r.Account, a => a.Setting, (r, a) => (r.LogicalName, a.Client), StringComparer.Ordinal)
        .DistinctBy(x => x.LogicalName, StringComparer.Ordinal)
        .ToDictionary(x => x.LogicalName, x => x.Client, StringComparer.Ordinal);

    // SDK clients by table name: stateless handles, the same in every instance.
    private readonly ConcurrentDictionary<string, TableClient> _tables = new(StringComparer.Ordinal);
    private readonly string _prefix = ValidatePrefix(options.Value.TablePrefix);

    public TableServiceClient TableService => tables;

    public QueueServiceClient QueueService => queues;

    public BlobServiceClient BlobService => blobs;

    public string PhysicalName(StorageResource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return resource.Kind switch
        {
            StorageResourceKind.Table => _prefix + resource.LogicalName,
            // Queue and container names must be lowercase; table names keep their case.
            _ => (_prefix + resource.LogicalName).ToLowerInvariant(),
        };
    }

    public TableClient Table(string logicalName) =>
        _tables.GetOrAdd(logicalName, name => tables.GetTableClient(PhysicalName(new StorageResource(StorageResourceKind.Table, name))));

    public QueueClient Queue(string logicalName) =>
        queues.GetQueueClient(PhysicalName(new StorageResource(StorageResourceKind.Queue, logicalName)));

    public BlobContainerClient Container(string logicalName) =>
        _containerAccounts.GetValueOrDefault(logicalName, blobs).GetBlobContainerClient(PhysicalName(new StorageResource(StorageResourceKind.BlobContainer, logicalName)));

    private static string ValidatePrefix(string prefix)
    {
        if (prefix.Length > 20 || !prefix.All(char.IsAsciiLetterOrDigit) || (prefix.Length > 0 && !char.IsAsciiLetter(prefix[0])))
        {
            throw new OptionsValidationException(nameof(StorageOptions), typeof(StorageOptions),
                ["Storage:TablePrefix must be at most 20 ASCII letters or digits and start with a letter."]);
        }

        return prefix;
    }
}

using Azure.Identity;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Azure;

namespace BusinessApi.Platform.Storage;

public static class StorageServiceCollectionExtensions
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    /// <summary>
    /// The archive's own account (WORM is account-wide in Azure, see infra/): a connection string or a
    /// section with <c>blobServiceUri</c> or <c>accountName</c>. Unset, the archive container is in the main account.
    /// </summary>
    public const string ArchiveSetting = "ArchiveStorage";

    /// <summary>
    /// Registers the Table, Queue and Blob service clients once. <c>AzureWebJobsStorage</c> is either a
    /// connection string (Azurite, or keys) or, as in Functions, a section with <c>accountName</c> (or
    /// <c>tableServiceUri</c>/<c>queueServiceUri</c>/<c>blobServiceUri</c>) used with the managed identity.
    /// </summary>
    public static IServiceCollection AddPlatformStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section));
        var connection = configuration[ConnectionSetting];
        var archiveConnection = configuration[ArchiveSetting];
        var archiveSeparate = !string.IsNullOrWhiteSpace(archiveConnection) || configuration.GetSection(ArchiveSetting).GetChildren().Any();
        services.AddAzureClients(clients =>
        {
            if (!string.IsNullOrWhiteSpace(connection))
            {
                clients.AddTableServiceClient(connection);
                clients.AddQueueServiceClient(connection);
                clients.AddBlobServiceClient(connection);
            }
            else
            {
                clients.AddTableServiceClient(ServiceUri(configuration, ConnectionSetting, "table"));
                clients.AddQueueServiceClient(ServiceUri(configuration, ConnectionSetting, "queue"));
                clients.AddBlobServiceClient(ServiceUri(configuration, ConnectionSetting, "blob"));
            }

            if (archiveSeparate)
            {
                (string.IsNullOrWhiteSpace(archiveConnection)
                    ? clients.AddBlobServiceClient(ServiceUri(configuration, ArchiveSetting, "blob"))
                    : clients.AddBlobServiceClient(archiveConnection)).WithName(ArchiveSetting);
            }

            // Retries and time-outs of every Azure client (AzureClients:Retry:MaxRetries, :NetworkTimeout, ...).
            clients.ConfigureDefaults(configuration.GetSection("AzureClients"));
            clients.UseCredential(new DefaultAzureCredential());
        });

        if (archiveSeparate)
        {
            services.AddSingleton(sp => new SeparateBlobAccount(ArchiveSetting,
                sp.GetRequiredService<IAzureClientFactory<BlobServiceClient>>().CreateClient(ArchiveSetting)));
        }

        services.AddSingleton<StorageResources>();
        services.AddSingleton<TransactionBatcher>();
        services.AddSingleton<StorageInitializer>();
        services.AddHostedService(sp => sp.GetRequiredService<StorageInitializer>());
        return services;
    }

    public static IServiceCollection AddStorageTable(this IServiceCollection services, string logicalName) =>
        services.AddSingleton(new StorageResource(StorageResourceKind.Table, logicalName));

    public static IServiceCollection AddStorageQueue(this IServiceCollection services, string logicalName) =>
        services.AddSingleton(new StorageResource(StorageResourceKind.Queue, logicalName));

    /// <summary>A blob container; <paramref name="account"/> names the setting of a separate account it lives in when configured.</summary>
    public static IServiceCollection AddStorageContainer(this IServiceCollection services, string logicalName, string? account = null) =>
        services.AddSingleton(new StorageResource(StorageResourceKind.BlobContainer, logicalName, account));

    /// <summary>A service endpoint from a section like Functions' identity-based connections: <c>{service}ServiceUri</c> or <c>accountName</c>.</summary>
    private static Uri ServiceUri(IConfiguration configuration, string setting, string service)
    {
        var section = configuration.GetSection(setting);
        return section[service + "ServiceUri"] is { Length: > 0 } explicitUri ? new Uri(explicitUri)
            : section["accountName"] is { Length: > 0 } account ? new Uri($"https://{account}.{service}.core.windows.net")
            : throw new InvalidOperationException(
                $"Set {setting} to a connection string, or {setting}__accountName (or __{service}ServiceUri) for a managed identity.");
    }
}

using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Azure;

namespace BusinessApi.Platform.Storage;

public static class StorageServiceCollectionExtensions
{
    public const string ConnectionSetting = "AzureWebJobsStorage";

    /// <summary>
    /// Registers the Table, Queue and Blob service clients once. <c>AzureWebJobsStorage</c> is either a
    /// connection string (Azurite, or keys) or, as in Functions, a section with <c>accountName</c> (or
    /// <c>tableServiceUri</c>/<c>queueServiceUri</c>/<c>blobServiceUri</c>) used with the managed identity.
    /// </summary>
    public static IServiceCollection AddPlatformStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section));
        var monitor = StorageCallMonitor.FromConfiguration(configuration);
        services.AddSingleton(monitor);
        var connection = configuration[ConnectionSetting];
        var section = configuration.GetSection(ConnectionSetting);
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
                var account = section["accountName"];
                Uri ServiceUri(string key, string service) =>
                    section[key] is { Length: > 0 } explicitUri ? new Uri(explicitUri)
                    : account is { Length: > 0 } ? new Uri($"https://{account}.{service}.core.windows.net")
                    : throw new InvalidOperationException(
                        $"Set {ConnectionSetting} to a connection string, or {ConnectionSetting}__accountName for a managed identity.");
                clients.AddTableServiceClient(ServiceUri("tableServiceUri", "table"));
                clients.AddQueueServiceClient(ServiceUri("queueServiceUri", "queue"));
                clients.AddBlobServiceClient(ServiceUri("blobServiceUri", "blob"));
            }

            // Retries and time-outs of every Azure client (AzureClients:Retry:MaxRetries, :NetworkTimeout, ...).
            clients.ConfigureDefaults(configuration.GetSection("AzureClients"));
            clients.ConfigureDefaults(options => options.AddPolicy(monitor, HttpPipelinePosition.PerRetry));
            clients.UseCredential(new DefaultAzureCredential());
        });

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

    public static IServiceCollection AddStorageContainer(this IServiceCollection services, string logicalName) =>
        services.AddSingleton(new StorageResource(StorageResourceKind.BlobContainer, logicalName));
}

using Azure.Data.Tables;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>The Azurite instance started by ./test.sh (its connection string arrives in AzureWebJobsStorage).</summary>
public static class Azurite
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("AzureWebJobsStorage") is { Length: > 0 } value && value != "UseDevelopmentStorage=true"
            ? value
            : throw new InvalidOperationException(
                "These tests need Azurite: run them with ./test.sh, which starts it and sets AzureWebJobsStorage.");

    public static TableClient Table(string prefix, string logicalName) =>
        new TableServiceClient(ConnectionString).GetTableClient(prefix + logicalName);
}

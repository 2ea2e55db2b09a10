using Azure.Data.Tables;
using BusinessApi.Platform.Workflows;
using BusinessApi.Testing;
using BusinessApi.Tests.Infrastructure;
using BusinessApi.WorkflowHost;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform.Workflows;

/// <summary>A test app with the sample workflows, and reads of what the engine stored.</summary>
public sealed class WorkflowTestHost : IAsyncDisposable
{
    private WorkflowTestHost(TestApp app) => App = app;

    public TestApp App { get; }

    public WorkflowEngine Engine => App.Services.GetRequiredService<WorkflowEngine>();

    internal WorkflowRunner Runner => App.Services.GetRequiredService<WorkflowRunner>();

    public StorageCallMonitor Monitor => App.Services.GetRequiredService<StorageCallMonitor>();

    public T Definition<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public TableClient Table(string logical) => Azurite.Table(App.TablePrefix, logical);

    public static async Task<WorkflowTestHost> StartAsync(Dictionary<string, string>? settings = null, bool realTime = false, string? sharePrefixWith = null)
    {
        var all = new Dictionary<string, string>
        {
            ["Workflows:LeaseSeconds"] = "30",
            ["Workflows:RetryBaseMilliseconds"] = "1000",
            ["Workflows:MaxAttempts"] = "3",
            // Fake-clock tests sweep by hand; the background sweep would only fire when the clock moves.
            ["Workflows:SweepIntervalMilliseconds"] = "1000",
        };
        if (sharePrefixWith is not null)
        {
            all["Storage:TablePrefix"] = sharePrefixWith;
        }

        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }

        return new WorkflowTestHost(await TestApp.StartAsync(all, services: s => s.AddSampleWorkflows(), realTime: realTime));
    }

    /// <summary>One sweep of the due index, as the background sweeper does on its interval.</summary>
    public Task<int> SweepAsync() => App.Services.GetRequiredService<WorkflowSweeper>().SweepOnceAsync(CancellationToken.None);

    public Task<WorkflowSnapshot> WaitForAsync(string instanceId, Func<WorkflowSnapshot, bool> done, TimeSpan? timeout = null, string? what = null) =>
        Eventually.GetAsync(async () => (await Engine.GetAsync(Samples.Location(instanceId)))!, s => s is not null && done(s), timeout, what ?? $"instance {instanceId}");

    public async Task<List<TableEntity>> RowsAsync(string logical, string? partition = null)
    {
        var rows = new List<TableEntity>();
        var filter = partition is null ? null : TableClient.CreateQueryFilter($"PartitionKey eq {partition}");
        await foreach (var row in Table(logical).QueryAsync<TableEntity>(filter))
        {
            rows.Add(row);
        }

        return rows;
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}

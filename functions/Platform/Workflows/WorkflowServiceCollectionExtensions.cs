using BusinessApi.Platform.Storage;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Workflows;

public static class WorkflowServiceCollectionExtensions
{
    /// <summary>The engine, its worker, its sweeper and its tables (once, however often called).</summary>
    public static IServiceCollection AddWorkflows(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(s => s.ServiceType == typeof(WorkflowEngine)))
        {
            return services;
        }

        services.AddOptions<WorkflowOptions>().Bind(configuration.GetSection(WorkflowOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageTable(WorkflowIndex.TableName);
        services.AddStorageTable(WorkflowIndex.FaultsTableName);
        services.AddSingleton<WorkflowIndex>();
        services.AddSingleton<WorkflowWorkQueue>();
        services.AddSingleton(sp => new WorkflowEngine(
            sp.GetRequiredService<StorageResources>(),
            sp.GetRequiredService<TransactionBatcher>(),
            sp.GetRequiredService<WorkflowIndex>(),
            sp.GetRequiredService<WorkflowWorkQueue>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<IOptions<WorkflowOptions>>(),
            sp.GetServices<WorkflowRegistration>(),
            sp.GetServices<IWorkflowObserver>()));
        services.AddSingleton<WorkflowRunner>(); // its WakeupAlarm is optional; its Random defaults to Random.Shared
        services.AddHostedService(sp => sp.GetRequiredService<WorkflowRunner>());
        services.AddSingleton<WorkflowSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkflowSweeper>());
        services.AddSingleton(sp => new WorkflowSweeps(sp.GetRequiredService<WorkflowSweeper>()));
        return services;
    }

    /// <summary>Registers a workflow definition (a singleton; its constructor may take services).</summary>
    public static IServiceCollection AddWorkflow<TDefinition>(this IServiceCollection services)
        where TDefinition : class, IWorkflowDefinition
    {
        services.TryAddSingleton<TDefinition>();
        services.AddSingleton<IWorkflowDefinition>(sp => sp.GetRequiredService<TDefinition>());
        services.AddSingleton(new WorkflowRegistration(typeof(TDefinition)));
        return services;
    }
}

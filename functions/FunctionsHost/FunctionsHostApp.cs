using Microsoft.Azure.Functions.Worker.Builder;

namespace BusinessApi.FunctionsHost;

/// <summary>
/// Builds the Functions head. The worker's builder gets the application's services through the very method the
/// Kestrel host uses (<see cref="FunctionsApp.AddBusinessApi"/>), so one container holds them once: the HTTP
/// triggers forward into the application's pipeline (<see cref="ApplicationPipeline"/>), and the application's
/// background services (workflow runner and sweeper, timers, wake-ups) run while the worker is alive.
/// </summary>
public static class FunctionsHostApp
{
    public static FunctionsApplicationBuilder CreateBuilder(string[] args, bool includeLocalSettings = true)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.AddBusinessApi(includeLocalSettings);
        builder.Services.AddSingleton<ApplicationPipeline>();
        return builder;
    }
}

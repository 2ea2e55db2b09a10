
namespace BusinessApi.Testing;

/// <summary>
/// The app as tests, benchmarks and the crash-test host build it: the production composition
/// (<see cref="FunctionsApp.Create"/>) plus the test machinery the app itself never carries — the storage
/// call monitor and, with <c>Faults:Enabled=true</c>, its fault injector.
/// </summary>
public static class InstrumentedApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null, bool includeLocalSettings = true) =>
        FunctionsApp.Create(args, builder =>
        {
            builder.Services.AddStorageCallMonitor(builder.Configuration);
            configure?.Invoke(builder);
        }, includeLocalSettings);
}

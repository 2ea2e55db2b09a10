using BusinessApi.Platform.Configuration;
using Microsoft.Extensions.Configuration;

namespace BusinessApi.Tests.Platform;

/// <summary>appsettings.json and local.settings.json Values as configuration, beneath the environment; host.json is the Functions host's, not read.</summary>
public sealed class FunctionsConfigurationTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("config-test-").FullName;

    public FunctionsConfigurationTests()
    {
        File.WriteAllText(Path.Combine(_root, "appsettings.json"), """
            { "Calendar": { "Weekend": "Sunday", "OperationalHours": "10:00-16:00" } }
            """);
        File.WriteAllText(Path.Combine(_root, "host.json"), """
            { "version": "2.0", "extensions": { "http": { "routePrefix": "" } }, "calendar": { "weekend": "Monday" } }
            """);
        File.WriteAllText(Path.Combine(_root, "local.settings.json"), """
            { "IsEncrypted": false,
              "Values": { "Operations__ApiKeys": "from-local-settings", "Calendar:OperationalHours": "08:00-20:00", "Flag": true } }
            """);
        Directory.CreateDirectory(Path.Combine(_root, "functions", "bin"));
    }

    [Fact]
    public void Values_AreFlatKeys_WithDoubleUnderscoreAsSectionSeparator()
    {
        var configuration = Build(includeLocalSettings: true, out var root);

        Assert.Equal("from-local-settings", configuration["Operations:ApiKeys"]);
        Assert.Equal("true", configuration["Flag"]);
        Assert.Equal(_root, root);
    }

    [Fact]
    public void LocalSettings_OverrideAppSettings_TheEnvironmentOverridesBoth()
    {
        var configuration = Build(includeLocalSettings: true, out _, environment: new() { ["Calendar:Weekend"] = "Saturday" });

        Assert.Equal("08:00-20:00", configuration["Calendar:OperationalHours"]);
        Assert.Equal("Saturday", configuration["Calendar:Weekend"]);
    }

    [Fact]
    public void AppSettings_AreFoundFromASubfolder_LocalSettingsCanBeLeftOut_AndHostJsonIsNotRead()
    {
        var configuration = Build(includeLocalSettings: false, out _);

        Assert.Equal("10:00-16:00", configuration["Calendar:OperationalHours"]);
        Assert.Equal("Sunday", configuration["Calendar:Weekend"]);
        Assert.Null(configuration["extensions:http:routePrefix"]);
        Assert.Null(configuration["Operations:ApiKeys"]);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private ConfigurationManager Build(bool includeLocalSettings, out string root, Dictionary<string, string?>? environment = null)
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(environment ?? []);
        root = configuration.AddFunctionsConfiguration(Path.Combine(_root, "functions", "bin"), includeLocalSettings);
        return configuration;
    }
}

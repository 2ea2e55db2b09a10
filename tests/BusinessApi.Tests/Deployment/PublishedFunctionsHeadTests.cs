using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Deployment;

/// <summary>
/// What a Functions deployment ships: <c>dotnet publish</c> of the head, zipped as <c>az functionapp deployment source
/// config-zip</c> takes it. The zip is checked for what the Functions host reads at its root: host.json (routePrefix ""),
/// functions.metadata (the triggers), the worker's config and entry assembly, and the app's own settings; never
/// local.settings.json. No Functions host runs here, so the zip is not started (see docs/functions.md).
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class PublishedFunctionsHeadTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "business-api-functions-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));

    public void Dispose()
    {
        foreach (var path in new[] { _folder, _folder + "-build" })
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }

        File.Delete(_folder + ".zip");
    }

    [Fact]
    public async Task The_head_publishes_to_a_deployable_zip()
    {
        var project = Repository.PathOf("functions", "FunctionsHost", "BusinessApi.FunctionsHost.csproj");
        // Its own artifacts path: the publish must not touch the obj/ and bin/ the rest of the suite runs from.
        var publish = await ChildProcess.RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", _folder,
            "--artifacts-path", _folder + "-build", "-nologo", "-v", "quiet"], TimeSpan.FromMinutes(5),
            new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        Assert.True(publish.ExitCode == 0, publish.Diagnostics);

        ZipFile.CreateFromDirectory(_folder, _folder + ".zip", CompressionLevel.Optimal, includeBaseDirectory: false);
        using var zip = ZipFile.OpenRead(_folder + ".zip");
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        foreach (var required in new[] { "host.json", "functions.metadata", "worker.config.json", "extensions.json", "BusinessApi.FunctionsHost.dll", "BusinessApi.Functions.dll", "appsettings.json" })
        {
            Assert.True(entries.Contains(required), $"{required} is at the zip's root");
        }

        Assert.DoesNotContain(entries, e => e.EndsWith("local.settings.json", StringComparison.Ordinal));

        using (var host = JsonDocument.Parse(zip.GetEntry("host.json")!.Open()))
        {
            Assert.Equal("", host.RootElement.GetProperty("extensions").GetProperty("http").GetProperty("routePrefix").GetString());
        }

        using (var worker = JsonDocument.Parse(zip.GetEntry("worker.config.json")!.Open()))
        {
            Assert.Equal("BusinessApi.FunctionsHost.dll", worker.RootElement.GetProperty("description").GetProperty("defaultWorkerPath").GetString());
        }

        using var metadata = JsonDocument.Parse(zip.GetEntry("functions.metadata")!.Open());
        Assert.Equal(FunctionsHead.FunctionsMetadata.All.Count, metadata.RootElement.GetArrayLength());
        Assert.InRange(new FileInfo(_folder + ".zip").Length, 1_000_000, 200_000_000);
    }
}

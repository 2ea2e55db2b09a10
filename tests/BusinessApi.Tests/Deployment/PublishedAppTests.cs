using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Deployment;

/// <summary>
/// What a deployment ships: <c>dotnet publish</c> of the app, self-contained, started as its own native
/// executable the way the container starts it (settings from the environment, no local.settings.json,
/// Production), against Azurite. It must answer the probes the Container App uses.
/// </summary>
[Collection(HeavyTests.Name)]
public sealed class PublishedAppTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "business-api-publish-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));

    public void Dispose()
    {
        foreach (var folder in new[] { _folder, _folder + "-build" })
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    [Fact]
    public async Task The_published_self_contained_folder_starts_against_Azurite_and_answers_the_probes()
    {
        var project = Path.Combine(BicepCli.InfraDirectory, "..", "functions", "BusinessApi.Functions.csproj");
        var rid = "linux-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
        // Its own artifacts path: the publish must not touch the obj/ and bin/ the rest of the suite runs from.
        var publish = await ChildProcess.RunAsync("dotnet", ["publish", project, "-c", "Release", "-r", rid, "--self-contained", "-o", _folder,
            "--artifacts-path", _folder + "-build", "-nologo", "-v", "quiet"], TimeSpan.FromMinutes(5),
            new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" });
        Assert.True(publish.ExitCode == 0, publish.Diagnostics);
        Assert.True(File.Exists(Path.Combine(_folder, "appsettings.json")), "the app's settings travel with it");
        Assert.False(File.Exists(Path.Combine(_folder, "local.settings.json")), "local settings never ship");
        var executable = Path.Combine(_folder, "BusinessApi.Functions");
        Assert.True(File.Exists(executable), "a self-contained publish has the native launcher");

        var port = ChildProcess.FreePort();
        var start = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        // As in the Container App: environment variables only.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["AzureWebJobsStorage"] = Azurite.ConnectionString;
        start.Environment["Storage__TablePrefix"] = "pub" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        start.Environment["Operations__ApiKeys"] = "ops_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        start.Environment["Secrets__LocalPath"] = Path.Combine(_folder, "secrets", "secrets.json");
        start.Environment["Http__TrustForwardedHeaders"] = "true";
        start.Environment.Remove("DOTNET_ROOT"); // self-contained: it must not need an installed runtime

        using var process = Process.Start(start)!;
        var output = new List<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.Add(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.Add(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var health = await Eventually.GetAsync(async () =>
            {
                Assert.False(process.HasExited, "the app exited: " + string.Join('\n', Lines()));
                try
                {
                    return await client.GetAsync("/healthz");
                }
                catch (HttpRequestException)
                {
                    return null;
                }
            }, r => r?.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(60), "published app healthy");
            Assert.Equal("healthy", JsonDocument.Parse(await health!.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString());

            var ready = await Eventually.GetAsync(() => client.GetAsync("/readyz"), r => r.StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "published app ready");
            Assert.Equal("healthy", JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement.GetProperty("checks").GetProperty("storage").GetProperty("status").GetString()!.ToLowerInvariant());

            // The API itself answers (a problem document, through the ingress' forwarded headers).
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts");
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
            request.Headers.Add("X-Forwarded-Proto", "https");
            var unauthorized = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
            Assert.Equal("application/problem+json", unauthorized.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        // In Production the console log is JSON lines (what Log Analytics ingests), one object per line.
        var lines = Lines().Where(l => l.StartsWith('{')).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());

        List<string> Lines()
        {
            lock (output)
            {
                return [.. output];
            }
        }
    }
}

using System.Reflection;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Deployment;

/// <summary>
/// The Bicep CLI restored from NuGet (<c>Azure.Bicep.CommandLine.linux-x64</c>); its path comes from the
/// package's <c>$(BicepPath)</c>, recorded in this assembly at build time.
/// </summary>
internal static class BicepCli
{
    public static readonly string InfraDirectory = Path.Combine(Repository.Root, "infra");

    /// <summary>Values the parameter files read from the environment at deployment time.</summary>
    public static readonly IReadOnlyDictionary<string, string> DeployEnvironment = new Dictionary<string, string>
    {
        ["BUSINESS_API_IMAGE"] = "contoso.azurecr.io/business-api:1.0.0",
        ["BUSINESS_API_REGISTRY"] = "contoso.azurecr.io",
        ["OPERATORS_AUTHORITY"] = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0",
        ["OPERATORS_AUDIENCE"] = "api://business-api",
    };

    public static string ExecutablePath
    {
        get
        {
            var configured = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .SingleOrDefault(a => a.Key == "BicepPath")?.Value;
            Assert.False(string.IsNullOrEmpty(configured), "the test project must reference Azure.Bicep.CommandLine.linux-x64");
            var path = Path.GetFullPath(configured!.Replace('\\', '/'));
            Assert.True(File.Exists(path), $"Bicep CLI not found at {path}");
            if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute))
            {
                // Some package extractions drop the executable bit.
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
            }

            return path;
        }
    }

    public static Task<ChildProcessResult> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        // No telemetry, no update checks: CI runs offline.
        var variables = new Dictionary<string, string> { ["BICEP_TELEMETRY_ENABLED"] = "false", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            variables[name] = value;
        }

        return ChildProcess.RunAsync(ExecutablePath, arguments, TimeSpan.FromMinutes(2), variables, InfraDirectory);
    }

    public static IEnumerable<string> Files(string pattern) =>
        Directory.EnumerateFiles(InfraDirectory, pattern, SearchOption.AllDirectories).Order(StringComparer.Ordinal);
}

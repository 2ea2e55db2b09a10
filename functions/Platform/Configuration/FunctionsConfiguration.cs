using System.Text.Json;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace BusinessApi.Platform.Configuration;

/// <summary>
/// Reads the app's settings (<c>appsettings.json</c>, one file for both heads, found in the app's folder or above it)
/// and the <c>Values</c> of <c>local.settings.json</c> as configuration, as the Functions host does, beneath environment
/// variables and the command line. <c>host.json</c> holds only the Functions host's own settings; the app does not read it.
/// </summary>
public static class FunctionsConfiguration
{
    public const string AppSettingsFileName = "appsettings.json";
    public const string LocalSettingsFileName = "local.settings.json";

    /// <summary>Adds both files at the lowest precedence and returns the folder that holds them (the app root).</summary>
    public static string AddFunctionsConfiguration(this IConfigurationBuilder configuration, string contentRoot, bool includeLocalSettings)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var appSettings = FindUpwards(AppSettingsFileName, contentRoot, AppContext.BaseDirectory);
        var localSettings = includeLocalSettings ? FindUpwards(LocalSettingsFileName, contentRoot, AppContext.BaseDirectory) : null;
        var index = 0;
        if (appSettings is not null)
        {
            configuration.Sources.Insert(index++, new JsonConfigurationSource
            {
                Path = Path.GetFileName(appSettings),
                FileProvider = new PhysicalFileProvider(Path.GetDirectoryName(appSettings)!),
                Optional = false,
                ReloadOnChange = false,
            });
        }

        if (localSettings is not null)
        {
            configuration.Sources.Insert(index, new LocalSettingsValuesSource(localSettings));
        }

        return Path.GetDirectoryName(localSettings ?? appSettings ?? Path.Combine(contentRoot, AppSettingsFileName))!;
    }

    /// <summary>The first <paramref name="fileName"/> found in any start folder or its ancestors.</summary>
    public static string? FindUpwards(string fileName, params string[] startDirectories)
    {
        ArgumentNullException.ThrowIfNull(startDirectories);
        foreach (var start in startDirectories)
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, fileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private sealed class LocalSettingsValuesSource(string path) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new LocalSettingsValuesProvider(path);
    }

    /// <summary>The flat <c>Values</c> object; <c>Section__Key</c> and <c>Section:Key</c> are both accepted.</summary>
    private sealed class LocalSettingsValuesProvider(string path) : ConfigurationProvider
    {
        public override void Load()
        {
            using var stream = File.OpenRead(path);
            using var document = JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!document.RootElement.TryGetProperty("Values", out var values) || values.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            foreach (var property in values.EnumerateObject())
            {
                var key = property.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
                Data[key] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : property.Value.GetRawText();
            }
        }
    }
}

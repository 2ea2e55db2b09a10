using System.Text.Json;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.FunctionsHead;

/// <summary>One function as the Functions SDK's build wrote it to <c>functions.metadata</c> (what the host indexes).</summary>
public sealed record FunctionEntry(string Name, string EntryPoint, JsonElement Trigger, IReadOnlyList<JsonElement> Bindings)
{
    public string TriggerType => Trigger.GetProperty("type").GetString()!;

    public string? Route => Trigger.TryGetProperty("route", out var route) ? route.GetString() : null;

    public IReadOnlyList<string> Methods => Trigger.TryGetProperty("methods", out var methods)
        ? [.. methods.EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant())]
        : [];

    public string? Property(string name) => Trigger.TryGetProperty(name, out var value) ? value.GetString() : null;
}

/// <summary>The head's build output: <c>functions.metadata</c> and the <c>host.json</c> beside it.</summary>
public static class FunctionsMetadata
{
    private static readonly Lazy<IReadOnlyList<FunctionEntry>> Entries = new(Load);

    /// <summary>The head's output folder in the configuration the tests were built in (bin/Release or bin/Debug).</summary>
    public static string OutputFolder
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            return Repository.PathOf("functions", "FunctionsHost", "bin", configuration, "net10.0");
        }
    }

    public static IReadOnlyList<FunctionEntry> All => Entries.Value;

    public static IEnumerable<FunctionEntry> Http => All.Where(f => f.TriggerType == "httpTrigger");

    private static List<FunctionEntry> Load()
    {
        var path = Path.Combine(OutputFolder, "functions.metadata");
        Assert.True(File.Exists(path), $"The head's build writes {path}");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        return [.. document.RootElement.EnumerateArray().Select(f =>
        {
            var bindings = f.GetProperty("bindings").EnumerateArray().Select(b => b.Clone()).ToList();
            var trigger = bindings.Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            return new FunctionEntry(f.GetProperty("name").GetString()!, f.GetProperty("entryPoint").GetString()!, trigger, bindings);
        })];
    }
}

using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace BusinessApi.Platform.Secrets;

/// <summary>
/// Named secrets with versions: Key Vault in the cloud, a generated local file in development.
/// Callers ask for the current version to sign or hash, and for a named version to verify what was
/// made before a rotation.
/// </summary>
public interface ISecretStore
{
    ValueTask<SecretValue> GetCurrentAsync(string name, CancellationToken cancellationToken);

    ValueTask<SecretValue> GetVersionAsync(string name, string version, CancellationToken cancellationToken);
}

/// <summary>One version of a secret. Its <see cref="ToString"/> never shows the value.</summary>
public sealed class SecretValue(string name, string version, string value)
{
    public string Name { get; } = name;

    public string Version { get; } = version;

    public string Value { get; } = value;

    public override string ToString() => $"{Name}@{Version} (value hidden)";
}

/// <summary>A secret that does not exist in the store (in the cloud: not provisioned in Key Vault).</summary>
public sealed class SecretNotFoundException(string name, string? version)
    : Exception(version is null ? $"Secret '{name}' does not exist in the secret store." : $"Secret '{name}' has no version '{version}'.")
{
    public string SecretName { get; } = name;
}

public static partial class SecretNames
{
    /// <summary>Key Vault's own rule for secret names, applied everywhere so local and cloud agree.</summary>
    public static string Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ValidName().IsMatch(name) ? name : throw new ArgumentException($"'{name}' is not a valid secret name (letters, digits, dashes; 1-127).", nameof(name));
    }

    [GeneratedRegex("^[0-9A-Za-z-]{1,127}$")]
    private static partial Regex ValidName();
}

public sealed class SecretsOptions
{
    public const string Section = "Secrets";

    /// <summary>How long the current version is trusted before asking the store again (rotation latency).</summary>
    [Range(0, 86_400)]
    public int CacheSeconds { get; set; } = 300;

    /// <summary>The local store's file; relative paths are under the app root.</summary>
    public string LocalPath { get; set; } = Path.Combine(".secrets", "local-secrets.json");
}

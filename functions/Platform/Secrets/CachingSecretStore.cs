using System.Collections.Concurrent;
using BusinessApi.Platform.Caching;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Secrets;

/// <summary>
/// Caches the current version of each secret for <see cref="SecretsOptions.CacheSeconds"/> and every
/// named version for good (versions are immutable), so hot paths do not call the store.
/// </summary>
public abstract class CachingSecretStore(TimeProvider time, IOptions<SecretsOptions> options) : ISecretStore
{
    // Safe across instances: a rotation made elsewhere becomes this instance's current version within CacheSeconds;
    // older versions stay valid for verification meanwhile.
    private readonly BoundedCache<string, SecretValue> _current = new(time, capacity: 1000, TimeSpan.FromSeconds(options.Value.CacheSeconds), StringComparer.Ordinal);

    // Versions never change once made, and only versions the store returned are kept (a handful per secret).
    private readonly ConcurrentDictionary<(string, string), SecretValue> _versions = new();

    public async ValueTask<SecretValue> GetCurrentAsync(string name, CancellationToken cancellationToken)
    {
        SecretNames.Validate(name);
        if (_current.TryGet(name, out var cached))
        {
            return cached;
        }

        var secret = await FetchCurrentAsync(name, cancellationToken);
        _current.Set(name, secret);
        _versions.TryAdd((name, secret.Version), secret);
        return secret;
    }

    public async ValueTask<SecretValue> GetVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        SecretNames.Validate(name);
        ArgumentException.ThrowIfNullOrEmpty(version);
        if (_versions.TryGetValue((name, version), out var cached))
        {
            return cached;
        }

        var secret = await FetchVersionAsync(name, version, cancellationToken);
        _versions.TryAdd((name, version), secret);
        return secret;
    }

    /// <summary>Forgets the cached current version of <paramref name="name"/> (after a local rotation).</summary>
    protected void Invalidate(string name) => _current.Remove(name);

    protected abstract Task<SecretValue> FetchCurrentAsync(string name, CancellationToken cancellationToken);

    protected abstract Task<SecretValue> FetchVersionAsync(string name, string version, CancellationToken cancellationToken);
}

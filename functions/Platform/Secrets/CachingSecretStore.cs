using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Secrets;

/// <summary>
/// Caches the current version of each secret for <see cref="SecretsOptions.CacheSeconds"/> and every
/// named version for good (versions are immutable), so hot paths do not call the store.
/// </summary>
public abstract class CachingSecretStore(TimeProvider time, IOptions<SecretsOptions> options) : ISecretStore
{
    private readonly ConcurrentDictionary<string, (SecretValue Secret, DateTimeOffset FetchedAt)> _current = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), SecretValue> _versions = new();
    private readonly TimeSpan _ttl = TimeSpan.FromSeconds(Math.Max(0, options.Value.CacheSeconds));

    public async ValueTask<SecretValue> GetCurrentAsync(string name, CancellationToken cancellationToken)
    {
        SecretNames.Validate(name);
        var now = time.GetUtcNow();
        if (_current.TryGetValue(name, out var cached) && now - cached.FetchedAt < _ttl)
        {
            return cached.Secret;
        }

        var secret = await FetchCurrentAsync(name, cancellationToken);
        _current[name] = (secret, now);
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
    protected void Invalidate(string name) => _current.TryRemove(name, out _);

    protected abstract Task<SecretValue> FetchCurrentAsync(string name, CancellationToken cancellationToken);

    protected abstract Task<SecretValue> FetchVersionAsync(string name, string version, CancellationToken cancellationToken);
}

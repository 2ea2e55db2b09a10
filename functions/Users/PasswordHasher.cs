using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BusinessApi.Platform.Http;
using Microsoft.Extensions.Options;

namespace BusinessApi.Users;

/// <summary>
/// PBKDF2-HMAC-SHA256 with a 16-byte random salt, at OWASP's current strength (600,000 iterations) by
/// default. The stored form names its parameters (<c>pbkdf2-sha256$iterations$salt$hash</c>), so a change
/// of <see cref="UserOptions.PasswordHashIterations"/> applies to new hashes without breaking old ones.
/// Checking a login that does not exist does the same work against a decoy, so timing tells nothing.
/// </summary>
public sealed class PasswordHasher(IOptions<UserOptions> options) : IDisposable
{
    private const string Scheme = "pbkdf2-sha256";
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    private readonly Lazy<string> _decoy = new(() => HashWith("decoy-" + Guid.NewGuid(), Math.Max(1, options.Value.PasswordHashIterations)));

    public int Iterations => Math.Max(1, options.Value.PasswordHashIterations);

    // Hashing is deliberately slow CPU work: at most one per core at a time, the rest wait without holding a
    // thread, so a burst of sign-ins cannot starve every other request of the thread pool. The wait is bounded:
    // past UserOptions.MaxQueuedHashes an anonymous burst is answered 503 at once instead of queueing for ever.
    private readonly SemaphoreSlim _gate = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private int _queued;

    public Task<string> HashAsync(string password, CancellationToken cancellationToken) =>
        GatedAsync(() => Hash(password), cancellationToken);

    public Task<bool> VerifyAsync(string password, string? stored, CancellationToken cancellationToken) =>
        GatedAsync(() => Verify(password, stored), cancellationToken);

    private async Task<T> GatedAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _queued) > Environment.ProcessorCount + Math.Max(0, options.Value.MaxQueuedHashes))
        {
            Interlocked.Decrement(ref _queued);
            throw new ServiceBusyException(TimeSpan.FromSeconds(1));
        }

        try
        {
            await _gate.WaitAsync(cancellationToken);
            try
            {
                return work();
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }
    }

    public void Dispose() => _gate.Dispose();

    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return HashWith(password, Iterations);
    }

    /// <summary>True when <paramref name="password"/> matches <paramref name="stored"/>; a null <paramref name="stored"/> checks a decoy (and is false).</summary>
    public bool Verify(string password, string? stored)
    {
        ArgumentNullException.ThrowIfNull(password);
        var target = stored ?? _decoy.Value;
        var parts = target.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
        {
            return false;
        }

        var salt = Convert.FromBase64String(parts[2]);
        var expected = Convert.FromBase64String(parts[3]);
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected) && stored is not null;
    }

    private static string HashWith(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }
}

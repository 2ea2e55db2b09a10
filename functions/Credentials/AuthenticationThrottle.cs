using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace BusinessApi.Credentials;

/// <summary>
/// Slows and then refuses an address that keeps failing to authenticate: the first
/// <see cref="CredentialOptions.AddressFreeFailures"/> failures cost nothing, each further one locks the
/// address out for twice as long as the last (1 s, 2 s, 4 s, … up to <see cref="CredentialOptions.MaxLockSeconds"/>),
/// and a quiet <see cref="CredentialOptions.FailureMemoryHours"/> forgets it. Successes do not clear it:
/// an attacker holding one valid pair cannot launder guesses at others. Kept per process (like the rate
/// limiter), so N instances allow at most N times as much; the per-Client-ID lock is stored with the pair.
/// </summary>
public sealed class AuthenticationThrottle(TimeProvider time, IOptions<CredentialOptions> options)
{
    public const int MaxTracked = 100_000;
    // Per-address failures seen by this instance (bounded by MaxTracked): a throttle, not a rule of the terms; R-27's lock is in storage.
    private readonly ConcurrentDictionary<string, Entry> _addresses = new(StringComparer.Ordinal);
    private DateTimeOffset _lastPrune = DateTimeOffset.MinValue;

    /// <summary>Where addresses beyond <see cref="MaxTracked"/> are counted together: memory stays bounded under a flood from many addresses.</summary>
    public const string Overflow = "overflow";

    /// <summary>How long <paramref name="address"/> must wait, or null when it may try now.</summary>
    public TimeSpan? RetryAfter(string address)
    {
        var now = time.GetUtcNow();
        var key = Key(address);
        var found = _addresses.TryGetValue(key, out var entry) || (_addresses.Count >= MaxTracked && _addresses.TryGetValue(Overflow, out entry));
        return found && entry!.LockedUntil is { } until && until > now ? until - now : null;
    }

    public void RecordFailure(string address)
    {
        var now = time.GetUtcNow();
        var settings = options.Value;
        var key = Key(address);
        if (_addresses.Count >= MaxTracked && !_addresses.ContainsKey(key))
        {
            // Full: forget what may be forgotten (at most once a second: a scan costs the whole table), and count
            // the rest of the flood together.
            if (now - _lastPrune >= TimeSpan.FromSeconds(1))
            {
                _lastPrune = now;
                Prune(now);
            }

            if (_addresses.Count >= MaxTracked)
            {
                key = Overflow;
            }
        }

        _addresses.AddOrUpdate(key,
            _ => Next(new Entry(0, now, null), now, settings),
            (_, entry) => Next(entry, now, settings));
    }

    /// <summary>The lock after <paramref name="failures"/> consecutive failures with <paramref name="free"/> allowed: null, or 1 s doubling to the cap.</summary>
    public static TimeSpan? LockFor(int failures, int free, int maxLockSeconds)
    {
        if (failures <= free)
        {
            return null;
        }

        var exponent = Math.Min(failures - free - 1, 20);
        return TimeSpan.FromSeconds(Math.Min(1L << exponent, Math.Max(1, maxLockSeconds)));
    }

    private static Entry Next(Entry entry, DateTimeOffset now, CredentialOptions settings)
    {
        var failures = now - entry.LastFailure > TimeSpan.FromHours(settings.FailureMemoryHours) ? 1 : entry.Failures + 1;
        var lockFor = LockFor(failures, settings.AddressFreeFailures, settings.MaxLockSeconds);
        return new Entry(failures, now, lockFor is null ? null : now + lockFor);
    }

    /// <summary>Tracked entries: at most <see cref="MaxTracked"/> and the overflow entry.</summary>
    public int Tracked => _addresses.Count;

    /// <summary>
    /// The key an address is counted under: an IPv6 address by its /64 (one subscriber's whole prefix, which
    /// it can rotate through freely), anything else as given (IPv4 addresses, logins).
    /// </summary>
    public static string Key(string address) =>
        System.Net.IPAddress.TryParse(address, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !ip.IsIPv4MappedToIPv6
            ? new System.Net.IPAddress([.. ip.GetAddressBytes().AsSpan(0, 8), .. new byte[8]]) + "/64"
            : address;

    private void Prune(DateTimeOffset now)
    {
        var memory = TimeSpan.FromHours(options.Value.FailureMemoryHours);
        foreach (var (address, entry) in _addresses)
        {
            if (now - entry.LastFailure > memory || (entry.Failures <= options.Value.AddressFreeFailures && entry.LockedUntil is null))
            {
                _addresses.TryRemove(address, out _);
            }
        }
    }

    private sealed record Entry(int Failures, DateTimeOffset LastFailure, DateTimeOffset? LockedUntil);
}

using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace BusinessApi.Platform.Caching;

/// <summary>
/// The one in-process cache with a time to live (<see cref="FreshReads{TKey, TValue}"/> shares reads among callers
/// that need them fresh as of an instant, and keeps nothing longer): at most <c>capacity</c> entries, each trusted for <c>timeToLive</c> measured on a
/// <see cref="TimeProvider"/>'s monotonic timestamp. When full, expired entries are swept out (at most once a
/// second, so a cache full of live entries costs no scan per miss); if it is still full, a new entry is not kept
/// (the next read goes to storage again) — a bound, never an eviction storm.
/// <para>Every cache of the app is one of these, and says beside its field why serving from it is safe with
/// several instances (what staleness it allows, and what removes an entry early).</para>
/// </summary>
public sealed class BoundedCache<TKey, TValue>
    where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> _entries;
    private readonly ConcurrentDictionary<TKey, Task<TValue?>> _reads;
    private readonly TimeProvider _clock;
    private readonly int _capacity;
    private readonly long _ttlTicks;
    private readonly long _sweepEveryTicks;
    private long _nextSweep;

    public BoundedCache(TimeProvider clock, int capacity, TimeSpan timeToLive, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeToLive, TimeSpan.Zero);
        _clock = clock;
        _capacity = capacity;
        _ttlTicks = (long)(timeToLive.TotalSeconds * clock.TimestampFrequency);
        _sweepEveryTicks = Math.Min(_ttlTicks, clock.TimestampFrequency); // a full cache looks for expired entries at most once a second
        _entries = new ConcurrentDictionary<TKey, Entry>(comparer);
        _reads = new ConcurrentDictionary<TKey, Task<TValue?>>(comparer);
    }

    public int Count => _entries.Count;

    public bool TryGet(TKey key, [MaybeNullWhen(false)] out TValue value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            if (_clock.GetTimestamp() < entry.ExpiresAt)
            {
                value = entry.Value;
                return true;
            }

            _entries.TryRemove(new KeyValuePair<TKey, Entry>(key, entry)); // only this expired entry, not a newer one
        }

        value = default;
        return false;
    }

    /// <summary>
    /// The cached value, or <paramref name="read"/>'s answer, kept when not null. Concurrent misses of one key share
    /// one read (every request may ask: a miss must not become a read per caller).
    /// </summary>
    public async ValueTask<TValue?> GetOrReadAsync(TKey key, Func<TKey, Task<TValue?>> read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (TryGet(key, out var cached))
        {
            return cached;
        }

        var flight = _reads.GetOrAdd(key, async k =>
        {
            var value = await read(k);
            if (value is not null)
            {
                Set(k, value);
            }

            return value;
        });
        try
        {
            return await flight.WaitAsync(cancellationToken);
        }
        finally
        {
            if (flight.IsCompleted)
            {
                _reads.TryRemove(new KeyValuePair<TKey, Task<TValue?>>(key, flight));
            }
        }
    }

    /// <summary>Keeps <paramref name="value"/> for the time to live from now (replacing any entry for the key).</summary>
    public void Set(TKey key, TValue value)
    {
        var now = _clock.GetTimestamp();
        if (_entries.Count >= _capacity && !_entries.ContainsKey(key))
        {
            var due = Interlocked.Read(ref _nextSweep);
            if (now >= due && Interlocked.CompareExchange(ref _nextSweep, now + _sweepEveryTicks, due) == due)
            {
                foreach (var (k, e) in _entries)
                {
                    if (e.ExpiresAt <= now)
                    {
                        _entries.TryRemove(new KeyValuePair<TKey, Entry>(k, e));
                    }
                }
            }

            if (_entries.Count >= _capacity)
            {
                return;
            }
        }

        _entries[key] = new Entry(value, now + _ttlTicks);
    }

    public void Remove(TKey key) => _entries.TryRemove(key, out _);

    public void Clear() => _entries.Clear();

    private sealed record Entry(TValue Value, long ExpiresAt);
}

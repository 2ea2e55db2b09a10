using System.Collections.Concurrent;

namespace BusinessApi.Platform.Caching;

/// <summary>
/// Reads shared by the callers that need a value read <b>after</b> a given instant, and by no one else: a caller who
/// asks with <c>notBefore</c> gets the answer of a read that started later than that instant (joining one in flight,
/// or one finished), or starts a new read. Not a cache with a time to live: a value is never served to a caller whose
/// instant is later than the read's start, so it is as fresh for that caller as a read of its own made at that instant.
/// <para>What it is for: a payment's checks of "reported compromised before receipt" need the state as of the
/// receipt or later, on whichever instance registered the report. Under load, documents received a few milliseconds
/// apart share one read instead of a read each; alone, every document still reads for itself.</para>
/// <para>The instants come from one <see cref="TimeProvider"/>: compare only instants of this process's clock (a
/// caller judging a moment another instance stamped passes its own "now" instead). A value is kept per key until
/// <c>capacity</c> keys are held; then reads started more than <see cref="Horizon"/> ago are dropped.</para>
/// </summary>
public sealed class FreshReads<TKey, TValue>
    where TKey : notnull
{
    /// <summary>How long a finished read is worth keeping once the map is full: only callers older than its start can use it.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<TKey, Read> _latest;
    private readonly Func<TKey, CancellationToken, Task<TValue>> _read;
    private readonly TimeProvider _clock;
    private readonly int _capacity;

    public FreshReads(TimeProvider clock, int capacity, Func<TKey, CancellationToken, Task<TValue>> read, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _clock = clock;
        _capacity = capacity;
        _read = read;
        _latest = new ConcurrentDictionary<TKey, Read>(comparer);
    }

    /// <summary>Reads started so far (one per call that found none fresh enough): what the sharing saved is the callers minus these.</summary>
    public long Reads => Interlocked.Read(ref _reads);

    private long _reads;

    /// <summary>The value as read by a read that started strictly after <paramref name="notBefore"/>.</summary>
    public Task<TValue> GetAsync(TKey key, DateTimeOffset notBefore, CancellationToken cancellationToken)
    {
        var candidate = new Read(_clock.GetUtcNow(), key, this);
        var chosen = _latest.AddOrUpdate(key, candidate, (_, current) => current.Serves(notBefore) ? current : candidate);
        if (ReferenceEquals(chosen, candidate))
        {
            // The shared read does not take this caller's token: another caller may be waiting on it.
            candidate.Start();
            Prune(candidate.StartedAt);
        }

        return chosen.Value.WaitAsync(cancellationToken);
    }

    private void Prune(DateTimeOffset now)
    {
        if (_latest.Count <= _capacity)
        {
            return;
        }

        foreach (var (key, read) in _latest)
        {
            if (now - read.StartedAt > Horizon && read.Value.IsCompleted)
            {
                _latest.TryRemove(new KeyValuePair<TKey, Read>(key, read));
            }
        }
    }

    private sealed class Read(DateTimeOffset startedAt, TKey key, FreshReads<TKey, TValue> owner)
    {
        private readonly TaskCompletionSource<TValue> _value = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public DateTimeOffset StartedAt { get; } = startedAt;

        public Task<TValue> Value => _value.Task;

        /// <summary>Started after the caller's instant (stamped before the read is sent, so never later than it really began), and not failed.</summary>
        public bool Serves(DateTimeOffset notBefore) => StartedAt > notBefore && !Value.IsFaulted && !Value.IsCanceled;

        public void Start()
        {
            Interlocked.Increment(ref owner._reads);
            _ = RunAsync();
        }

        private async Task RunAsync()
        {
            try
            {
                _value.SetResult(await owner._read(key, CancellationToken.None));
            }
            catch (Exception ex)
            {
                // Every caller waiting on it sees the failure; the next caller starts a read of its own.
                owner._latest.TryRemove(new KeyValuePair<TKey, Read>(key, this));
                _value.SetException(ex);
            }
        }
    }
}

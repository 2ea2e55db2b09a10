using System.Collections.Concurrent;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// In-memory timers for waits due within <see cref="WorkflowOptions.InMemoryTimerHorizonSeconds"/>, so they fire on
/// time without waiting for a sweep (W5). Safe across instances: a timer is only a shortcut; the due index
/// in storage is the record every process's sweep recovers from.
/// </summary>
internal sealed class InstanceTimers(TimeProvider time, TimeSpan lease, WorkflowOptions options, WorkflowWorkQueue queue, Func<WorkflowLocation, CancellationToken, Task> run)
{
    // Armed timers of this process; each only runs a step the due index would also run after the lease.
    private readonly ConcurrentDictionary<string, ITimer> _timers = new(StringComparer.Ordinal);

    // Instances whose in-memory timer fired here and whose run is queued or running, with when it fired.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _firing = new(StringComparer.Ordinal);

    /// <summary>Times the wait of an instance due at <paramref name="dueAt"/>, looked at <paramref name="now"/>; waits past the horizon are the sweep's.</summary>
    public void Arm(string instanceId, WorkflowLocation location, DateTimeOffset dueAt, DateTimeOffset now)
    {
        now = time.GetUtcNow() > now ? time.GetUtcNow() : now;
        var delay = dueAt - now;
        if (delay <= TimeSpan.Zero)
        {
            delay = TimeSpan.Zero; // came due while we looked: fire at once
        }

        if (!options.Worker || delay > TimeSpan.FromSeconds(options.InMemoryTimerHorizonSeconds))
        {
            return; // the sweep fires it when due
        }

        if (delay == TimeSpan.Zero)
        {
            // Due already: run now rather than through a timer (a clock that only moves when told to would never fire it).
            Fire(instanceId, location);
            return;
        }

        // A clock may move on another thread and fire the timer before it is filed here: each timer removes only itself,
        // and one that fired before it was filed is taken out again at once (else this process's sweeps would skip the
        // instance for good, thinking it timed it).
        ITimer? timer = null;
        var fired = 0;
        timer = time.CreateTimer(_ =>
        {
            Volatile.Write(ref fired, 1);
            Fire(instanceId, location);
            if (Volatile.Read(ref timer) is { } self && _timers.TryRemove(KeyValuePair.Create(instanceId, self)))
            {
                self.Dispose();
            }
        }, null, delay, Timeout.InfiniteTimeSpan);
        if (_timers.TryRemove(instanceId, out var previous))
        {
            previous.Dispose();
        }

        _timers[instanceId] = timer;
        if (Volatile.Read(ref fired) == 1 && _timers.TryRemove(KeyValuePair.Create(instanceId, timer)))
        {
            timer.Dispose();
        }
    }

    /// <summary>
    /// Whether this process times <paramref name="instanceId"/>'s wait itself (armed, or fired less than a lease
    /// ago): its sweeps then skip the due entry, so one process does not run the same step twice at the
    /// instant it comes due (a webhook would be sent twice). Other processes still recover it after the lease.
    /// </summary>
    public bool TimesItself(string instanceId) =>
        _timers.ContainsKey(instanceId) || (_firing.TryGetValue(instanceId, out var at) && time.GetUtcNow() - at < lease);

    /// <summary>Runs an instance whose wait this process timed; until that run ends, this process' sweeps leave its entry alone.</summary>
    private void Fire(string instanceId, WorkflowLocation location)
    {
        _firing[instanceId] = time.GetUtcNow();
        queue.Enqueue(async (_, ct) =>
        {
            try
            {
                await run(location, ct);
            }
            finally
            {
                _firing.TryRemove(instanceId, out var _);
            }
        });
    }
}

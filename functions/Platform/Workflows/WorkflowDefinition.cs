using System.Text.Json;
using Azure.Data.Tables;

namespace BusinessApi.Platform.Workflows;

/// <summary>
/// A long-running process as a state machine, declared as data: each state has one step and the list of
/// states it may go to — another state, a wait until an instant, a wait for an event, or a terminal state. Steps may run
/// more than once (after a crash or a retry), so their effects use <see cref="StepContext{TData}.EffectId"/>
/// and the helpers in <see cref="Effects"/>; writes in the instance's own partition commit together
/// with the transition.
/// </summary>
/// <typeparam name="TData">The instance's data, stored as JSON with every transition.</typeparam>
public abstract class WorkflowDefinition<TData> : IWorkflowDefinition
    where TData : class
{
    private readonly Dictionary<string, Func<StepContext<TData>, CancellationToken, Task<Transition>>> _steps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _next = new(StringComparer.Ordinal);
    private readonly HashSet<string> _terminals = new(StringComparer.Ordinal);
    private string? _initial;

    protected WorkflowDefinition(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    public string Name { get; }

    public string InitialState => _initial ?? throw new InvalidOperationException($"Workflow '{Name}' declares no step.");

    public IReadOnlyCollection<string> TerminalStates => _terminals;

    /// <summary>
    /// Declares the step run in <paramref name="state"/> and the states it may send an instance to (steps,
    /// its own state for a wait, or terminal states); the first declared state is where instances start.
    /// The engine refuses any other transition, and <see cref="Validate"/> checks the whole graph at start-up.
    /// </summary>
    protected void Step(string state, string[] next, Func<StepContext<TData>, CancellationToken, Task<Transition>> step)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(state);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(step);
        if (!_steps.TryAdd(state, step) || _terminals.Contains(state))
        {
            throw new InvalidOperationException($"Workflow '{Name}' declares state '{state}' twice.");
        }

        _next[state] = next;
        _initial ??= state;
    }

    /// <summary>Declares states in which an instance ends.</summary>
    protected void Terminal(params string[] states)
    {
        foreach (var state in states)
        {
            if (_steps.ContainsKey(state) || !_terminals.Add(state))
            {
                throw new InvalidOperationException($"Workflow '{Name}' declares state '{state}' twice.");
            }
        }
    }

    public bool IsTerminal(string state) => _terminals.Contains(state);

    public bool HasStep(string state) => _steps.ContainsKey(state);

    public bool Allows(string from, string target) => _next.TryGetValue(from, out var next) && next.Contains(target, StringComparer.Ordinal);

    /// <summary>
    /// The declared graph is whole: every target is a declared state, every state is reachable from the
    /// initial one, and an end is reachable from every step. Throws with what is wrong.
    /// </summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (_steps.Count == 0)
        {
            problems.Add("it declares no step");
        }

        if (_terminals.Count == 0)
        {
            problems.Add("it declares no terminal state");
        }

        foreach (var (from, targets) in _next)
        {
            problems.AddRange(targets.Where(t => !_steps.ContainsKey(t) && !_terminals.Contains(t)).Select(t => $"'{from}' goes to undeclared state '{t}'"));
        }

        if (_initial is not null)
        {
            var reached = Reachable([_initial]);
            problems.AddRange(_steps.Keys.Concat(_terminals).Where(s => !reached.Contains(s)).Select(s => $"'{s}' cannot be reached from '{_initial}'"));
        }

        problems.AddRange(_steps.Keys.Where(s => !Reachable([s]).Overlaps(_terminals)).Select(s => $"no terminal state can be reached from '{s}'"));
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"Workflow '{Name}' is not a valid state machine: {string.Join("; ", problems)}.");
        }
    }

    private HashSet<string> Reachable(IEnumerable<string> from)
    {
        var seen = new HashSet<string>(from, StringComparer.Ordinal);
        var work = new Queue<string>(seen);
        while (work.TryDequeue(out var state))
        {
            foreach (var next in _next.GetValueOrDefault(state) ?? [])
            {
                if (seen.Add(next))
                {
                    work.Enqueue(next);
                }
            }
        }

        return seen;
    }

    public string Serialize(object data) => JsonSerializer.Serialize((TData)data, PlatformExtensions.JsonOptions);

    async Task<StepOutcome> IWorkflowDefinition.RunStepAsync(StepInput input, CancellationToken cancellationToken)
    {
        var data = JsonSerializer.Deserialize<TData>(input.Data, PlatformExtensions.JsonOptions)
            ?? throw new InvalidOperationException($"Workflow '{Name}' instance '{input.InstanceId}' has no data.");
        var context = new StepContext<TData>(input, data);
        var transition = await _steps[input.State](context, cancellationToken);
        return new StepOutcome(transition, JsonSerializer.Serialize(context.Data, PlatformExtensions.JsonOptions), context.Writes, context.Messages);
    }
}

/// <summary>What the engine needs of a definition, untyped.</summary>
public interface IWorkflowDefinition
{
    string Name { get; }

    string InitialState { get; }

    bool IsTerminal(string state);

    bool HasStep(string state);

    /// <summary>Whether the step of <paramref name="from"/> declares <paramref name="target"/> among its next states.</summary>
    bool Allows(string from, string target);

    /// <summary>Checks the declared states and transitions as a whole (at start-up).</summary>
    void Validate();

    string Serialize(object data);

    Task<StepOutcome> RunStepAsync(StepInput input, CancellationToken cancellationToken);
}

/// <summary>Where a step sends the instance next.</summary>
public abstract record Transition
{
    private Transition()
    {
    }

    /// <summary>Run the step of <see cref="State"/> now.</summary>
    public sealed record MoveTo(string State) : Transition;

    /// <summary>End in the terminal <see cref="State"/>.</summary>
    public sealed record Complete(string State) : Transition;

    /// <summary>Sleep until <see cref="DueAt"/> (durable: minutes or years), then run <see cref="State"/>.</summary>
    public sealed record WaitUntil(DateTimeOffset DueAt, string State) : Transition;

    /// <summary>Wait for <see cref="EventName"/> until <see cref="TimeoutAt"/>; then run <see cref="OnEvent"/> or <see cref="OnTimeout"/>.</summary>
    public sealed record WaitForEvent(string EventName, DateTimeOffset TimeoutAt, string OnEvent, string OnTimeout) : Transition;
}

/// <summary>What a step sees: the instance, its data (replace it to change it), the clock, and ways to make effects safe.</summary>
public sealed class StepContext<TData>
    where TData : class
{
    private readonly List<TableTransactionAction> _writes = [];
    private readonly List<OutboxMessage> _messages = [];
    private readonly StepInput _input;

    internal StepContext(StepInput input, TData data)
    {
        _input = input;
        Data = data;
    }

    public string InstanceId => _input.InstanceId;

    public string State => _input.State;

    /// <summary>1 on the first try of this step, 2 on the first retry, ...</summary>
    public int Attempt => _input.Attempt;

    /// <summary>The instant the step started (from the engine's TimeProvider).</summary>
    public DateTimeOffset Now => _input.Now;

    /// <summary>The event that ended a <see cref="Transition.WaitForEvent"/> wait, when this step runs because of one.</summary>
    public WorkflowEvent? Event => _input.Event;

    public TData Data { get; set; }

    /// <summary>
    /// What the code that started the instance passed for its first step (<see cref="WorkflowEngine.StartAsync{TData}"/>),
    /// when this is that step running in the starting process; otherwise null, and the step reads what it needs from storage.
    /// </summary>
    public object? StartInput => _input.StartInput;

    /// <summary>
    /// What one part of a step hands to a later part of the same run (bytes already in memory, say), as
    /// <c>HttpContext.Items</c> does for a request. Never stored: a retry or a recovery starts with it empty.
    /// </summary>
    public IDictionary<string, object> Items { get; } = new Dictionary<string, object>(StringComparer.Ordinal);

    internal IReadOnlyList<TableTransactionAction> Writes => _writes;

    internal IReadOnlyList<OutboxMessage> Messages => _messages;

    /// <summary>
    /// A stable id for an effect of this visit of this state: the same when the step is run again
    /// after a crash or a retry, different on a later visit. Use it as the effect's key.
    /// </summary>
    public string EffectId(string name) => $"{InstanceId}:{_input.Sequence}:{State}:{name}";

    /// <summary>A write in the instance's own table and partition, committed atomically with the transition (ETag-checked).</summary>
    public void Write(TableTransactionAction action)
    {
        ArgumentNullException.ThrowIfNull(action);
        _writes.Add(action);
    }

    /// <summary>A message sent after the transition commits (outbox in the same transaction): at least once, with a stable id.</summary>
    public void Send(string topic, string payload)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        _messages.Add(new OutboxMessage(EffectId($"send:{topic}:{_messages.Count}"), topic, payload));
    }

    public Transition GoTo(string state) => new Transition.MoveTo(state);

    public Transition Complete(string terminalState) => new Transition.Complete(terminalState);

    public Transition WaitUntil(DateTimeOffset dueAt, string thenState) => new Transition.WaitUntil(dueAt, thenState);

    public Transition WaitForEvent(string eventName, DateTimeOffset timeoutAt, string onEvent, string onTimeout) =>
        new Transition.WaitForEvent(eventName, timeoutAt, onEvent, onTimeout);
}

public sealed record StepInput(string InstanceId, string State, string Data, int Attempt, long Sequence, DateTimeOffset Now, WorkflowEvent? Event)
{
    /// <summary>See <see cref="StepContext{TData}.StartInput"/>.</summary>
    public object? StartInput { get; init; }
}

public sealed record StepOutcome(Transition Transition, string Data, IReadOnlyList<TableTransactionAction> Writes, IReadOnlyList<OutboxMessage> Messages);

/// <summary>An external event delivered to an instance.</summary>
public sealed record WorkflowEvent(string Name, string? Payload);

/// <summary>A message leaving through the outbox; <see cref="MessageId"/> is stable so receivers can de-duplicate.</summary>
public sealed record OutboxMessage(string MessageId, string Topic, string Payload);

/// <summary>Delivers outbox messages of one topic (a queue, a webhook sender, ...). Must tolerate repeats.</summary>
public interface IOutboxDispatcher
{
    string Topic { get; }

    Task DispatchAsync(OutboxMessage message, CancellationToken cancellationToken);
}

using System.Collections.Concurrent;
using System.Globalization;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.WorkflowHost;

/// <summary>The table the sample workflows keep their instances (and business rows) in.</summary>
public static class Samples
{
    public const string Table = "SampleOrders";
    public const string EffectsTable = "SampleEffects";

    public static WorkflowLocation Location(string instanceId) => new(Table, instanceId, "workflow");

    public static IServiceCollection AddSampleWorkflows(this IServiceCollection services)
    {
        services.AddStorageTable(Table);
        services.AddStorageTable(EffectsTable);
        services.AddWorkflow<ThreeStepWorkflow>();
        services.AddWorkflow<TimerWorkflow>();
        services.AddWorkflow<ApprovalWorkflow>();
        services.AddWorkflow<FlakyWorkflow>();
        services.AddWorkflow<LedgerWorkflow>();
        services.AddSingleton<RecordingDispatcher>();
        services.AddSingleton<IOutboxDispatcher>(sp => sp.GetRequiredService<RecordingDispatcher>());
        services.AddScheduledJob<HeartbeatJob>();
        return services;
    }
}

public sealed record CounterData(int Counter, bool RecordEffects);

/// <summary>Three steps and done; each step may record an idempotent effect and counts in its data.</summary>
public sealed class ThreeStepWorkflow : WorkflowDefinition<CounterData>
{
    public ThreeStepWorkflow(StorageResources storage)
        : base("three-step")
    {
        var effects = storage.Table(Samples.EffectsTable);
        async Task<Transition> Run(StepContext<CounterData> ctx, string next, bool last, CancellationToken ct)
        {
            if (ctx.Data.RecordEffects)
            {
                // Every execution is logged (a new row each time); the effect itself has a stable id.
                await effects.AddEntityAsync(new TableEntity(ctx.InstanceId, $"run|{ctx.State}|{Guid.NewGuid():N}"), ct);
                await effects.InsertIfAbsentAsync(new TableEntity(ctx.InstanceId, $"effect|{ctx.EffectId("work")}"), ct);
            }

            ctx.Data = ctx.Data with { Counter = ctx.Data.Counter + 1 };
            return last ? ctx.Complete(next) : ctx.GoTo(next);
        }

        Step("one", next: ["two"], (ctx, ct) => Run(ctx, "two", false, ct));
        Step("two", next: ["three"], (ctx, ct) => Run(ctx, "three", false, ct));
        Step("three", next: ["done"], (ctx, ct) => Run(ctx, "done", true, ct));
        Terminal("done");
    }
}

public sealed record TimerData(DateTimeOffset WakeAt);

/// <summary>Sleeps until an instant (durable), then finishes.</summary>
public sealed class TimerWorkflow : WorkflowDefinition<TimerData>
{
    public TimerWorkflow()
        : base("timer")
    {
        Step("sleep", next: ["woke"], (ctx, _) => Task.FromResult(ctx.WaitUntil(ctx.Data.WakeAt, "woke")));
        Step("woke", next: ["done"], (ctx, _) => Task.FromResult(ctx.Complete("done")));
        Terminal("done");
    }
}

public sealed record ApprovalData(TimeSpan Timeout, string? Approval);

/// <summary>Waits for an "approved" event with a timeout.</summary>
public sealed class ApprovalWorkflow : WorkflowDefinition<ApprovalData>
{
    public ApprovalWorkflow()
        : base("approval")
    {
        Step("request", next: ["approve", "expire"], (ctx, _) => Task.FromResult(ctx.WaitForEvent("approved", ctx.Now + ctx.Data.Timeout, "approve", "expire")));
        Step("approve", next: ["approved"], (ctx, _) =>
        {
            ctx.Data = ctx.Data with { Approval = ctx.Event?.Payload };
            return Task.FromResult(ctx.Complete("approved"));
        });
        Step("expire", next: ["expired"], (ctx, _) => Task.FromResult(ctx.Complete("expired")));
        Terminal("approved", "expired");
    }
}

public sealed record FlakyData(string Mode);

/// <summary>Fails while its instance id is in <see cref="Failing"/>; "cross-partition" and "add-existing" modes make writes that must be refused.</summary>
public sealed class FlakyWorkflow : WorkflowDefinition<FlakyData>
{
    public FlakyWorkflow()
        : base("flaky")
    {
        Step("work", next: ["done"], (ctx, _) =>
        {
            if (ctx.Data.Mode == "add-existing")
            {
                // Storage refuses this write every time (409: the row exists): a step failure, not a crash.
                ctx.Write(new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(ctx.InstanceId, "order")));
                return Task.FromResult(ctx.Complete("done"));
            }

            if (ctx.Data.Mode == "cross-partition")
            {
                ctx.Write(new TableTransactionAction(TableTransactionActionType.UpsertMerge, new TableEntity("another-partition", "row")));
                return Task.FromResult(ctx.Complete("done"));
            }

            if (Failing.ContainsKey(ctx.InstanceId))
            {
                throw new InvalidOperationException($"Planned failure on try {ctx.Attempt.ToString(CultureInfo.InvariantCulture)}.");
            }

            return Task.FromResult(ctx.Complete("done"));
        });
        Terminal("done");
    }

    public ConcurrentDictionary<string, bool> Failing { get; } = new(StringComparer.Ordinal);
}

public sealed record LedgerData(decimal Amount);

/// <summary>A business row written atomically with the transition, and a message through the outbox.</summary>
public sealed class LedgerWorkflow : WorkflowDefinition<LedgerData>
{
    public LedgerWorkflow()
        : base("ledger")
    {
        Step("post", next: ["posted"], (ctx, _) =>
        {
            ctx.Write(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(ctx.InstanceId, "posting")
            {
                ["Amount"] = ctx.Data.Amount.ToString(CultureInfo.InvariantCulture),
                ["EffectId"] = ctx.EffectId("posting"),
            }));
            ctx.Send(RecordingDispatcher.TopicName, $"posted {ctx.Data.Amount.ToString(CultureInfo.InvariantCulture)}");
            return Task.FromResult(ctx.Complete("posted"));
        });
        Terminal("posted");
    }
}

/// <summary>An outbox dispatcher that remembers what it delivered (by message id, with repeats counted).</summary>
public sealed class RecordingDispatcher : IOutboxDispatcher
{
    public const string TopicName = "sample-notices";

    public string Topic => TopicName;

    public ConcurrentDictionary<string, int> Delivered { get; } = new(StringComparer.Ordinal);

    public Func<OutboxMessage, bool>? FailWhen { get; set; }

    public Task DispatchAsync(OutboxMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (FailWhen?.Invoke(message) == true)
        {
            throw new InvalidOperationException("Planned dispatch failure.");
        }

        Delivered.AddOrUpdate(message.MessageId, 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }
}

/// <summary>A scheduled job that records each run (off unless timers:sample-heartbeat:schedule is set).</summary>
public sealed class HeartbeatJob(StorageResources storage) : IScheduledJob
{
    public string Name => "sample-heartbeat";

    public string DefaultSchedule => "";

    public ConcurrentQueue<ScheduledRun> Runs { get; } = new();

    public Func<ScheduledRun, Task>? OnRun { get; set; }

    public async Task RunAsync(ScheduledRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        Runs.Enqueue(run);
        await storage.Table(Samples.EffectsTable).AddEntityAsync(
            new TableEntity("heartbeat", $"{run.ScheduledFor.UtcTicks.ToString("D19", CultureInfo.InvariantCulture)}|{Guid.NewGuid():N}")
            {
                ["PastDue"] = run.PastDue,
                ["ProcessId"] = Environment.ProcessId,
            }, cancellationToken);
        if (OnRun is not null)
        {
            await OnRun(run);
        }
    }
}

using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;
using Microsoft.Azure.Functions.Worker;

namespace BusinessApi.FunctionsHost;

/// <summary>
/// The engine's wake-up queue (<see cref="WakeupAlarm.QueueName"/>): each durable timer or due-index day puts a message
/// there, invisible until it comes due. On Flex Consumption the platform watches the queue, so a visible message
/// starts a scaled-to-zero app and this trigger runs: it sweeps the due index at once (the background sweeper runs
/// too while the worker lives). A message that surfaced early (a wait past Azure's 7-day cap) is put back for the rest.
/// The message is deleted when this returns; one that keeps failing goes to <c>wakeups-poison</c> after
/// <c>extensions.queues.maxDequeueCount</c> tries, and the due work is still taken by the next sweep.
/// Messages are plain text (<c>extensions.queues.messageEncoding: none</c>), as the alarm writes them.
/// </summary>
public sealed partial class WakeupFunction(WakeupAlarm alarm, WorkflowSweeps sweeps, ILogger<WakeupFunction> logger)
{
    [Function("wakeups")]
    public async Task Run([QueueTrigger(WakeupAlarm.QueueName, Connection = "AzureWebJobsStorage")] string message, CancellationToken cancellationToken)
    {
        if (!await alarm.OnWokenAsync(message, cancellationToken))
        {
            return;
        }

        var taken = await sweeps.SweepNowAsync(cancellationToken);
        LogSwept(logger, message, taken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Woken for {DueAt}: the sweep took {Taken} due entries")]
    private static partial void LogSwept(ILogger logger, string dueAt, int taken);
}

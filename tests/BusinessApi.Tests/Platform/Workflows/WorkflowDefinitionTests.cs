using BusinessApi.Platform.Workflows;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform.Workflows;

/// <summary>Workflows declare their states and transitions as data; a graph that is not whole stops the start-up.</summary>
public sealed class WorkflowDefinitionTests
{
    private sealed record Nothing;

    private sealed class Machine : WorkflowDefinition<Nothing>
    {
        public Machine(params (string State, string[] Next)[] steps)
            : base("machine")
        {
            foreach (var (state, next) in steps)
            {
                Step(state, next, (context, _) => Task.FromResult(context.Complete("done")));
            }

            Terminal("done");
        }
    }

    [Fact]
    public void AWholeGraph_IsValid_AndAllowsOnlyWhatItDeclares()
    {
        var machine = new Machine(("start", ["wait", "done"]), ("wait", ["wait", "done"]));
        machine.Validate();
        Assert.True(machine.Allows("start", "wait"));
        Assert.True(machine.Allows("wait", "wait"));
        Assert.False(machine.Allows("wait", "start"));
        Assert.False(machine.Allows("done", "start"));
    }

    [Theory]
    [InlineData("'start' goes to undeclared state 'elsewhere'")]
    [InlineData("'island' cannot be reached from 'start'")]
    [InlineData("no terminal state can be reached from 'loop'")]
    public void AGraphThatIsNotWhole_IsRefused_SayingWhy(string problem)
    {
        var machine = problem switch
        {
            "'start' goes to undeclared state 'elsewhere'" => new Machine(("start", ["elsewhere", "done"])),
            "'island' cannot be reached from 'start'" => new Machine(("start", ["done"]), ("island", ["done"])),
            _ => new Machine(("start", ["loop", "done"]), ("loop", ["loop"])),
        };
        var failure = Assert.Throws<InvalidOperationException>(machine.Validate);
        Assert.Contains(problem, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryWorkflowOfTheApp_IsWhole()
    {
        // The runner validates them as the app starts; this names each one.
        await using var app = await TestApp.StartAsync();
        var definitions = app.Services.GetServices<IWorkflowDefinition>().ToList();
        Assert.Equal(["four-eyes", "maintenance-broadcast", "notice-delivery", "payment-document", "refund-notice", "service-termination"],
            definitions.Select(d => d.Name).Order(StringComparer.Ordinal));
        Assert.All(definitions, d => d.Validate());
    }
}

using static BusinessApi.Tests.Architecture.DependencyGraph;

namespace BusinessApi.Tests.Architecture;

/// <summary>The layout held by tests: read from the compiled app, and each rule shown to catch a planted violation.</summary>
public sealed class ArchitectureTests
{
    private static readonly Lazy<DependencyGraph> App = new(() => Of(typeof(FunctionsApp).Assembly.Location));

    [Fact]
    public void Platform_UsesNoCapability() =>
        Assert.Empty(ArchitectureRules.PlatformUsingCapabilities(App.Value.Uses));

    [Fact]
    public void Capabilities_FormNoCycle() =>
        Assert.Empty(ArchitectureRules.CapabilityCycles(App.Value.Uses));

    [Fact]
    public void EndpointHandlers_LeaveDeadlinesToTheRulesThatOwnThem() =>
        Assert.Empty(ArchitectureRules.HandlersHoldingDeadlineRules(App.Value));

    [Fact]
    public void TheGraph_SeesHandlersAndWhatTheirStateMachinesCall()
    {
        // The checks are only as good as what the graph sees: an async handler's body lives in a compiler-made type.
        Assert.Contains(("BusinessApi.Documents.DocumentEndpoints", "SubmitAsync"), App.Value.Handlers);
        Assert.Contains(App.Value.Uses, u => u is { From: "BusinessApi.Documents.DocumentIntake", Method: "NewAsync", To: "BusinessApi.Documents.ExecutionDeadlines", Member: "For" });
    }

    [Fact]
    public void APlantedPlatformUseOfACapability_IsCaught() =>
        Assert.Equal(["BusinessApi.Platform.Workflows.WorkflowEngine uses BusinessApi.Documents.Document"],
            ArchitectureRules.PlatformUsingCapabilities([.. App.Value.Uses, new TypeUse("BusinessApi.Platform.Workflows.WorkflowEngine", null, "BusinessApi.Documents.Document", null)]));

    [Fact]
    public void APlantedCycle_IsCaught()
    {
        // Refunds use Documents (a refund names its document); Documents using Refunds closes a loop.
        var cycles = ArchitectureRules.CapabilityCycles([.. App.Value.Uses, new TypeUse("BusinessApi.Documents.DocumentWorkflow", "VerifyAsync", "BusinessApi.Refunds.RefundWorkflow", null)]);
        Assert.Contains("Documents → Refunds → Documents", cycles);
    }

    [Fact]
    public void APlantedDeadlineInAHandler_IsCaught()
    {
        var planted = new TypeUse("BusinessApi.Documents.DocumentEndpoints", "SubmitAsync", ArchitectureRules.CalendarType, "EndOfOperationalDay");
        Assert.Equal(["BusinessApi.Documents.DocumentEndpoints.SubmitAsync calls BankCalendar.EndOfOperationalDay"],
            ArchitectureRules.HandlersHoldingDeadlineRules(App.Value, [.. App.Value.Uses, planted]));
    }
}

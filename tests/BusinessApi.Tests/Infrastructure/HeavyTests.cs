namespace BusinessApi.Tests.Infrastructure;

/// <summary>
/// Tests that load Azurite or the CPU hard (thousands of instances, several processes, a publish, the Bicep
/// CLI) run alone, after the rest, so they never starve the timing of the parallel tests on two cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyTests
{
    public const string Name = "Heavy: alone on Azurite";
}

namespace BusinessApi.Tests.Infrastructure;

/// <summary>Tests that load Azurite hard (thousands of instances, several processes) run alone, after the rest.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyTests
{
    public const string Name = "Heavy: alone on Azurite";
}

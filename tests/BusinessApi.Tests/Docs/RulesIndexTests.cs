using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Docs;

/// <summary>docs/rules.md finds each rule of the terms by its R-id, and stays true as the code moves.</summary>
public sealed class RulesIndexTests
{
    private static readonly string Requirements = File.ReadAllText(Repository.PathOf("docs", "requirements.md"));
    private static readonly string Rules = File.ReadAllText(Repository.PathOf("docs", "rules.md"));

    [Fact]
    public void EveryRequirement_HasARow_WhoseSymbolsAndTestsExist()
    {
        Assert.Equal(42, RulesIndex.RequirementIds(Requirements).Count); // the catalogue as received; a new R-id needs a row
        Assert.Empty(RulesIndex.Problems(Requirements, Rules, typeof(FunctionsApp).Assembly, typeof(RulesIndexTests).Assembly));
    }

    [Fact]
    public void TheRequirementsCopy_IsTheOneTheProjectReceived_WhenItIsAtHand()
    {
        // Beside a checkout of the monorepo the original is ../shared; a lone clone has only the copy.
        var original = Path.Combine(Repository.Root, "..", "shared", "REQUIREMENTS.md");
        if (File.Exists(original))
        {
            Assert.EndsWith(File.ReadAllText(original), Requirements, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AMissingRow_AMissingSymbol_AndAMissingTest_AreEachCaught()
    {
        var planted = Rules
            .Replace("| R-22 |", "| R-99 |", StringComparison.Ordinal) // R-22 loses its row; R-99 is no requirement
            .Replace("`Users.PasswordPolicy.HistoryDepth`", "`Users.PasswordPolicy.HistoryDepthh`", StringComparison.Ordinal)
            .Replace("`UsersTests.ANewPassword_MayNotRepeatTheLast7_TheEighthIsAllowed`", "`UsersTests.NoSuchTest`", StringComparison.Ordinal);
        Assert.Equal(
            ["R-22 has no row", "R-99 is not a requirement", "R-23: no symbol Users.PasswordPolicy.HistoryDepthh", "R-23: no test UsersTests.NoSuchTest"],
            RulesIndex.Problems(Requirements, planted, typeof(FunctionsApp).Assembly, typeof(RulesIndexTests).Assembly));
    }
}

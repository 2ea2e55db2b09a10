using System.Collections;
using System.Globalization;
using System.Resources;
using BusinessApi.Platform;

namespace BusinessApi.Tests.Platform;

/// <summary>Every text exists in Russian, Kazakh and English, with the same placeholders (R-65).</summary>
public sealed class ProblemTextsTests
{
    public static TheoryData<string> ResourceSets => new()
    {
        "BusinessApi.Platform.Http.Resources.ProblemTexts",
        "BusinessApi.Calendar.Resources.CalendarTexts",
        "BusinessApi.Customers.Resources.CustomerTexts",
        "BusinessApi.Accounts.Resources.AccountTexts",
    };

    [Theory]
    [MemberData(nameof(ResourceSets))]
    public void EveryKey_IsTranslated_WithTheSamePlaceholders(string baseName)
    {
        var manager = new ResourceManager(baseName, typeof(PlatformExtensions).Assembly);
        var russian = Entries(manager, CultureInfo.InvariantCulture);
        Assert.NotEmpty(russian);
        foreach (var language in new[] { "kk", "en" })
        {
            var translated = Entries(manager, CultureInfo.GetCultureInfo(language));
            Assert.Equal(russian.Keys.Order(), translated.Keys.Order());
            foreach (var (key, text) in russian)
            {
                Assert.True(Placeholders(text).SetEquals(Placeholders(translated[key])), $"{language}: {key} has other placeholders");
                Assert.NotEqual(text, translated[key]);
            }
        }
    }

    private static Dictionary<string, string> Entries(ResourceManager manager, CultureInfo culture)
    {
        var set = manager.GetResourceSet(culture, createIfNotExists: true, tryParents: false)!;
        return set.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => (string)e.Value!);
    }

    private static HashSet<string> Placeholders(string text) =>
        [.. System.Text.RegularExpressions.Regex.Matches(text, @"\{\d+\}").Select(m => m.Value)];
}

using System.Collections;
using System.Globalization;
using System.Resources;
using BusinessApi.Platform;

namespace BusinessApi.Tests.Platform;

/// <summary>Every text exists in Russian, Kazakh and English, with the same placeholders (R-65).</summary>
public sealed class ProblemTextsTests
{
    private static readonly string[] ResourceNames =
    [
        "BusinessApi.Platform.Http.Resources.ProblemTexts",
        "BusinessApi.Calendar.Resources.CalendarTexts",
        "BusinessApi.Customers.Resources.CustomerTexts",
        "BusinessApi.Accounts.Resources.AccountTexts",
        "BusinessApi.Credentials.Resources.CredentialTexts",
        "BusinessApi.Users.Resources.UserTexts",
        "BusinessApi.Documents.Resources.DocumentTexts",
        "BusinessApi.Notifications.Resources.NotificationTexts",
    ];

    public static TheoryData<string> ResourceSets => [.. ResourceNames];

    [Fact]
    public void EveryProblemType_HasATitleAndDetail_InEveryLanguage()
    {
        var managers = ResourceNames.Select(name => new ResourceManager(name, typeof(PlatformExtensions).Assembly)).ToList();
        var types = typeof(PlatformExtensions).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static))
            .Where(f => f.FieldType == typeof(BusinessApi.Platform.Http.ProblemType))
            .Select(f => ((BusinessApi.Platform.Http.ProblemType)f.GetValue(null)!).Code)
            .Distinct()
            .ToList();
        Assert.Contains("invalid_token", types);
        foreach (var code in types)
        {
            foreach (var culture in new[] { CultureInfo.InvariantCulture, CultureInfo.GetCultureInfo("kk"), CultureInfo.GetCultureInfo("en") })
            {
                Assert.True(managers.Any(m => m.GetString(code + ".title", culture) is { Length: > 0 }), $"{code}.title missing ({culture.Name})");
                Assert.True(managers.Any(m => m.GetString(code + ".detail", culture) is { Length: > 0 }), $"{code}.detail missing ({culture.Name})");
            }
        }
    }

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

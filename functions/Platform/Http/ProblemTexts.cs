using System.Globalization;
using System.Resources;

namespace BusinessApi.Platform.Http;

/// <summary>
/// Localised problem texts from resource files. Each part of the app registers its own resources;
/// keys are <c>{code}.title</c>, <c>{code}.detail</c> and <c>field.{code}</c>.
/// </summary>
public sealed class ProblemTexts(IEnumerable<ProblemTextResources> resources)
{
    private readonly ResourceManager[] _managers = [.. resources.Select(r => r.Manager)];

    public string? Find(string key, CultureInfo culture)
    {
        foreach (var manager in _managers)
        {
            if (manager.GetString(key, culture) is { } text)
            {
                return text;
            }
        }

        return null;
    }

    /// <summary>The text for <paramref name="key"/> with its arguments in the culture's formats, else <paramref name="fallback"/>.</summary>
    public string? Format(string key, CultureInfo culture, IReadOnlyList<object> arguments, string? fallback)
    {
        var template = Find(key, culture);
        if (template is null)
        {
            return fallback;
        }

        return arguments.Count == 0 ? template : string.Format(culture, template, [.. arguments]);
    }
}

/// <summary>A registered resource set of problem texts.</summary>
public sealed record ProblemTextResources(ResourceManager Manager);

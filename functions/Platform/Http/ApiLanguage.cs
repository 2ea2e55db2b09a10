using System.Globalization;
using Microsoft.Net.Http.Headers;

namespace BusinessApi.Platform.Http;

/// <summary>The three languages of the bank's texts; Russian is the default and prevails.</summary>
public enum ApiLanguage
{
    Ru,
    Kk,
    En,
}

public static class ApiLanguages
{
    private static readonly CultureInfo Russian = CultureInfo.GetCultureInfo("ru");
    private static readonly CultureInfo Kazakh = CultureInfo.GetCultureInfo("kk");
    private static readonly CultureInfo English = CultureInfo.GetCultureInfo("en");

    /// <summary>The caller's best-rated supported language from <c>Accept-Language</c>, else Russian.</summary>
    public static ApiLanguage Resolve(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptLanguage, out var ranges))
        {
            return ApiLanguage.Ru;
        }

        ApiLanguage? best = null;
        var bestQuality = 0.0;
        foreach (var range in ranges)
        {
            var quality = range.Quality ?? 1.0;
            if (quality <= bestQuality || FromTag(range.Value.Value) is not { } language)
            {
                continue;
            }

            best = language;
            bestQuality = quality;
        }

        return best ?? ApiLanguage.Ru;
    }

    public static ApiLanguage? FromTag(string? tag)
    {
        if (string.IsNullOrEmpty(tag))
        {
            return null;
        }

        var primary = tag.Split('-', 2)[0].ToUpperInvariant();
        return primary switch
        {
            "RU" or "*" => ApiLanguage.Ru,
            "KK" or "KZ" => ApiLanguage.Kk, // "kz" is a common mislabel for Kazakh
            "EN" => ApiLanguage.En,
            _ => null,
        };
    }

    public static CultureInfo Culture(this ApiLanguage language) => language switch
    {
        ApiLanguage.Kk => Kazakh,
        ApiLanguage.En => English,
        _ => Russian,
    };

    public static string Tag(this ApiLanguage language) => language switch
    {
        ApiLanguage.Kk => "kk",
        ApiLanguage.En => "en",
        _ => "ru",
    };
}

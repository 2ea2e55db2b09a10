using System.Net;
using System.Text;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform;

/// <summary>Every error the platform answers is RFC 9457 with a stable code, in the caller's language.</summary>
public sealed class ProblemDetailsTests(AppFixture fixture) : IClassFixture<AppFixture>
{
    private TestApp App => fixture.App;

    public static TheoryData<string?, string, string> Languages => new()
    {
        { null, "ru", "Не найдено" },
        { "ru-RU", "ru", "Не найдено" },
        { "kk", "kk", "Табылмады" },
        { "kk-KZ", "kk", "Табылмады" },
        { "kz", "kk", "Табылмады" },
        { "en-US", "en", "Not found" },
        { "fr", "ru", "Не найдено" },
    };

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task UnknownRoute_AnyLanguage_Is404ProblemInThatLanguage(string? acceptLanguage, string expectedLanguage, string expectedTitle)
    {
        using var client = App.NewClient(acceptLanguage);

        var response = await client.GetAsync("/api/v1/no-such-thing");

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.NotFound, problem.Status);
        Assert.Equal("not_found", problem.Code);
        Assert.Equal(expectedTitle, problem.Title);
        Assert.Equal(expectedLanguage, problem.ContentLanguage);
        Assert.False(string.IsNullOrEmpty(problem.RequestId));
    }

    [Fact]
    public async Task AcceptLanguage_WithQualities_PicksBestSupported()
    {
        using var client = App.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/nope");
        request.Headers.TryAddWithoutValidation("Accept-Language", "de;q=1.0, en;q=0.8, kk;q=0.9");

        var problem = await Problem.ReadAsync(await client.SendAsync(request));

        Assert.Equal("kk", problem.ContentLanguage);
    }

    [Theory]
    [InlineData("ru", "Метод не поддерживается")]
    [InlineData("kk", "Әдіс қолдау көрсетілмейді")]
    [InlineData("en", "Method not allowed")]
    public async Task WrongMethod_Is405Problem(string language, string title)
    {
        using var client = App.NewClient(language);

        var problem = await Problem.ReadAsync(await client.DeleteAsync("/api/v1/operational-day"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, problem.Status);
        Assert.Equal("method_not_allowed", problem.Code);
        Assert.Equal(title, problem.Title);
    }

    [Theory]
    [InlineData("ru", "Некорректный JSON")]
    [InlineData("kk", "JSON қате")]
    [InlineData("en", "Malformed JSON")]
    public async Task MalformedJson_Is400ProblemNamingThePosition(string language, string title)
    {
        using var client = App.OperatorClient(language);

        var response = await client.PutAsync("/api/v1/ops/calendar/2026", Json("{\"holidays\": [ {\"date\": \"2026-13-45\"} ]}"));

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, problem.Status);
        Assert.Equal("malformed_json", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.Contains("$.holidays[0].date", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TruncatedJson_Is400MalformedJson()
    {
        using var client = App.OperatorClient();

        var problem = await Problem.ReadAsync(await client.PutAsync("/api/v1/ops/calendar/2026", Json("{\"holidays\": [")));

        Assert.Equal("malformed_json", problem.Code);
    }

    [Theory]
    [InlineData("ru", "Обязательное поле.")]
    [InlineData("kk", "Міндетті өріс.")]
    [InlineData("en", "This field is required.")]
    public async Task InvalidModel_Is400ListingEveryBrokenField(string language, string requiredMessage)
    {
        using var client = App.OperatorClient(language);
        var body = """
            { "holidays": [ { "date": "2026-05-01" }, { "name": "x", "date": "2027-01-01" } ],
              "transferredWorkingDays": [ { "date": "2026-11-25", "name": "Wednesday" } ],
              "operationalHours": { "open": "18:00", "close": "09:00" } }
            """;

        var problem = await Problem.ReadAsync(await client.PutAsync("/api/v1/ops/calendar/2026", Json(body)));

        Assert.Equal(HttpStatusCode.BadRequest, problem.Status);
        Assert.Equal("validation_failed", problem.Code);
        var errors = problem.Errors.Select(e => (e.Field, e.Code)).ToHashSet();
        Assert.Equal(
            new HashSet<(string, string)>
            {
                ("holidays[0].name", "required"),
                ("holidays[1].date", "date_outside_year"),
                ("transferredWorkingDays[0].date", "not_a_weekend_day"),
                ("operationalHours", "invalid_hours"),
            },
            errors);
        Assert.Equal(requiredMessage, problem.Errors.Single(e => e.Code == "required").Message);
    }

    [Theory]
    [InlineData("ru", "Неподдерживаемый тип содержимого")]
    [InlineData("kk", "Мазмұн түріне қолдау көрсетілмейді")]
    [InlineData("en", "Unsupported media type")]
    public async Task WrongContentType_Is415Problem(string language, string title)
    {
        using var client = App.OperatorClient(language);

        var response = await client.PutAsync("/api/v1/ops/calendar/2026", new StringContent("holidays", Encoding.UTF8, "text/plain"));

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, problem.Status);
        Assert.Equal("unsupported_media_type", problem.Code);
        Assert.Equal(title, problem.Title);
    }

    [Fact]
    public async Task MissingBody_Is400Problem()
    {
        using var client = App.OperatorClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/ops/calendar/2026");
        request.Content = new ByteArrayContent([]);
        request.Content.Headers.ContentType = new("application/json");

        var problem = await Problem.ReadAsync(await client.SendAsync(request));

        Assert.Equal(HttpStatusCode.BadRequest, problem.Status);
        Assert.Contains(problem.Code, new[] { "bad_request", "malformed_json" });
    }

    [Theory]
    [InlineData("ru", "Требуется аутентификация")]
    [InlineData("kk", "Аутентификация қажет")]
    [InlineData("en", "Authentication required")]
    public async Task OperatorEndpoint_WithoutKey_Is401Problem(string language, string title)
    {
        using var client = App.NewClient(language);

        var response = await client.GetAsync("/api/v1/ops/calendar/2026");

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.Unauthorized, problem.Status);
        Assert.Equal(title, problem.Title);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Fact]
    public async Task RequestId_FromCaller_IsEchoedAndInProblem()
    {
        using var client = App.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/nope");
        request.Headers.Add("X-Request-Id", "client-123.abc");

        var response = await client.SendAsync(request);

        Assert.Equal("client-123.abc", response.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal("client-123.abc", (await Problem.ReadAsync(response)).RequestId);
    }

    [Fact]
    public async Task RequestId_Malformed_IsReplacedWithOurOwn()
    {
        using var client = App.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Request-Id", "bad id with spaces <script>");

        var response = await client.SendAsync(request);

        var id = response.Headers.GetValues("X-Request-Id").Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

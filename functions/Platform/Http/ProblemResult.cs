using Microsoft.AspNetCore.Mvc;

namespace BusinessApi.Platform.Http;

/// <summary>
/// An RFC 9457 answer rendered at execution time in the caller's language, with a stable
/// <c>code</c>, the request id and, for validation, every field error.
/// </summary>
public sealed class ProblemResult(ApiProblem problem) : IResult, IStatusCodeHttpResult
{
    public ApiProblem Problem { get; } = problem;

    public int? StatusCode => Problem.Type.Status;

    public static ProblemResult For(ApiProblem problem) => new(problem);

    public static ProblemResult For(ProblemType type, params object[] detailArguments) => new(ApiProblem.Of(type, detailArguments));

    public Task ExecuteAsync(HttpContext httpContext) => ProblemWriter.WriteAsync(httpContext, Problem);
}

public static class ProblemWriter
{
    public const string ContentType = "application/problem+json";

    public static ProblemDetails Build(HttpContext httpContext, ApiProblem problem)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(problem);
        var texts = httpContext.RequestServices.GetRequiredService<ProblemTexts>();
        var culture = ApiLanguages.Resolve(httpContext.Request).Culture();
        var code = problem.Type.Code;
        var details = new ProblemDetails
        {
            Type = $"urn:business-api:problem:{code}",
            Status = problem.Type.Status,
            Title = texts.Find($"{code}.title", culture) ?? code,
            Detail = texts.Format($"{code}.detail", culture, problem.DetailArguments, fallback: null),
            Instance = httpContext.Request.Path,
        };
        details.Extensions["code"] = code;
        details.Extensions["requestId"] = httpContext.TraceIdentifier;
        if (problem.Errors.Count > 0)
        {
            details.Extensions["errors"] = problem.Errors.Select(error => new FieldErrorBody(
                error.Field,
                error.Code,
                texts.Format($"field.{error.Code}", culture, error.Arguments, fallback: error.Code)!)).ToList();
        }

        foreach (var (key, value) in problem.Extensions)
        {
            details.Extensions[key] = value;
        }

        return details;
    }

    public static async Task WriteAsync(HttpContext httpContext, ApiProblem problem)
    {
        var details = Build(httpContext, problem);
        httpContext.Response.Headers.ContentLanguage = ApiLanguages.Resolve(httpContext.Request).Tag();
        await Results.Problem(details).ExecuteAsync(httpContext);
    }

    private sealed record FieldErrorBody(string Field, string Code, string Message);
}

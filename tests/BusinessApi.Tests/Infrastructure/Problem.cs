using System.Net;
using System.Text.Json;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>A problem-details answer as a client sees it.</summary>
public sealed record Problem(HttpStatusCode Status, string Code, string Title, string? Detail, string? RequestId, string? ContentLanguage, JsonElement Body)
{
    public static async Task<Problem> ReadAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        Assert.Equal((int)response.StatusCode, body.GetProperty("status").GetInt32());
        return new Problem(
            response.StatusCode,
            body.GetProperty("code").GetString()!,
            body.GetProperty("title").GetString()!,
            body.TryGetProperty("detail", out var detail) ? detail.GetString() : null,
            body.TryGetProperty("requestId", out var id) ? id.GetString() : null,
            response.Content.Headers.ContentLanguage.FirstOrDefault(),
            body);
    }

    public IReadOnlyList<(string Field, string Code, string Message)> Errors =>
        Body.TryGetProperty("errors", out var errors)
            ? [.. errors.EnumerateArray().Select(e => (e.GetProperty("field").GetString()!, e.GetProperty("code").GetString()!, e.GetProperty("message").GetString()!))]
            : [];
}

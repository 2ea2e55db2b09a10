using System.Buffers;
using System.Text.Json;
using BusinessApi.Platform.Http;

namespace BusinessApi.Documents.Signatures;

/// <summary>
/// The body every signed request shares, <c>{"cms": "&lt;base64 CMS SignedData&gt;"}</c>: read within a size limit,
/// its base64 and its CMS structure checked. Nothing is verified here; that is the signature verifier's.
/// </summary>
public static class SignedEnvelope
{
    /// <summary>The decoded CMS, or the 400/413 to answer; <paramref name="missing"/> answers a body without <c>cms</c>.</summary>
    public static async Task<(byte[] Cms, SignedMessage? Decoded, ProblemResult? Problem)> ReadAsync(
        HttpRequest request, int maxCms, Func<ProblemResult> missing, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(missing);
        var body = await ReadBodyAsync(request, MaxBodyBytes(maxCms), cancellationToken);
        return body is null ? ([], null, ProblemResult.For(DocumentProblems.DocumentTooLarge, maxCms)) : Decode(body, maxCms, missing);
    }

    /// <summary>The body of a request that may carry a CMS, within the size a CMS of <paramref name="maxCms"/> bytes needs; null when larger.</summary>
    public static Task<byte[]?> ReadSignedBodyAsync(HttpRequest request, int maxCms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ReadBodyAsync(request, MaxBodyBytes(maxCms), cancellationToken);
    }

    /// <summary>The CMS of a body already read (<see cref="ReadSignedBodyAsync"/>), or the 400/413 to answer.</summary>
    public static (byte[] Cms, SignedMessage? Decoded, ProblemResult? Problem) Decode(byte[] body, int maxCms, Func<ProblemResult> missing)
    {
        ArgumentNullException.ThrowIfNull(missing);
        string? text;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind != JsonValueKind.Object)
            {
                return ([], null, ProblemResult.For(PlatformProblems.MalformedJson, "$"));
            }

            text = json.RootElement.TryGetProperty("cms", out var cms) && cms.ValueKind == JsonValueKind.String ? cms.GetString() : null;
        }
        catch (JsonException)
        {
            return ([], null, ProblemResult.For(PlatformProblems.MalformedJson, "$"));
        }

        if (string.IsNullOrEmpty(text))
        {
            return ([], null, missing());
        }

        var bytes = new byte[(text.Length / 4 * 3) + 3];
        if (!Convert.TryFromBase64String(text, bytes, out var length))
        {
            return ([], null, Invalid("cms", "cms_not_base64"));
        }

        if (length > maxCms)
        {
            return ([], null, ProblemResult.For(DocumentProblems.DocumentTooLarge, maxCms));
        }

        var cmsBytes = bytes.AsSpan(0, length).ToArray();
        return SignedMessage.TryParse(cmsBytes) is { } decoded ? (cmsBytes, decoded, null) : ([], null, Invalid("cms", "cms_malformed"));
    }

    public static ProblemResult Invalid(string field, string code) =>
        ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError(field, code)] });

    /// <summary>The base64 of <paramref name="maxCms"/> bytes and room for the JSON around it.</summary>
    private static int MaxBodyBytes(int maxCms) => (((maxCms + 2) / 3) * 4) + 1024;

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>(Math.Min(limit, 16_384));
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }
}

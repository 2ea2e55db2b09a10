using System.Buffers.Text;
using System.Text;

namespace BusinessApi.Platform.Http;

/// <summary>
/// List paging for every endpoint: a page size within bounds and an opaque continuation token
/// (the storage continuation, base64url-encoded so it travels safely in a query string).
/// </summary>
public static class Paging
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>Checks <c>pageSize</c> and <c>continuation</c>, adding field errors; gives the size and the storage token.</summary>
    public static (int PageSize, string? Continuation) Read(ValidationErrors errors, int? pageSize, string? continuation)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var size = pageSize ?? DefaultPageSize;
        if (size is < 1 or > MaxPageSize)
        {
            errors.Add("pageSize", "out_of_range", 1, MaxPageSize);
        }

        if (continuation is not { Length: > 0 })
        {
            return (size, null);
        }

        // TryDecodeFromChars throws (rather than answering false) on characters outside the alphabet.
        var buffer = new byte[Base64Url.GetMaxDecodedLength(continuation.Length)];
        if (!Base64Url.IsValid(continuation) || !Base64Url.TryDecodeFromChars(continuation, buffer, out var written))
        {
            errors.Add("continuation", "invalid_value");
            return (size, null);
        }

        return (size, Encoding.UTF8.GetString(buffer, 0, written));
    }

    /// <summary>The token to hand to the client for the next page, or null at the end.</summary>
    public static string? Continuation(string? storageToken) =>
        storageToken is null ? null : Base64Url.EncodeToString(Encoding.UTF8.GetBytes(storageToken));
}

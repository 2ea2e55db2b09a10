namespace BusinessApi.Platform.Http;

/// <summary>A kind of error: a stable machine code clients branch on, and its HTTP status.</summary>
public sealed record ProblemType(string Code, int Status);

/// <summary>One error to answer with: its type, arguments for the detail text, field errors, extra members.</summary>
public sealed record ApiProblem(ProblemType Type)
{
    public IReadOnlyList<object> DetailArguments { get; init; } = [];

    public IReadOnlyList<FieldError> Errors { get; init; } = [];

    public IReadOnlyDictionary<string, object?> Extensions { get; init; } = new Dictionary<string, object?>();

    public static ApiProblem Of(ProblemType type, params object[] detailArguments) => new(type) { DetailArguments = detailArguments };
}

/// <summary>The platform's own problem types; capabilities declare theirs beside their endpoints.</summary>
public static class PlatformProblems
{
    public static readonly ProblemType BadRequest = new("bad_request", StatusCodes.Status400BadRequest);
    public static readonly ProblemType MalformedJson = new("malformed_json", StatusCodes.Status400BadRequest);
    public static readonly ProblemType ValidationFailed = new("validation_failed", StatusCodes.Status400BadRequest);
    public static readonly ProblemType IdempotencyKeyRequired = new("idempotency_key_required", StatusCodes.Status400BadRequest);
    public static readonly ProblemType IdempotencyKeyInvalid = new("idempotency_key_invalid", StatusCodes.Status400BadRequest);
    public static readonly ProblemType Unauthorized = new("unauthorized", StatusCodes.Status401Unauthorized);
    public static readonly ProblemType Forbidden = new("forbidden", StatusCodes.Status403Forbidden);
    public static readonly ProblemType NotFound = new("not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType MethodNotAllowed = new("method_not_allowed", StatusCodes.Status405MethodNotAllowed);
    public static readonly ProblemType NotAcceptable = new("not_acceptable", StatusCodes.Status406NotAcceptable);
    public static readonly ProblemType IdempotencyInFlight = new("idempotency_in_flight", StatusCodes.Status409Conflict);
    public static readonly ProblemType PayloadTooLarge = new("payload_too_large", StatusCodes.Status413PayloadTooLarge);
    public static readonly ProblemType UriTooLong = new("uri_too_long", StatusCodes.Status414UriTooLong);
    public static readonly ProblemType HeadersTooLarge = new("headers_too_large", StatusCodes.Status431RequestHeaderFieldsTooLarge);
    public static readonly ProblemType UnsupportedMediaType = new("unsupported_media_type", StatusCodes.Status415UnsupportedMediaType);
    public static readonly ProblemType IdempotencyKeyMismatch = new("idempotency_key_mismatch", StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType RateLimited = new("rate_limited", StatusCodes.Status429TooManyRequests);
    public static readonly ProblemType InternalError = new("internal_error", StatusCodes.Status500InternalServerError);
    public static readonly ProblemType StorageUnavailable = new("storage_unavailable", StatusCodes.Status503ServiceUnavailable);
    public static readonly ProblemType ServiceBusy = new("service_busy", StatusCodes.Status503ServiceUnavailable);
    public static readonly ProblemType HttpError = new("http_error", StatusCodes.Status400BadRequest);

    /// <summary>The problem for a bare status code set by the framework (routing, auth).</summary>
    public static ProblemType ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        413 => PayloadTooLarge,
        414 => UriTooLong,
        431 => HeadersTooLarge,
        415 => UnsupportedMediaType,
        429 => RateLimited,
        500 => InternalError,
        503 => StorageUnavailable,
        _ => HttpError with { Status = status },
    };
}

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Http.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> for POSTs. The key (scoped to the caller) is claimed with one conditional
/// insert — never "read, then insert" — so of concurrent requests exactly one runs. Its answer is
/// stored and replayed byte for byte; the same key with another body is 422; a key whose first
/// request is still running is 409. Answers of 5xx and 400 (nothing happened) free the key again.
/// </summary>
public sealed partial class IdempotencyMiddleware(
    RequestDelegate next,
    StorageResources storage,
    TimeProvider time,
    IOptions<IdempotencyOptions> options,
    ILogger<IdempotencyMiddleware> logger)
{
    public const string HeaderName = "Idempotency-Key";
    public const string ReplayedHeaderName = "Idempotent-Replayed";
    public const string TableName = "IdempotencyKeys";

    private static readonly HashSet<string> HeadersNotReplayed = new(StringComparer.OrdinalIgnoreCase)
    {
        "Date", "Server", "Transfer-Encoding", "Content-Length", "Connection", "Set-Cookie", RequestIdMiddleware.HeaderName,
    };

    private readonly TableClient _table = storage.Table(TableName);
    private readonly TableClient _expiry = storage.Table(IdempotencyPurgeJob.ExpiryTable);

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<IdempotentEndpoint>();
        if (metadata is null || !HttpMethods.IsPost(context.Request.Method))
        {
            await next(context);
            return;
        }

        var key = context.Request.Headers[HeaderName].ToString();
        if (key.Length == 0)
        {
            if (metadata.KeyRequired)
            {
                await ProblemWriter.WriteAsync(context, new ApiProblem(PlatformProblems.IdempotencyKeyRequired));
                return;
            }

            await next(context);
            return;
        }

        if (key.Length > 255 || !key.All(c => c is > ' ' and <= '~'))
        {
            await ProblemWriter.WriteAsync(context, new ApiProblem(PlatformProblems.IdempotencyKeyInvalid));
            return;
        }

        var requestHash = await HashRequestAsync(context.Request, context.RequestAborted);
        var partition = PartitionFor(context.User, key);
        var claim = await ClaimAsync(partition, requestHash, context.RequestAborted);
        switch (claim.Outcome)
        {
            case ClaimOutcome.Replay:
                await ReplayAsync(context, claim.Existing!, claim.Body!);
                return;
            case ClaimOutcome.Mismatch:
                await ProblemWriter.WriteAsync(context, new ApiProblem(PlatformProblems.IdempotencyKeyMismatch));
                return;
            case ClaimOutcome.InFlight:
                context.Response.Headers.RetryAfter = "1";
                await ProblemWriter.WriteAsync(context, new ApiProblem(PlatformProblems.IdempotencyInFlight));
                return;
        }

        await RunAndStoreAsync(context, claim.Existing!);
    }

    private async Task RunAndStoreAsync(HttpContext context, IdempotencyRecord claimed)
    {
        var original = context.Response.Body;
        await using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        var stored = false;
        try
        {
            await next(context);
            var status = context.Response.StatusCode;
            var body = buffer.ToArray();
            if (status is < 500 and not StatusCodes.Status400BadRequest && body.Length <= IdempotencyRecord.MaxBodyBytes)
            {
                stored = await CompleteAsync(context, claimed, status, body);
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!stored)
            {
                await ReleaseAsync(claimed);
            }
        }

        buffer.Position = 0;
        await buffer.CopyToAsync(original, context.RequestAborted);
    }

    private async Task<bool> CompleteAsync(HttpContext context, IdempotencyRecord claimed, int status, byte[] body)
    {
        var headers = context.Response.Headers
            .Where(h => !HeadersNotReplayed.Contains(h.Key))
            .ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        claimed.State = IdempotencyRecord.Completed;
        claimed.StatusCode = status;
        claimed.Headers = JsonSerializer.Serialize(headers);
        try
        {
            // The answer is stored before it is sent, so a retry after a lost answer is replayed.
            await _table.UpdateEntityAsync(IdempotencyRecord.ToEntity(claimed, body), claimed.ETag, TableUpdateMode.Replace, CancellationToken.None);
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            // Our lease ran out and another request took the key over; its answer will be the stored one.
            LogLeaseLost(logger);
            return true;
        }
    }

    private async Task ReleaseAsync(IdempotencyRecord claimed)
    {
        try
        {
            await _table.DeleteEntityAsync(claimed.PartitionKey, claimed.RowKey, claimed.ETag, CancellationToken.None);
        }
        catch (RequestFailedException ex)
        {
            // The lease expires by itself; a retry after it takes the key over.
            LogReleaseFailed(logger, ex.Status);
        }
    }

    private async Task<Claim> ClaimAsync(string partition, string requestHash, CancellationToken cancellationToken)
    {
        // A record that vanishes between our steps (released by a failed request, or purged after expiry)
        // leaves the key free: claim it afresh rather than report it busy.
        for (var attempt = 1; ; attempt++)
        {
            var claim = await TryClaimAsync(partition, requestHash, cancellationToken);
            if (claim is not null || attempt == 3)
            {
                return claim ?? new Claim(ClaimOutcome.InFlight, null, null);
            }
        }
    }

    /// <summary>One attempt; null when the record vanished mid-way.</summary>
    private async Task<Claim?> TryClaimAsync(string partition, string requestHash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var record = new IdempotencyRecord
        {
            PartitionKey = partition,
            RowKey = "",
            RequestHash = requestHash,
            LeaseUntil = now.AddSeconds(options.Value.InFlightLeaseSeconds),
            ExpiresAt = now.AddHours(Math.Max(24, options.Value.RetentionHours)),
        };
        try
        {
            // The expiry-index entry goes in beside the claim, so the purge job never has to scan records.
            var indexed = IndexExpiryAsync(partition, record.ExpiresAt, cancellationToken);
            var added = await _table.AddEntityAsync(IdempotencyRecord.ToEntity(record, body: null), cancellationToken);
            await indexed;
            record.ETag = added.Headers.ETag ?? ETag.All;
            return new Claim(ClaimOutcome.Claimed, record, null);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
            // Someone holds or held this key: decide from what they left.
        }

        TableEntity entity;
        try
        {
            entity = (await _table.GetEntityAsync<TableEntity>(partition, "", cancellationToken: cancellationToken)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound)
        {
            return null;
        }

        var (existing, body) = IdempotencyRecord.FromEntity(entity);
        var expired = existing.ExpiresAt <= now;
        var abandoned = existing.State == IdempotencyRecord.InFlight && existing.LeaseUntil <= now;
        if (!expired && !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(existing.RequestHash), Encoding.ASCII.GetBytes(requestHash)))
        {
            return new Claim(ClaimOutcome.Mismatch, existing, null);
        }

        if (!expired && existing.State == IdempotencyRecord.Completed)
        {
            return new Claim(ClaimOutcome.Replay, existing, body);
        }

        if (!expired && !abandoned)
        {
            return new Claim(ClaimOutcome.InFlight, existing, null);
        }

        try
        {
            await IndexExpiryAsync(partition, record.ExpiresAt, cancellationToken);
            var taken = await _table.UpdateEntityAsync(IdempotencyRecord.ToEntity(record, body: null), existing.ETag, TableUpdateMode.Replace, cancellationToken);
            record.ETag = taken.Headers.ETag ?? ETag.All;
            return new Claim(ClaimOutcome.Claimed, record, null);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status412PreconditionFailed)
        {
            return new Claim(ClaimOutcome.InFlight, existing, null); // another request took it over first
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    /// <summary>A missing index entry only delays the purge of one record; it never fails the request.</summary>
    private async Task IndexExpiryAsync(string partition, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        try
        {
            await _expiry.UpsertEntityAsync(IdempotencyPurgeJob.IndexEntry(partition, expiresAt), TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            LogIndexFailed(logger, ex.Status);
        }
    }

    private static async Task ReplayAsync(HttpContext context, IdempotencyRecord record, byte[] body)
    {
        context.Response.StatusCode = record.StatusCode;
        if (record.Headers is not null)
        {
            foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(record.Headers) ?? [])
            {
                context.Response.Headers[name] = value;
            }
        }

        context.Response.Headers[ReplayedHeaderName] = "true";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static async Task<string> HashRequestAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // The body is read once here (within the request size limit) and rewound for the endpoint.
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}\n{request.QueryString}\n"));
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        request.Body.Position = 0;
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string PartitionFor(ClaimsPrincipal user, string key)
    {
        // Keys are the caller's own namespace: two clients may use the same key without meeting.
        var caller = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{caller}\n{key}")));
    }

    private enum ClaimOutcome
    {
        Claimed,
        Replay,
        Mismatch,
        InFlight,
    }

    private sealed record Claim(ClaimOutcome Outcome, IdempotencyRecord? Existing, byte[]? Body);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An idempotent request outlived its lease and another took its key over")]
    private static partial void LogLeaseLost(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not index an idempotency key for purging (status {Status}); the record stays until removed by hand")]
    private static partial void LogIndexFailed(ILogger logger, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release an idempotency key (status {Status}); it frees itself when its lease ends")]
    private static partial void LogReleaseFailed(ILogger logger, int status);
}

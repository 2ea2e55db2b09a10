using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform;

/// <summary>Idempotency-Key: one effect per key, first answer replayed byte for byte, misuse answered clearly.</summary>
public sealed class IdempotencyTests : IAsyncLifetime
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failuresLeft;
    private TestApp _app = null!;
    private TableClient _effects = null!;

    public async Task InitializeAsync()
    {
        // The background purge is off here: tests that need it run it themselves, at the moment they choose.
        _app = await TestApp.StartAsync(new Dictionary<string, string> { ["Timers:idempotency-purge:Schedule"] = "" }, map: app =>
        {
            app.MapPost("/test/effects", (EffectRequest request, HttpContext context) => RecordEffectAsync(request, context)).WithIdempotency();
            app.MapPost("/test/optional", (EffectRequest request, HttpContext context) => RecordEffectAsync(request, context)).WithIdempotency(required: false);
            app.MapPost("/test/slow", async (EffectRequest request, HttpContext context) =>
            {
                await _gate.Task;
                return await RecordEffectAsync(request, context);
            }).WithIdempotency();
            app.MapPost("/test/flaky", async (EffectRequest request, HttpContext context) =>
            {
                if (Interlocked.Decrement(ref _failuresLeft) >= 0)
                {
                    throw new InvalidOperationException("transient");
                }

                return await RecordEffectAsync(request, context);
            }).WithIdempotency();
        });
        _effects = Azurite.Table(_app.TablePrefix, "Effects");
        await _effects.CreateIfNotExistsAsync();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task SameKeySameBody_ReplaysFirstAnswerByteForByte_WithOneEffect()
    {
        var first = await PostAsync("/test/effects", "key-1", "alpha");
        var second = await PostAsync("/test/effects", "key-1", "alpha");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.Equal(first.Content.Headers.ContentType, second.Content.Headers.ContentType);
        Assert.False(first.Headers.Contains(IdempotencyMiddleware.ReplayedHeaderName));
        Assert.Equal("true", second.Headers.GetValues(IdempotencyMiddleware.ReplayedHeaderName).Single());
        Assert.Equal(1, await CountEffectsAsync());
    }

    [Theory]
    [InlineData("ru", "Ключ идемпотентности уже использован")]
    [InlineData("kk", "Идемпотенттілік кілті бұрын пайдаланылған")]
    [InlineData("en", "Idempotency key reused")]
    public async Task SameKeyDifferentBody_Is422_AndChangesNothing(string language, string title)
    {
        await PostAsync("/test/effects", "key-2", "alpha");

        var response = await PostAsync("/test/effects", "key-2", "beta", language);

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, problem.Status);
        Assert.Equal("idempotency_key_mismatch", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.Equal(1, await CountEffectsAsync());
    }

    [Fact]
    public async Task SameKeyOnAnotherEndpoint_Is422()
    {
        await PostAsync("/test/effects", "key-3", "alpha");

        var response = await PostAsync("/test/optional", "key-3", "alpha");

        Assert.Equal("idempotency_key_mismatch", (await Problem.ReadAsync(response)).Code);
    }

    [Theory]
    [InlineData("ru", "Запрос с этим ключом ещё выполняется")]
    [InlineData("kk", "Осы кілтпен сұрау әлі орындалуда")]
    [InlineData("en", "Request with this key still in progress")]
    public async Task SameKeyWhileFirstInFlight_Is409WithRetryAfter_ThenReplays(string language, string title)
    {
        var first = PostAsync("/test/slow", "key-4", "alpha");
        await WaitUntilClaimedAsync();

        var concurrent = await PostAsync("/test/slow", "key-4", "alpha", language);
        _gate.SetResult();
        var firstResponse = await first;
        var later = await PostAsync("/test/slow", "key-4", "alpha");

        var problem = await Problem.ReadAsync(concurrent);
        Assert.Equal(HttpStatusCode.Conflict, problem.Status);
        Assert.Equal("idempotency_in_flight", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.NotNull(concurrent.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.Created, firstResponse.StatusCode);
        Assert.Equal(await firstResponse.Content.ReadAsStringAsync(), await later.Content.ReadAsStringAsync());
        Assert.Equal(1, await CountEffectsAsync());
    }

    [Fact]
    public async Task ConcurrentRequestsWithSameKey_HaveExactlyOneEffect()
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => PostAsync("/test/effects", "key-5", "alpha")));

        Assert.Equal(1, await CountEffectsAsync());
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var bodies = await Task.WhenAll(responses.Where(r => r.StatusCode == HttpStatusCode.Created).Select(r => r.Content.ReadAsStringAsync()));
        Assert.NotEmpty(bodies);
        Assert.Single(bodies.Distinct());
    }

    [Theory]
    [InlineData("ru", "Требуется ключ идемпотентности")]
    [InlineData("kk", "Идемпотенттілік кілті қажет")]
    [InlineData("en", "Idempotency key required")]
    public async Task MissingRequiredKey_Is400_AndNothingHappens(string language, string title)
    {
        var response = await PostAsync("/test/effects", key: null, "alpha", language);

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, problem.Status);
        Assert.Equal("idempotency_key_required", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.Equal(0, await CountEffectsAsync());
    }

    [Fact]
    public async Task OptionalKeyAbsent_RunsEveryTime()
    {
        await PostAsync("/test/optional", key: null, "alpha");
        await PostAsync("/test/optional", key: null, "alpha");

        Assert.Equal(2, await CountEffectsAsync());
    }

    [Theory]
    [InlineData("ru")]
    [InlineData("kk")]
    [InlineData("en")]
    public async Task OverlongKey_Is400Invalid(string language)
    {
        var response = await PostAsync("/test/effects", new string('k', 256), "alpha", language);

        var problem = await Problem.ReadAsync(response);
        Assert.Equal("idempotency_key_invalid", problem.Code);
        Assert.Equal(language, problem.ContentLanguage);
    }

    [Fact]
    public async Task ServerError_FreesTheKey_SoARetryRuns()
    {
        _failuresLeft = 1;

        var failed = await PostAsync("/test/flaky", "key-6", "alpha");
        var retried = await PostAsync("/test/flaky", "key-6", "alpha");

        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
        Assert.Equal(1, await CountEffectsAsync());
    }

    [Fact]
    public async Task KeyAbandonedByCrashedProcess_IsTakenOverAfterItsLease()
    {
        // What a process killed mid-request leaves behind: a claim whose lease runs out.
        var table = Azurite.Table(_app.TablePrefix, IdempotencyMiddleware.TableName);
        var partition = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("anonymous\nkey-7")));
        var requestHash = await RequestHashAsync("/test/effects", "alpha");
        await table.AddEntityAsync(new TableEntity(partition, "")
        {
            ["State"] = "inFlight",
            ["RequestHash"] = requestHash,
            ["LeaseUntil"] = _app.Time.GetUtcNow().AddSeconds(60),
            ["ExpiresAt"] = _app.Time.GetUtcNow().AddHours(48),
        });

        var duringLease = await PostAsync("/test/effects", "key-7", "alpha");
        _app.Time.Advance(TimeSpan.FromSeconds(61));
        var afterLease = await PostAsync("/test/effects", "key-7", "alpha");

        Assert.Equal(HttpStatusCode.Conflict, duringLease.StatusCode);
        Assert.Equal(HttpStatusCode.Created, afterLease.StatusCode);
        Assert.Equal(1, await CountEffectsAsync());
    }

    [Fact]
    public async Task KeyPastRetention_IsFreshAgain()
    {
        await PostAsync("/test/effects", "key-8", "alpha");
        _app.Time.Advance(TimeSpan.FromHours(47));
        var withinRetention = await PostAsync("/test/effects", "key-8", "beta");
        _app.Time.Advance(TimeSpan.FromHours(2));
        var afterRetention = await PostAsync("/test/effects", "key-8", "beta");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, withinRetention.StatusCode);
        Assert.Equal(HttpStatusCode.Created, afterRetention.StatusCode);
        Assert.Equal(2, await CountEffectsAsync());
    }

    [Fact]
    public async Task PurgeJob_DeletesOnlyExpiredRecords_ReadingOnlyTheExpiryIndex()
    {
        await PostAsync("/test/effects", "old-key", "alpha");
        _app.Time.Advance(TimeSpan.FromHours(30));
        await PostAsync("/test/effects", "young-key", "alpha");
        _app.Time.Advance(TimeSpan.FromHours(20)); // old-key is 50 h old (retention 48 h), young-key 20 h
        var records = Azurite.Table(_app.TablePrefix, IdempotencyMiddleware.TableName);
        var before = await CountAsync(records);

        await _app.Services.GetRequiredService<IdempotencyPurgeJob>().RunAsync(new ScheduledRun(_app.Time.GetUtcNow(), false, null), CancellationToken.None);

        Assert.Equal(2, before);
        Assert.Equal(1, await CountAsync(records));
        var replay = await PostAsync("/test/effects", "young-key", "alpha");
        Assert.Equal("true", replay.Headers.GetValues(IdempotencyMiddleware.ReplayedHeaderName).Single());
        // Every bucket that had passed was consumed; later ones (young-key's, and its replay's) wait their turn.
        var passed = IdempotencyPurgeJob.Bucket(_app.Time.GetUtcNow());
        await foreach (var entry in Azurite.Table(_app.TablePrefix, IdempotencyPurgeJob.ExpiryTable).QueryAsync<TableEntity>())
        {
            Assert.True(string.CompareOrdinal(entry.PartitionKey, passed) > 0, $"bucket {entry.PartitionKey} should have been purged");
        }
    }

    private static async Task<int> CountAsync(TableClient table)
    {
        var count = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>())
        {
            count++;
        }

        return count;
    }

    [Fact]
    public async Task ExpiredKeyPurgedWhileBeingTakenOver_IsClaimedAfresh()
    {
        await PostAsync("/test/effects", "key-10", "alpha");
        _app.Time.Advance(TimeSpan.FromHours(49));
        var partition = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("anonymous\nkey-10")));
        var purged = 0;
        var monitor = _app.Services.GetRequiredService<BusinessApi.Testing.StorageCallMonitor>();
        monitor.Plan = call =>
        {
            // The purge job deletes the record just as the takeover's conditional write leaves.
            if (call.Method == "PUT" && call.Uri.Contains(IdempotencyMiddleware.TableName, StringComparison.Ordinal) && Interlocked.Exchange(ref purged, 1) == 0)
            {
                Azurite.Table(_app.TablePrefix, IdempotencyMiddleware.TableName).DeleteEntity(partition, "");
            }

            return BusinessApi.Testing.StorageFault.None;
        };

        var response = await PostAsync("/test/effects", "key-10", "beta");
        monitor.Plan = null;

        Assert.Equal(1, purged);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(2, await CountEffectsAsync());
    }

    [Fact]
    public async Task SameKeyFromDifferentCallers_AreIndependent()
    {
        await PostAsync("/test/effects", "key-9", "alpha");
        using var operatorClient = _app.OperatorClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/test/effects") { Content = JsonContent.Create(new EffectRequest("alpha")) };
        request.Headers.Add(IdempotencyMiddleware.HeaderName, "key-9");

        var response = await operatorClient.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.False(response.Headers.Contains(IdempotencyMiddleware.ReplayedHeaderName));
        Assert.Equal(2, await CountEffectsAsync());
    }

    private async Task<IResult> RecordEffectAsync(EffectRequest request, HttpContext context)
    {
        var id = Guid.NewGuid().ToString("N");
        await _effects.AddEntityAsync(new TableEntity("effects", id) { ["Value"] = request.Value }, context.RequestAborted);
        return Results.Created($"/test/effects/{id}", new { effectId = id, value = request.Value });
    }

    private async Task<HttpResponseMessage> PostAsync(string path, string? key, string value, string? language = null)
    {
        using var client = _app.NewClient(language);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(new EffectRequest(value)) };
        if (key is not null)
        {
            request.Headers.Add(IdempotencyMiddleware.HeaderName, key);
        }

        var response = await client.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<string> RequestHashAsync(string path, string value)
    {
        var body = await JsonContent.Create(new EffectRequest(value)).ReadAsByteArrayAsync();
        var prefix = Encoding.UTF8.GetBytes($"POST\n{path}\n\n");
        return Convert.ToHexStringLower(SHA256.HashData([.. prefix, .. body]));
    }

    private async Task WaitUntilClaimedAsync()
    {
        var table = Azurite.Table(_app.TablePrefix, IdempotencyMiddleware.TableName);
        for (var i = 0; i < 200; i++)
        {
            await foreach (var _ in table.QueryAsync<TableEntity>(maxPerPage: 1))
            {
                return;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("The first request never claimed its key.");
    }

    private async Task<int> CountEffectsAsync()
    {
        var count = 0;
        await foreach (var _ in _effects.QueryAsync<TableEntity>())
        {
            count++;
        }

        return count;
    }

    public sealed record EffectRequest(string Value);
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Platform.Timers;
using BusinessApi.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Benchmarks;

/// <summary>
/// The credential paths over real HTTP (Kestrel on loopback, the app in this process): access tokens
/// issued per second at <c>POST /oauth/token</c>, authenticated <c>GET /accounts</c> per second with one
/// token, and the storage calls of one 90-day job run over many pairs of which few are due.
/// </summary>
public sealed class CredentialThroughput(string connectionString, TimeSpan duration)
{
    public async Task<CredentialFigures> MeasureAsync(int callers, int pairs, int due, CancellationToken cancellationToken = default)
    {
        var prefix = "c" + Guid.NewGuid().ToString("N")[..10];
        var operatorKey = "bench-" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        var app = BenchApp.Create(connectionString, prefix, operatorKey, BenchApp.TimersOff());
        await app.StartAsync(cancellationToken);
        try
        {
            var address = BenchApp.AddressOf(app);
            using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = callers * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
            using var http = new HttpClient(handler) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
            var (_, clientId, secret, login, password) = await SetUpAsync(http, operatorKey, cancellationToken);

            var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(clientId + ":" + secret)));
            // A warm-up (JIT, connection pools, first storage calls) that is not measured.
            await Load.RunAsync("warm-up", "requests/s", callers, TimeSpan.FromSeconds(2), async (_, _) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/oauth/token")
                {
                    Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
                };
                request.Headers.Authorization = basic;
                return await SendCountingAsync(http, request, cancellationToken);
            }, cancellationToken);

            var tokens = await Load.RunAsync("tokens issued (POST /oauth/token)", "tokens/s", callers, duration, async (_, _) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/oauth/token")
                {
                    Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
                };
                request.Headers.Authorization = basic;
                return await SendCountingAsync(http, request, cancellationToken);
            }, cancellationToken);

            var token = await TokenAsync(http, basic, cancellationToken);
            var bearer = new AuthenticationHeaderValue("Bearer", token);
            var reads = await Load.RunAsync("authenticated GET /accounts", "reads/s", callers, duration, async (_, _) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts");
                request.Headers.Authorization = bearer;
                return await SendCountingAsync(http, request, cancellationToken);
            }, cancellationToken);

            // Sign-ins are bound by the password hash (PBKDF2-HMAC-SHA256, 600,000 iterations) by design.
            var signIns = await Load.RunAsync("sign-ins (POST /sessions, portal)", "sign-ins/s", Math.Min(callers, 2 * Environment.ProcessorCount), duration, async (_, _) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions") { Content = JsonContent.Create(new { login, password }) };
                return await SendCountingAsync(http, request, cancellationToken, HttpStatusCode.Created);
            }, cancellationToken);
            var hashCost = System.Diagnostics.Stopwatch.StartNew();
            _ = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("Bench-Passw0rd!"u8, new byte[16], 600_000, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
            var hashMs = hashCost.Elapsed.TotalMilliseconds;

            var sessionToken = await SignInAsync(http, login, password, cancellationToken);
            var sessionBearer = new AuthenticationHeaderValue("Bearer", sessionToken);
            var sessionReads = await Load.RunAsync("session-authenticated GET /accounts", "reads/s", callers, duration, async (_, _) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts");
                request.Headers.Authorization = sessionBearer;
                return await SendCountingAsync(http, request, cancellationToken);
            }, cancellationToken);

            // The same reads with the account caches off: every request reads the directory and each account. Settings
            // are fixed at start-up, so this is a second instance on the same storage, started with both caches at 0.
            var uncachedApp = BenchApp.Create(connectionString, prefix, operatorKey,
                [.. BenchApp.TimersOff(), "--Ledger:ViewCacheMilliseconds=0", "--Ledger:DirectoryCacheSeconds=0"]);
            await uncachedApp.StartAsync(cancellationToken);
            Measurement uncached;
            try
            {
                using var uncachedHttp = new HttpClient(handler, disposeHandler: false) { BaseAddress = BenchApp.AddressOf(uncachedApp), Timeout = TimeSpan.FromSeconds(30) };
                uncached = await Load.RunAsync("  the same, account caches off", "reads/s", callers, duration, async (_, _) =>
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/accounts");
                    request.Headers.Authorization = bearer;
                    return await SendCountingAsync(uncachedHttp, request, cancellationToken);
                }, cancellationToken);
            }
            finally
            {
                await uncachedApp.StopAsync(CancellationToken.None);
                await uncachedApp.DisposeAsync();
            }

            var (jobCalls, blocked) = await InactivityRunAsync(app.Services, pairs, due, cancellationToken);
            return new CredentialFigures(tokens, reads, uncached, pairs, due, jobCalls, blocked, FailedRequests) { SignIns = signIns, HashMilliseconds = hashMs, SessionReads = sessionReads };
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }

    /// <summary>Seeds <paramref name="pairs"/> pairs (<paramref name="due"/> of them unused for 90 days), then counts one job run's storage calls.</summary>
    public static async Task<(long Calls, int Blocked)> InactivityRunAsync(IServiceProvider services, int pairs, int due, CancellationToken cancellationToken)
    {
        var store = services.GetRequiredService<CredentialStore>();
        var time = services.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow();
        var today = KazakhstanTime.LocalDate(now);
        var seeded = Enumerable.Range(0, pairs).Select(i =>
        {
            // Due ones were last used 90..99 days ago; the others 0..88 days ago, spread over the days.
            var lastUsed = i < due ? today.AddDays(-90 - (i % 10)) : today.AddDays(-(i % 89));
            var owner = "cus_" + (i % 1000).ToString("x20", CultureInfo.InvariantCulture);
            return new ClientCredential(owner, CredentialRules.NewClientId(owner), "bench " + i.ToString(CultureInfo.InvariantCulture), ["accounts.read"], "v1", CredentialStatus.Active, now.AddDays(-100))
            {
                SecretHash = Convert.ToBase64String(new byte[32]),
                SecretKeyVersion = "seeded",
                LastUsedAt = KazakhstanTime.At(lastUsed, TimeSpan.FromHours(12)),
                LastUsedDay = lastUsed,
            };
        }).ToList();
        await store.BulkInsertAsync(seeded, cancellationToken);

        var job = services.GetServices<IScheduledJob>().OfType<CredentialInactivityJob>().Single();
        var monitor = services.GetRequiredService<StorageCallMonitor>();
        var before = monitor.Calls;
        await job.RunAsync(new ScheduledRun(now, false, null), cancellationToken);
        var calls = monitor.Calls - before;

        var blocked = 0;
        foreach (var pair in seeded.Take(due + 5))
        {
            if ((await store.GetAsync(pair.ClientId, cancellationToken))?.Credential.Status == CredentialStatus.BlockedInactive)
            {
                blocked++;
            }
        }

        return (calls, blocked);
    }

    private static async Task<(string Customer, string ClientId, string Secret, string Login, string Password)> SetUpAsync(HttpClient http, string operatorKey, CancellationToken cancellationToken)
    {
        async Task<JsonElement> PostAsync(string path, object body, string? bearer = null, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            if (bearer is not "")
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer ?? operatorKey);
            }

            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode != expected)
            {
                response.EnsureSuccessStatusCode();
            }

            return response.StatusCode == HttpStatusCode.NoContent ? default : await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        }

        var customer = (await PostAsync("/api/v1/ops/customers", new { name = "ТОО Бенчмарк", bin = "000740000728" })).GetProperty("customerId").GetString()!;
        for (var i = 0; i < 2; i++)
        {
            var bban = "998" + Random.Shared.NextInt64(1_000_000_000_000, 9_999_999_999_999).ToString(CultureInfo.InvariantCulture);
            await PostAsync($"/api/v1/ops/customers/{customer}/accounts", new { iban = "KZ" + Accounts.Iban.CheckDigitsFor(bban) + bban, currency = "KZT" });
        }

        // The customer's first admin, created by the bank, changes the temporary password and signs in.
        const string password = "Bench-Passw0rd!";
        var admin = await PostAsync($"/api/v1/ops/customers/{customer}/users", new
        {
            login = "admin" + Guid.NewGuid().ToString("N")[..8],
            fullName = "Бенчмарк Админ",
            iin = "061211600012",
            isAdmin = true,
            permissions = new { accounts = new[] { "*" }, functions = new[] { "view", "manageCredentials" } },
        }, expected: HttpStatusCode.Created);
        var login = admin.GetProperty("user").GetProperty("login").GetString()!;
        var first = await PostAsync("/api/v1/sessions", new { login, password = admin.GetProperty("temporaryPassword").GetString() }, bearer: "", expected: HttpStatusCode.Forbidden);
        await PostAsync("/api/v1/users/me/password", new { currentPassword = admin.GetProperty("temporaryPassword").GetString(), newPassword = password },
            first.GetProperty("sessionToken").GetString(), HttpStatusCode.NoContent);
        var session = (await PostAsync("/api/v1/sessions", new { login, password }, bearer: "", expected: HttpStatusCode.Created)).GetProperty("sessionToken").GetString();
        var pair = await PostAsync("/api/v1/credentials", new { name = "Benchmark ERP", scopes = new[] { "accounts.read", "statements.read" } }, session, HttpStatusCode.Created);
        return (customer, pair.GetProperty("clientId").GetString()!, pair.GetProperty("clientSecret").GetString()!, login, password);
    }

    private long _failedRequests;

    /// <summary>Requests that failed outright (no answer in the client's time-out); Azurite here sometimes stalls for a minute or more.</summary>
    public long FailedRequests => Interlocked.Read(ref _failedRequests);

    private async Task<int> SendCountingAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken, HttpStatusCode success = HttpStatusCode.OK)
    {
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return response.StatusCode == success ? 1 : 0;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _failedRequests);
            return 0;
        }
    }

    /// <summary>A session for the reads, retried through an Azurite stall (the measured phases count those instead).</summary>
    private async Task<string> SignInAsync(HttpClient http, string login, string password, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions") { Content = JsonContent.Create(new { login, password }) };
                using var response = await http.SendAsync(request, cancellationToken);
                response.EnsureSuccessStatusCode();
                return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("sessionToken").GetString()!;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && attempt < 5 && !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _failedRequests);
            }
        }
    }

    private static async Task<string> TokenAsync(HttpClient http, AuthenticationHeaderValue basic, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/oauth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        request.Headers.Authorization = basic;
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("access_token").GetString()!;
    }
}

public sealed record CredentialFigures(Measurement Tokens, Measurement Reads, Measurement UncachedReads, int Pairs, int Due, long JobStorageCalls, int Blocked, long FailedRequests)
{
    public required Measurement SignIns { get; init; }

    /// <summary>One PBKDF2-HMAC-SHA256 hash at 600,000 iterations on this machine, single-threaded.</summary>
    public required double HashMilliseconds { get; init; }

    public required Measurement SessionReads { get; init; }
}

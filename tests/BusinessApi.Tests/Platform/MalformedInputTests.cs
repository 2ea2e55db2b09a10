using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BusinessApi.Testing;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace BusinessApi.Tests.Platform;

/// <summary>
/// Malformed input at volume: requests generated from the two OpenAPI documents (every route, every method) and broken
/// on purpose — wrong types, missing and extra fields, huge and deep JSON, invalid UTF-8, overlong numbers, negative and
/// fractional amounts, bad IBANs, BINs and dates, header abuse, truncated and garbage CMS — sent one at a time through
/// Kestrel to an app on Azurite. Every answer must be a well-formed problem or a success, never a 5xx, and a refused
/// request must store nothing but what a refusal itself records (the audit journal, the replayable answer to its
/// Idempotency-Key, the session's last activity). The seed is printed; <c>FUZZ_SEED</c> and <c>FUZZ_REQUESTS</c> replay a run.
/// </summary>
public sealed class MalformedInputTests(ITestOutputHelper output) : IDisposable
{
    private const int DefaultSeed = 20261203;
    private const int DefaultRequests = 20_000;

    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    /// <summary>Tables a refused request may still write, and why (and where only some routes may, which).</summary>
    private static readonly string[] PasswordRoutes = ["/api/v1/sessions", "/api/v1/users/me/password"];

    private static readonly string[] RefusalRecords =
    [
        "AuditJournal", // a refused security event is journaled (failed authentication, a denied power)
        "Idempotency", // the first answer to a key, refusals included, is kept to be replayed (IdempotencyKeys, IdempotencyExpiry)
        "Sessions", // an authenticated request is session activity, whatever its answer (the idle timeout)
    ];

    [Fact]
    public async Task EveryRoute_AnswersMalformedInput_WithAWellFormedProblem_AndARefusalStoresNothing()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;
        var total = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_REQUESTS"), CultureInfo.InvariantCulture, out var n) ? n : DefaultRequests;
        output.WriteLine($"Malformed input: seed {seed}, {total:N0} requests (FUZZ_SEED={seed} FUZZ_REQUESTS={total} replays this run).");
        Console.WriteLine($"[malformed input] seed {seed}, {total:N0} requests");

        var settings = new Dictionary<string, string>
        {
            ["Http:RateLimiting:PermitsPerSecond"] = "1000000",
            ["Http:RateLimiting:Burst"] = "1000000",
        };
        foreach (var job in new[] { "credential-inactivity", "user-inactivity", "notice-deadlines", "document-deadlines", "idempotency-purge", "audit-anchor", "crl-refresh", "ledger-outbox", "signer-power-expiry", "api-support-fee", "fee-debts" })
        {
            settings[$"Timers:{job}:Schedule"] = "";
        }

        await using var app = await TestApp.StartAsync(settings);
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki, 1_000_000m);
        var clientToken = await app.TokenAsync(payer.ClientId, payer.Secret);
        var context = new FuzzContext(payer, clientToken, app.OperatorKey, Convert.ToBase64String(payer.SignOrder(payer.Order(10m))));

        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, Expect100ContinueTimeout = TimeSpan.FromSeconds(30) }) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var operations = new List<Operation>();
        foreach (var document in new[] { "/openapi/v1.json", "/openapi/ops.json" })
        {
            operations.AddRange(Operation.Read(await http.GetFromJsonAsync<JsonElement>(document)));
        }

        Assert.True(operations.Count > 100, $"only {operations.Count} operations in the OpenAPI documents");
        var monitor = app.Services.GetRequiredService<StorageCallMonitor>();
        var writes = new List<string>();
        var recording = false;
        // Writes storage carried out (a refused insert of a row that exists stores nothing).
        monitor.Answered = (call, status) =>
        {
            if (Volatile.Read(ref recording) && call.Method is not ("GET" or "HEAD") && status is >= 200 and < 300)
            {
                lock (writes)
                {
                    writes.Add(call.Kind);
                }
            }
        };

        var random = new Random(seed);
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var routesHit = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < total && failures.Count < 25; i++)
        {
            var operation = operations[random.Next(operations.Count)];
            var malformed = MalformedRequests.Make(operation, context, random);
            routesHit.Add(operation.Method + " " + operation.Path);
            lock (writes)
            {
                writes.Clear();
            }

            Volatile.Write(ref recording, true);
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(malformed.Request);
            }
            catch (HttpRequestException ex)
            {
                failures.Add($"#{i} {malformed}: no answer ({ex.Message})");
                continue;
            }
            finally
            {
                Volatile.Write(ref recording, false);
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
                var body = await response.Content.ReadAsByteArrayAsync();
                if (Judge(response, body, operation.Path) is { } wrong)
                {
                    failures.Add($"#{i} {malformed} → {status}: {wrong}; body: {Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)))}");
                }
                else if (status >= 400)
                {
                    List<string> stored;
                    lock (writes)
                    {
                        stored = [.. writes.Where(w => !RefusalRecords.Any(t => w.Split(' ')[2].StartsWith(t, StringComparison.Ordinal))
                            && !(PasswordRoutes.Contains(operation.Path) && w.Split(' ')[2] == "Users"))]; // a wrong password counts towards the lock (R-2x)
                    }

                    if (stored.Count > 0)
                    {
                        failures.Add($"#{i} {malformed} → {status}, yet stored: {string.Join("; ", stored.Take(3))}");
                    }
                }
            }
        }

        monitor.Answered = null;
        var summary = $"{routesHit.Count} of {operations.Count} operations hit; answers: {string.Join(", ", statuses.Select(kv => $"{kv.Key}×{kv.Value:N0}"))}";
        output.WriteLine(summary);
        Console.WriteLine($"[malformed input] {summary}");
        Assert.True(failures.Count == 0, $"Seed {seed}: {failures.Count} bad answers (first shown):\n{string.Join('\n', failures)}");
        Assert.Equal(operations.Count, routesHit.Count);
    }

    /// <summary>
    /// What is wrong with an answer, or null: never a 5xx; every refusal an RFC 9457 problem with its code — but the token
    /// endpoint's, which RFC 6749 (5.2) fixes as <c>{"error": …}</c> in application/json.
    /// </summary>
    private static string? Judge(HttpResponseMessage response, byte[] body, string path)
    {
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            return "a server error";
        }

        if (status < 400)
        {
            return null;
        }

        if (path == "/api/v1/oauth/token" && response.Content.Headers.ContentType?.MediaType == "application/json")
        {
            try
            {
                return JsonDocument.Parse(body).RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String ? null : "an OAuth error without its error code";
            }
            catch (JsonException)
            {
                return "an OAuth error that is not JSON";
            }
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return $"content type {response.Content.Headers.ContentType?.MediaType ?? "none"}, not application/problem+json";
        }

        try
        {
            var problem = JsonDocument.Parse(body).RootElement;
            if (problem.ValueKind != JsonValueKind.Object
                || !problem.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !problem.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String || title.GetString()!.Length == 0
                || !problem.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.String
                || !problem.TryGetProperty("status", out var number) || number.ValueKind != JsonValueKind.Number || number.GetInt32() != status)
            {
                return "a problem without its type, title, code or matching status";
            }
        }
        catch (JsonException)
        {
            return "a problem that is not JSON";
        }

        return null;
    }
}

/// <summary>What the generator fills valid parts with: a real payer, its sessions and a real signed order.</summary>
internal sealed record FuzzContext(Payer Payer, string ClientToken, string OperatorKey, string ValidCmsBase64);

/// <summary>One operation of an OpenAPI document: method, path template, parameters, request body and who may call it.</summary>
internal sealed record Operation(string Method, string Path, IReadOnlyList<(string Name, string In, string Type)> Parameters, JsonElement? JsonBody, string? BodyMediaType, bool Operator, JsonElement Schemas)
{
    public static IEnumerable<Operation> Read(JsonElement document)
    {
        var schemas = document.TryGetProperty("components", out var components) && components.TryGetProperty("schemas", out var s) ? s.Clone() : default;
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject().Where(m => m.Name is "get" or "post" or "put" or "delete" or "patch"))
            {
                var parameters = new List<(string, string, string)>();
                if (method.Value.TryGetProperty("parameters", out var list))
                {
                    foreach (var parameter in list.EnumerateArray())
                    {
                        var type = parameter.TryGetProperty("schema", out var schema) ? TypeOf(schema) : "string";
                        parameters.Add((parameter.GetProperty("name").GetString()!, parameter.GetProperty("in").GetString()!, type));
                    }
                }

                JsonElement? body = null;
                string? media = null;
                if (method.Value.TryGetProperty("requestBody", out var request) && request.TryGetProperty("content", out var content))
                {
                    var first = content.EnumerateObject().FirstOrDefault();
                    media = first.Name;
                    body = first.Value.TryGetProperty("schema", out var schema) ? schema.Clone() : null;
                }

                yield return new Operation(method.Name.ToUpperInvariant(), path.Name, parameters, body, media, path.Name.StartsWith("/api/v1/ops/", StringComparison.Ordinal), schemas);
            }
        }
    }

    public static string TypeOf(JsonElement schema)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            return type.ValueKind == JsonValueKind.Array
                ? type.EnumerateArray().Select(t => t.GetString()!).FirstOrDefault(t => t != "null") ?? "string"
                : type.GetString() ?? "string";
        }

        return schema.TryGetProperty("$ref", out _) ? "object" : "string";
    }

    /// <summary>The schema a <c>$ref</c> names, or the schema itself.</summary>
    public JsonElement Resolve(JsonElement schema)
    {
        for (var depth = 0; depth < 8 && schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("$ref", out var reference); depth++)
        {
            var name = reference.GetString()!.Split('/')[^1];
            if (Schemas.ValueKind != JsonValueKind.Object || !Schemas.TryGetProperty(name, out schema))
            {
                return default;
            }
        }

        return schema;
    }
}

/// <summary>A request made from an operation and broken in one or more ways, and a short account of how (for the failure message).</summary>
internal sealed record MalformedRequest(HttpRequestMessage Request, string How)
{
    public override string ToString() => $"{Request.Method} {Request.RequestUri} [{How}]";
}

internal static class MalformedRequests
{
    private static readonly string[] BadIdentifiers =
    [
        "", " ", "KZ000000000000000000", "KZ86125KZT5004100100", "kz86125kzt5004100100X", "KZ8612", "ХХ86125KZT5004100100", "%00", "..%2F..%2Fetc%2Fpasswd",
        "null", "-1", "0", "99999999999999999999999999", "1e400", "<script>alert(1)</script>", "' or 1=1 --", "doc_", "cus_zzzz", "😀", new string('9', 300),
        "2026-02-30", "2026-13-01", "26-01-01", "000000000000", "123456789012", "9912319999999",
    ];

    private static readonly string[] BadScalars =
    [
        "", "abc", "-1", "-0.01", "0.001", "1.005", "1e400", "-1e400", "NaN", "Infinity", "99999999999999999999999999999999999999",
        "0x10", "1,5", "2026-02-30", "2026-13-45", "31.12.2026", "tomorrow", "true", "null", "[]", "{}", "%FF", new string('x', 5000),
    ];

    private static readonly string[] BadLanguages = ["zz-ZZ;q=5", ";;;,,,", "ru;q=abc", "*;q=-1", new string('a', 3000), "kk-KZ, ru;q=0.9, en;q=1.1", "\u0001\u0002"];

    public static MalformedRequest Make(Operation operation, FuzzContext context, Random random)
    {
        var how = new List<string>();
        var path = FillPath(operation, context, random, how);
        var query = Query(operation, random, how);
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), path + query);
        Authorize(request, operation, context, random, how);
        if (operation.Method is "POST" or "PUT" or "PATCH" or "DELETE")
        {
            request.Content = Body(operation, context, random, how);
            if (request.Content?.Headers.ContentLength > 64 * 1024)
            {
                // A body past the limit is refused before it is read: the client waits for the answer before sending it,
                // as a careful client does, and the connection is not used again (the server may close it unread).
                request.Headers.ExpectContinue = true;
                request.Headers.ConnectionClose = true;
            }
        }

        Headers(request, random, how);
        return new MalformedRequest(request, string.Join(", ", how));
    }

    private static string FillPath(Operation operation, FuzzContext context, Random random, List<string> how)
    {
        var path = operation.Path;
        foreach (var (name, @in, _) in operation.Parameters.Where(p => p.In == "path"))
        {
            string value;
            if (random.Next(3) == 0)
            {
                value = Valid(name, context);
            }
            else
            {
                value = BadIdentifiers[random.Next(BadIdentifiers.Length)];
                how.Add($"path {name}={Short(value)}");
            }

            path = path.Replace("{" + name + "}", Uri.EscapeDataString(value.Length == 0 ? " " : value), StringComparison.Ordinal);
        }

        return path;
    }

    private static string Query(Operation operation, Random random, List<string> how)
    {
        var parts = new List<string>();
        foreach (var (name, _, _) in operation.Parameters.Where(p => p.In == "query"))
        {
            if (random.Next(2) == 0)
            {
                var value = BadScalars[random.Next(BadScalars.Length)];
                parts.Add(Uri.EscapeDataString(name) + "=" + Uri.EscapeDataString(value));
                how.Add($"query {name}={Short(value)}");
            }
        }

        if (random.Next(6) == 0)
        {
            parts.Add("unexpected=" + Uri.EscapeDataString(BadScalars[random.Next(BadScalars.Length)]));
            how.Add("an unknown query parameter");
        }

        if (random.Next(10) == 0 && operation.Parameters.FirstOrDefault(p => p.In == "query") is { Name: { } repeated })
        {
            parts.Add(repeated + "=1&" + repeated + "=2");
            how.Add($"query {repeated} twice");
        }

        return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
    }

    private static void Authorize(HttpRequestMessage request, Operation operation, FuzzContext context, Random random, List<string> how)
    {
        var roll = random.Next(20);
        string? bearer = roll switch
        {
            0 => null,
            1 => "not-a-token",
            2 => new string('A', 2000),
            3 => context.ClientToken, // the client's token where a user's session may be needed
            _ => operation.Operator ? context.OperatorKey : null,
        };
        if (roll is 0 or 1 or 2 or 3)
        {
            how.Add(roll switch { 0 => "no credentials", 1 => "a garbage token", 2 => "a 2 KB token", _ => "the client's token" });
        }

        if (bearer is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
        }
        else if (roll >= 4)
        {
            // The payer's own session for customer routes.
            request.Headers.Authorization = context.Payer.Software.DefaultRequestHeaders.Authorization;
        }
    }

    private static HttpContent? Body(Operation operation, FuzzContext context, Random random, List<string> how)
    {
        var media = operation.BodyMediaType ?? "application/json";
        if (media == "application/x-www-form-urlencoded")
        {
            var form = random.Next(3) switch
            {
                0 => "grant_type=client_credentials&client_id=" + Uri.EscapeDataString(BadIdentifiers[random.Next(BadIdentifiers.Length)]) + "&client_secret=x",
                1 => "grant_type=password&grant_type=client_credentials",
                _ => "%%%&&&==" + new string('a', random.Next(10, 5000)),
            };
            how.Add("a bad form");
            return new StringContent(form, Encoding.UTF8, media);
        }

        byte[] bytes;
        var kind = random.Next(14);
        var shape = (operation.JsonBody is { } schema ? Sample(operation, schema, context, 0) : null) ?? new JsonObject();
        switch (kind)
        {
            case 0:
                bytes = Encoding.UTF8.GetBytes(new string('[', 5_000) + new string(']', 5_000));
                how.Add("JSON 5,000 deep");
                break;
            case 1:
                bytes = Encoding.UTF8.GetBytes("{\"x\":\"" + new string('x', random.Next(2) == 0 ? 300_000 : 3_000_000) + "\"}");
                how.Add("huge JSON");
                break;
            case 2:
                bytes = [.. Encoding.UTF8.GetBytes("{\"purpose\":\""), 0xC3, 0x28, 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\"}")];
                how.Add("invalid UTF-8");
                break;
            case 3:
                bytes = Encoding.UTF8.GetBytes(Truncate(shape.ToJsonString(), random));
                how.Add("truncated JSON");
                break;
            case 4:
                bytes = random.Next(2) == 0 ? [] : Encoding.UTF8.GetBytes("garbage, not JSON at all");
                how.Add("no JSON");
                break;
            case 5:
                return new StringContent(shape.ToJsonString(), Encoding.UTF8, random.Next(2) == 0 ? "text/plain" : "application/xml").Also(() => how.Add("the wrong media type"));
            default:
                bytes = Encoding.UTF8.GetBytes(Mutate(shape, random, context, how).ToJsonString());
                break;
        }

        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(media);
        return content;
    }

    /// <summary>A sensible object for the schema (so the mutation, not the whole body, is what is wrong).</summary>
    private static JsonNode? Sample(Operation operation, JsonElement schema, FuzzContext context, int depth, string name = "")
    {
        schema = operation.Resolve(schema);
        if (schema.ValueKind != JsonValueKind.Object || depth > 5)
        {
            return null;
        }

        switch (Operation.TypeOf(schema))
        {
            case "object":
                var node = new JsonObject();
                if (schema.TryGetProperty("properties", out var properties))
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        node[property.Name] = Sample(operation, property.Value, context, depth + 1, property.Name);
                    }
                }

                return node;
            case "array":
                return schema.TryGetProperty("items", out var items) ? new JsonArray(Sample(operation, items, context, depth + 1, name)) : new JsonArray();
            case "integer":
                return 1;
            case "number":
                return 10.5;
            case "boolean":
                return true;
            default:
                return name.Contains("cms", StringComparison.OrdinalIgnoreCase) ? context.ValidCmsBase64 : Valid(name, context);
        }
    }

    private static JsonObject Mutate(JsonNode? shape, Random random, FuzzContext context, List<string> how)
    {
        if (shape is not JsonObject root || root.Count == 0)
        {
            how.Add("an object where none is expected");
            return new JsonObject { ["unexpected"] = random.Next() };
        }

        var keys = root.Select(p => p.Key).ToList();
        var key = keys[random.Next(keys.Count)];
        switch (random.Next(10))
        {
            case 0:
                root.Remove(key);
                how.Add($"missing {key}");
                break;
            case 1:
                root["unexpected" + random.Next(100)] = "extra";
                how.Add("an extra field");
                break;
            case 2:
                root[key] = random.Next(4) switch { 0 => 12345, 1 => new JsonArray(1, 2), 2 => new JsonObject { ["a"] = 1 }, _ => null };
                how.Add($"{key} of the wrong type");
                break;
            case 3:
                root[key] = JsonNode.Parse("1" + new string('0', 400));
                how.Add($"{key} an overlong number");
                break;
            case 4:
                root[key] = random.Next(5) switch { 0 => "-100.00", 1 => "0.001", 2 => "-0", 3 => "1e-9", _ => "100000000000000000000.00" };
                how.Add($"{key} a negative, fractional or overlong amount");
                break;
            case 5:
                root[key] = BadIdentifiers[random.Next(BadIdentifiers.Length)];
                how.Add($"{key} a bad IBAN, BIN, id or date");
                break;
            case 6:
                root[key] = random.Next(3) switch
                {
                    0 => Convert.ToBase64String(Convert.FromBase64String(context.ValidCmsBase64).AsSpan(0, random.Next(1, 200)).ToArray()),
                    1 => Convert.ToBase64String(Enumerable.Range(0, 300).Select(_ => (byte)random.Next(256)).ToArray()),
                    _ => "!!not base64!!",
                };
                how.Add($"{key} a truncated or garbage CMS");
                break;
            case 7:
                root[key] = new string('Ж', random.Next(1_000, 60_000));
                how.Add($"{key} a huge string");
                break;
            case 8:
                root[key] = "\u0000\u202E\uFFFF";
                how.Add($"{key} control characters");
                break;
            default:
                // Several fields broken at once.
                foreach (var other in keys.Take(3))
                {
                    root[other] = BadScalars[random.Next(BadScalars.Length)];
                }

                how.Add("several fields of bad scalars");
                break;
        }

        return root;
    }

    private static void Headers(HttpRequestMessage request, Random random, List<string> how)
    {
        switch (random.Next(8))
        {
            case 0:
                request.Headers.TryAddWithoutValidation("Idempotency-Key", ["first-" + random.Next(), "second-" + random.Next()]);
                how.Add("two Idempotency-Keys");
                break;
            case 1:
                request.Headers.TryAddWithoutValidation("Idempotency-Key", new string('k', random.Next(2) == 0 ? 300 : 6_000));
                how.Add("a long Idempotency-Key");
                break;
            case 2:
                request.Headers.TryAddWithoutValidation("Accept-Language", BadLanguages[random.Next(BadLanguages.Length)]);
                how.Add("a bad Accept-Language");
                break;
            case 3:
                var padding = random.Next(2) == 0 ? 20_000 : 40_000;
                request.Headers.TryAddWithoutValidation("X-Padding", new string('p', padding));
                how.Add($"a {padding / 1000} KB header");
                break;
            default:
                request.Headers.TryAddWithoutValidation("Idempotency-Key", "fuzz-" + Guid.NewGuid().ToString("N"));
                break;
        }
    }

    private static string Valid(string name, FuzzContext context) => name.ToUpperInvariant() switch
    {
        var n when n.Contains("IBAN", StringComparison.Ordinal) => context.Payer.Iban,
        var n when n.Contains("CUSTOMER", StringComparison.Ordinal) => context.Payer.CustomerId,
        var n when n.Contains("USER", StringComparison.Ordinal) => context.Payer.UserId,
        var n when n.Contains("CLIENT", StringComparison.Ordinal) => context.Payer.ClientId,
        var n when n.Contains("BIN", StringComparison.Ordinal) || n.Contains("IDN", StringComparison.Ordinal) => context.Payer.Bin,
        var n when n.Contains("IIN", StringComparison.Ordinal) => context.Payer.Iin,
        var n when n.Contains("DATE", StringComparison.Ordinal) || n is "FROM" or "TO" => "2026-11-25",
        var n when n.Contains("YEAR", StringComparison.Ordinal) => "2026",
        var n when n.Contains("AMOUNT", StringComparison.Ordinal) => "10.00",
        var n when n.Contains("CURRENCY", StringComparison.Ordinal) => "KZT",
        _ => "x" + name,
    };

    private static string Truncate(string json, Random random) => json.Length < 2 ? "{" : json[..random.Next(1, json.Length)];

    private static string Short(string value) => value.Length > 24 ? value[..24] + $"…({value.Length})" : value;

    private static T Also<T>(this T value, Action action)
    {
        action();
        return value;
    }
}

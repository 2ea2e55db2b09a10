using System.Net.Http.Headers;
using System.Security.Cryptography;
using BusinessApi.Calendar;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>
/// The real app on Kestrel (127.0.0.1, a free port) against the Azurite that ./test.sh started, with
/// its own table prefix (so tests run in parallel) and a fake clock. Settings are command-line
/// arguments, the highest-precedence configuration source, exactly as an operator would pass them.
/// </summary>
public sealed class TestApp : IAsyncDisposable
{
    /// <summary>A Wednesday, 10:00 in Kazakhstan: a working day, operational day open.</summary>
    public static readonly DateTimeOffset DefaultNow = new(2026, 11, 25, 10, 0, 0, KazakhstanTime.Offset);

    private readonly WebApplication _app;

    private TestApp(WebApplication app, FakeTimeProvider time, IReadOnlyDictionary<string, string> settings, Uri baseAddress)
    {
        _app = app;
        Settings = settings;
        Time = time;
        TablePrefix = settings["Storage:TablePrefix"];
        OperatorKey = settings["Operations:ApiKeys"];
        BaseAddress = baseAddress;
        Client = NewClient();
    }

    public FakeTimeProvider Time { get; }

    /// <summary>The settings the app was started with (command-line arguments), e.g. for a second head on the same storage.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    public string TablePrefix { get; }

    public string OperatorKey { get; }

    public Uri BaseAddress { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestApp> StartAsync(
        IDictionary<string, string>? settings = null,
        Action<WebApplication>? map = null,
        Action<IServiceCollection>? services = null,
        DateTimeOffset? now = null,
        bool realTime = false)
    {
        var time = new FakeTimeProvider(now ?? DefaultNow);
        var values = NewSettings();
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        var args = values.Select(kv => $"--{kv.Key}={kv.Value}").ToArray();
        var app = BusinessApi.Testing.InstrumentedApp.Create(args, builder =>
        {
            if (!realTime)
            {
                builder.Services.AddSingleton<TimeProvider>(time);
            }

            services?.Invoke(builder.Services);
        }, includeLocalSettings: false);
        map?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestApp(app, time, values, new Uri(address));
    }

    /// <summary>The settings of a new app on storage of its own: a fresh table prefix, operator key and secrets file.</summary>
    public static Dictionary<string, string> NewSettings()
    {
        var prefix = "t" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var operatorKey = "ops_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var values = new Dictionary<string, string>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["Storage:TablePrefix"] = prefix,
            ["Operations:ApiKeys"] = operatorKey,
            ["Operations:AllowStaticKeys"] = "true", // tests run as Production; most act as the break-glass operator
            ["Operations:FourEyes"] = "false", // four eyes has its own tests (FourEyesTests)
            ["Secrets:LocalPath"] = Path.Combine(Path.GetTempPath(), "business-api-tests", prefix, "secrets.json"),
            ["Logging:LogLevel:Default"] = "Warning",
            ["Http:RateLimiting:PermitsPerSecond"] = "100000",
            ["Http:RateLimiting:Burst"] = "100000",
            ["Users:PasswordHashIterations"] = "1000", // the default (600,000) has its own test; here speed matters
        };
        return values;
    }

    /// <summary>A second app instance on the same storage, secrets and operator key, with its own clock (a scaled-out deployment).</summary>
    public Task<TestApp> StartSiblingAsync() => StartAsync(new Dictionary<string, string>
    {
        ["Storage:TablePrefix"] = TablePrefix,
        ["Operations:ApiKeys"] = OperatorKey,
        ["Secrets:LocalPath"] = Path.Combine(Path.GetTempPath(), "business-api-tests", TablePrefix, "secrets.json"),
    });

    public HttpClient NewClient(string? language = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (language is not null)
        {
            client.DefaultRequestHeaders.AcceptLanguage.Add(new StringWithQualityHeaderValue(language));
        }

        return client;
    }

    public HttpClient OperatorClient(string? language = null)
    {
        var client = NewClient(language);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

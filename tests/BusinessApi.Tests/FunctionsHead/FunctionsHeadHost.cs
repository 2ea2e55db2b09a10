using System.Reflection;
using BusinessApi.FunctionsHost;
using BusinessApi.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace BusinessApi.Tests.FunctionsHead;

/// <summary>
/// The Functions head as its own <c>FunctionsApplication</c> builder composes it, on a <see cref="TestApp"/>'s storage,
/// secrets and clock — a second instance of the same deployment — and, in front of its trigger methods, what the worker's
/// ASP.NET Core integration does for them: Kestrel on 127.0.0.1, each HTTP function's route and methods from the build's
/// <c>functions.metadata</c>, and a call of the function's method with Kestrel's <see cref="HttpRequest"/>. The worker's
/// own hosted services (its gRPC channel to the Functions host, its internal web server) are left out: no Functions host
/// runs here, which is exactly what these tests cannot cover.
/// </summary>
public sealed class FunctionsHeadHost : IAsyncDisposable
{
    private readonly IHost _head;
    private readonly WebApplication _front;

    private FunctionsHeadHost(IHost head, WebApplication front, Uri baseAddress)
    {
        _head = head;
        _front = front;
        BaseAddress = baseAddress;
    }

    public IServiceProvider Services => _head.Services;

    /// <summary>Kestrel in front of the HTTP triggers.</summary>
    public Uri BaseAddress { get; }

    public HttpClient NewClient() => new() { BaseAddress = BaseAddress };

    /// <summary>A trigger class as the worker creates it (activated from the head's services).</summary>
    public T Functions<T>() => ActivatorUtilities.CreateInstance<T>(_head.Services);

    public static async Task<FunctionsHeadHost> StartAsync(TestApp sibling, IDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null) =>
        await StartAsync(sibling.Settings, sibling.Time, settings, services);

    public static async Task<FunctionsHeadHost> StartAsync(IReadOnlyDictionary<string, string> baseSettings, FakeTimeProvider time,
        IDictionary<string, string>? settings = null, Action<IServiceCollection>? services = null)
    {
        var values = baseSettings.Where(kv => kv.Key != "urls").ToDictionary();
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }

        var builder = FunctionsHostApp.CreateBuilder([.. values.Select(kv => $"--{kv.Key}={kv.Value}")], includeLocalSettings: false);
        builder.Services.AddSingleton<TimeProvider>(time);
        foreach (var worker in builder.Services.Where(IsWorkerInfrastructure).ToList())
        {
            builder.Services.Remove(worker);
        }

        services?.Invoke(builder.Services);
        var head = builder.Build();
        await head.StartAsync();

        // The worker's web server shares the head's container, so it takes the application's Kestrel settings.
        var kestrel = head.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value;
        var front = WebApplication.CreateSlimBuilder();
        front.WebHost.UseUrls("http://127.0.0.1:0");
        front.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = kestrel.AddServerHeader;
            options.Limits.MaxRequestBodySize = kestrel.Limits.MaxRequestBodySize;
            options.Limits.MaxRequestLineSize = kestrel.Limits.MaxRequestLineSize;
            options.Limits.MaxRequestHeadersTotalSize = kestrel.Limits.MaxRequestHeadersTotalSize;
        });
        // As in the worker, logging is on: ASP.NET Core's hosting then starts an activity per request (a problem's traceId).
        front.Logging.SetMinimumLevel(LogLevel.Warning);
        front.Services.AddRouting();
        var app = front.Build();
        app.UseRouting();
        foreach (var function in FunctionsMetadata.Http)
        {
            var invoke = Invoker(head.Services, function.EntryPoint);
            app.MapMethods("/" + function.Route!, function.Methods, invoke).WithDisplayName(function.Name);
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FunctionsHeadHost(head, app, new Uri(address));
    }

    /// <summary>The worker's hosted services: its channel to the Functions host and its internal web server.</summary>
    private static bool IsWorkerInfrastructure(ServiceDescriptor descriptor) =>
        descriptor.ServiceType == typeof(IHostedService)
        && descriptor.ImplementationType is { } type
        && (type.Assembly.GetName().Name!.StartsWith("Microsoft.Azure.Functions.Worker", StringComparison.Ordinal)
            || type.FullName == "Microsoft.AspNetCore.Hosting.GenericWebHostService");

    private static RequestDelegate Invoker(IServiceProvider services, string entryPoint)
    {
        var split = entryPoint.LastIndexOf('.');
        var type = typeof(FunctionsHostApp).Assembly.GetType(entryPoint[..split], throwOnError: true)!;
        var method = type.GetMethod(entryPoint[(split + 1)..], BindingFlags.Public | BindingFlags.Instance)!;
        return async context =>
        {
            var instance = ActivatorUtilities.CreateInstance(services, type);
            var result = await (Task<Microsoft.AspNetCore.Mvc.IActionResult>)method.Invoke(instance, [context.Request])!;
            Assert.IsType<Microsoft.AspNetCore.Mvc.EmptyResult>(result); // the pipeline answered; nothing is left for the worker
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _front.StopAsync();
        await _front.DisposeAsync();
        await _head.StopAsync();
        _head.Dispose();
    }
}

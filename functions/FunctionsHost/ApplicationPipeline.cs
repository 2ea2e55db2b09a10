using Microsoft.AspNetCore.Http.Features;

namespace BusinessApi.FunctionsHost;

/// <summary>
/// The application's own ASP.NET Core pipeline (<see cref="FunctionsApp.UseBusinessApi"/>: limits, problem details,
/// routing, authentication, rate limits, idempotency, every endpoint), built once over the worker's services. The
/// worker takes no custom middleware, so each HTTP trigger hands its request here: a fresh <see cref="HttpContext"/>
/// over the worker request's transport features (request line, headers, body, response, connection, abort), so the
/// application writes its answer straight into the worker's response, exactly as it would into Kestrel's.
/// </summary>
public sealed class ApplicationPipeline
{
    /// <summary>What a request carries on the wire; everything else (user, items, route, endpoint, services) is the pipeline's own.</summary>
    private static readonly Type[] TransportFeatures =
    [
        typeof(IHttpRequestFeature),
        typeof(IHttpResponseFeature),
        typeof(IHttpResponseBodyFeature),
        typeof(IRequestBodyPipeFeature),
        typeof(IHttpConnectionFeature),
        typeof(ITlsConnectionFeature),
        typeof(IHttpRequestLifetimeFeature),
        typeof(IHttpRequestIdentifierFeature),
        typeof(IHttpMaxRequestBodySizeFeature),
        typeof(IHttpRequestBodyDetectionFeature),
        typeof(IHttpBodyControlFeature),
        typeof(IHttpRequestTrailersFeature),
        typeof(IHttpResponseTrailersFeature),
        typeof(IHttpResetFeature),
        typeof(IHttpActivityFeature),
        typeof(IHttpMetricsTagsFeature),
    ];

    private readonly RequestDelegate _pipeline;
    private readonly IServiceScopeFactory _scopes;
    private readonly IHttpContextAccessor? _accessor;

    public ApplicationPipeline(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var app = new ApplicationBuilder(services);
        app.UseBusinessApi();
        _pipeline = app.Build();
        _scopes = services.GetRequiredService<IServiceScopeFactory>();
        _accessor = services.GetService<IHttpContextAccessor>();
    }

    /// <summary>Runs <paramref name="request"/> through the application; its answer is written to the request's own response.</summary>
    public async Task ForwardAsync(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var incoming = request.HttpContext;
        var features = new FeatureCollection();
        foreach (var type in TransportFeatures)
        {
            if (incoming.Features[type] is { } feature)
            {
                features[type] = feature;
            }
        }

        // The request's services live until the response is done: callbacks registered on it (OnCompleted) may use them.
        var scope = _scopes.CreateAsyncScope();
        incoming.Response.RegisterForDisposeAsync(scope);
        var context = new DefaultHttpContext(features) { RequestServices = scope.ServiceProvider };
        var previous = _accessor?.HttpContext;
        if (_accessor is not null)
        {
            _accessor.HttpContext = context;
        }

        try
        {
            await _pipeline(context);
        }
        finally
        {
            if (_accessor is not null)
            {
                _accessor.HttpContext = previous;
            }
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using BusinessApi.Platform.Approvals;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Configuration;
using BusinessApi.Platform.Health;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Secrets;
using BusinessApi.Platform.Security;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Telemetry;
using BusinessApi.Platform.Timers;
using BusinessApi.Platform.Workflows;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace BusinessApi.Platform;

/// <summary>The platform's wiring: configuration, storage, secrets, HTTP conventions, operators, audit.</summary>
public static class PlatformExtensions
{
    public const string HttpSection = "Http";

    /// <summary>The largest request body taken by default (<c>Http:MaxRequestBodyBytes</c>).</summary>
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>
    /// Behind Container Apps' ingress (Envoy) the connection comes from the proxy: with this on, the client
    /// address and scheme are taken from the one X-Forwarded-For / X-Forwarded-Proto hop the ingress adds,
    /// so per-address lockouts and rate limits see the client. Never turn it on where clients reach Kestrel directly.
    /// </summary>
    public const string TrustForwardedHeadersSetting = HttpSection + ":TrustForwardedHeaders";

    /// <summary>Registers everything the platform provides.</summary>
    public static IHostApplicationBuilder AddPlatform(this IHostApplicationBuilder builder, Action<PlatformOptions>? configure = null, bool includeLocalSettings = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var root = builder.Configuration.AddFunctionsConfiguration(builder.Environment.ContentRootPath, includeLocalSettings);
        var services = builder.Services;
        var configuration = builder.Configuration;
        services.Configure<PlatformOptions>(options =>
        {
            options.RootPath = root;
            configure?.Invoke(options);
        });
        services.AddSingleton(TimeProvider.System);
        builder.AddPlatformTelemetry();

        services.AddPlatformStorage(configuration);
        services.AddPlatformSecrets(configuration);

        // HTTP conventions
        var maxBody = configuration.GetValue<long?>($"{HttpSection}:MaxRequestBodyBytes") ?? DefaultMaxRequestBodyBytes;
        services.AddOptions<RequestLimitsOptions>().Bind(configuration.GetSection(HttpSection));
        var limits = configuration.GetSection(HttpSection).Get<RequestLimitsOptions>() ?? new RequestLimitsOptions();
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = maxBody;
            // Twice the API's own limits (RequestLimitsMiddleware answers those with problems); past these, Kestrel's bare answer.
            kestrel.Limits.MaxRequestLineSize = Math.Max(kestrel.Limits.MaxRequestLineSize, 2 * limits.MaxRequestTargetBytes);
            kestrel.Limits.MaxRequestHeadersTotalSize = Math.Max(kestrel.Limits.MaxRequestHeadersTotalSize, 2 * limits.MaxRequestHeaderBytes);
        });
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = 1; // only the hop the ingress appended; anything a client sent before it is ignored
            options.KnownIPNetworks.Clear(); // the ingress' addresses are not fixed; the setting is only on behind it
            options.KnownProxies.Clear();
        });
        services.ConfigureHttpJsonOptions(options => ConfigureJson(options.SerializerOptions));
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Platform.Http.Resources.ProblemTexts", typeof(PlatformExtensions).Assembly)));
        services.AddSingleton<ProblemTexts>();
        services.AddProblemDetails();
        services.AddOptions<IdempotencyOptions>().Bind(configuration.GetSection(IdempotencyOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageTable(IdempotencyMiddleware.TableName);
        services.AddStorageTable(IdempotencyPurgeJob.ExpiryTable);
        services.AddPlatformRateLimiting(configuration);

        // Operators: staff JWTs from the bank's identity provider, static keys as break-glass, a role per endpoint
        services.AddOptions<OperationsOptions>().Bind(configuration.GetSection(OperationsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OperatorKeys>();
        services.AddHttpContextAccessor();
        var authentication = services.AddAuthentication(BearerSchemes.SelectorScheme)
            .AddScheme<AuthenticationSchemeOptions, OperatorAuthenticationHandler>(OperatorAuthenticationHandler.SchemeName, null);
        OperatorJwt.Add(authentication, configuration);
        BearerSchemes.AddSelector(authentication);
        var authorization = services.AddAuthorizationBuilder()
            .AddPolicy(OperatorAuthenticationHandler.PolicyName, policy => policy
                .AddAuthenticationSchemes(OperatorJwt.OperatorsScheme)
                .RequireAuthenticatedUser()
                .RequireClaim(OperatorRoles.KindClaim));
        foreach (var role in OperatorRoles.All)
        {
            authorization.AddPolicy(OperatorRoles.PolicyFor(role), policy => policy
                .AddAuthenticationSchemes(OperatorJwt.OperatorsScheme)
                .RequireClaim(OperatorRoles.KindClaim)
                .RequireClaim(OperatorRoles.RoleClaim, role));
        }

        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, OperatorAuthorizationResultHandler>();

        // Durable workflows (definitions are added by capabilities with AddWorkflow<T>)
        services.AddWorkflows(configuration);
        services.AddFourEyes();
        services.AddTimers(configuration);
        services.AddScheduledJob<IdempotencyPurgeJob>();

        // Audit
        services.AddSingleton<AuditJournal>();
        services.AddSingleton<FailedAuthenticationJournal>();
        services.AddHostedService(sp => sp.GetRequiredService<FailedAuthenticationJournal>());
        services.AddStorageTable(AuditJournal.TableName);
        services.AddSingleton<AuditAnchors>();
        services.AddStorageContainer(AuditAnchors.ContainerName, StorageServiceCollectionExtensions.ArchiveSetting);
        services.AddScheduledJob<AuditAnchorJob>();

        // Health and documentation
        services.AddOptions<Sandbox.SandboxOptions>().BindConfiguration(Sandbox.SandboxOptions.Section).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<Sandbox.SandboxOptions>, Sandbox.SandboxOptionsValidation>();
        services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage", tags: ["ready"])
            .AddCheck<Sandbox.SandboxHealthCheck>("sandbox", tags: ["ready"]);
        services.AddOpenApi(CustomerDocument, options =>
        {
            options.ShouldInclude = description => !IsOperatorPath(description.RelativePath);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Business API",
                    Version = "v1",
                    Description = "The bank's Business API: credentials, sessions, signed payment orders, notices and the archive. " +
                        "Errors are RFC 9457 problem details with a stable `code`; texts follow `Accept-Language` (ru, kk, en).",
                };
                return Task.CompletedTask;
            });
        });
        services.AddOpenApi(OperatorDocument, options =>
        {
            options.ShouldInclude = description => IsOperatorPath(description.RelativePath);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "Business API: bank staff",
                    Version = "v1",
                    Description = "The bank's operator endpoints (/api/v1/ops), served on the internal ingress only. Staff sign in with the " +
                        "bank's identity provider; each endpoint needs one app role (ops.read, ops.customers, ops.payments, ops.trust, " +
                        "ops.security, ops.calendar). Four-eyes actions answer 202 with a pending approval.",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[OperatorJwt.SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "A staff token from the bank's identity provider (Entra ID): audience Operators:Audience, roles in `roles`.",
                };
                document.Components.SecuritySchemes[OperatorAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "Break-glass static key (Operations:ApiKeys): Development, or with Operations:AllowStaticKeys; never approves.",
                };
                return Task.CompletedTask;
            });
        });
        return builder;
    }

    /// <summary>The OpenAPI document of customer endpoints (<c>/openapi/v1.json</c>, shown at <c>/docs</c>).</summary>
    public const string CustomerDocument = "v1";

    /// <summary>The OpenAPI document of operator endpoints (<c>/openapi/ops.json</c>).</summary>
    public const string OperatorDocument = "ops";

    private static bool IsOperatorPath(string? relativePath) =>
        relativePath is not null && (relativePath == "api/v1/ops" || relativePath.StartsWith("api/v1/ops/", StringComparison.OrdinalIgnoreCase));

    /// <summary>The API's JSON conventions, for code that serialises outside the HTTP pipeline (stored documents, data files).</summary>
    public static readonly JsonSerializerOptions JsonOptions = CreateJsonOptions();

    public static void ConfigureJson(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ConfigureJson(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>
    /// The middleware pipeline, in the order the conventions need, ending in the endpoints: the platform's own
    /// (health, OpenAPI, docs) and those <paramref name="mapEndpoints"/> maps. Both heads build their pipeline with
    /// it: the Kestrel host on its <see cref="WebApplication"/>, the Functions head on an application builder of its own.
    /// </summary>
    public static IApplicationBuilder UsePlatform(this IApplicationBuilder app, Action<IEndpointRouteBuilder> mapEndpoints)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(mapEndpoints);
        if (app.ApplicationServices.GetRequiredService<IConfiguration>().GetValue<bool>(TrustForwardedHeadersSetting))
        {
            app.UseForwardedHeaders();
        }

        app.UseMiddleware<RequestIdMiddleware>();
        app.UseMiddleware<RequestLimitsMiddleware>();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            if (response.ContentType is null && response.ContentLength is null or 0)
            {
                await ProblemWriter.WriteAsync(context.HttpContext, new ApiProblem(PlatformProblems.ForStatus(response.StatusCode)));
            }
        });
        if (!app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<OperationsOptions>>().Value.Endpoints)
        {
            // The public ingress: operator paths do not exist here (they are served by the internal app).
            app.Use((context, next) =>
            {
                if (context.Request.Path.StartsWithSegments(OperationsPrefix, StringComparison.OrdinalIgnoreCase)
                    || context.Request.Path.StartsWithSegments($"/openapi/{OperatorDocument}.json", StringComparison.OrdinalIgnoreCase))
                {
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    return Task.CompletedTask;
                }

                return next(context);
            });
        }

        app.UseRouting();
        app.UseFourEyesBuffering();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseMiddleware<IdempotencyMiddleware>();
        app.UseEndpoints(endpoints =>
        {
            endpoints.MapHealthChecks(HealthPath, new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealthAsync })
                .DisableRateLimiting().ExcludeFromDescription();
            endpoints.MapHealthChecks(ReadinessPath, new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready"), ResponseWriter = WriteHealthAsync })
                .DisableRateLimiting().ExcludeFromDescription();
            endpoints.MapOpenApi().DisableRateLimiting();
            endpoints.MapScalarApiReference("/docs", options => options
                .WithTitle("Business API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json")).DisableRateLimiting();
            mapEndpoints(endpoints);
        });
        return app;
    }

    public const string HealthPath = "/healthz";

    public const string ReadinessPath = "/readyz";

    /// <summary>The <c>/api/v1</c> group: JSON, validation of every <see cref="IValidatable"/> body.</summary>
    public static RouteGroupBuilder MapApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v1");
        api.AddEndpointFilter<ValidationFilter>();
        return api;
    }

    public const string OperationsPath = "/ops";

    /// <summary>Every operator endpoint's path starts so: the authentication selector sends these to staff sign-in.</summary>
    public const string OperationsPrefix = "/api/v1" + OperationsPath;

    /// <summary>The <c>/api/v1/ops</c> group for bank staff: each endpoint needs an operator role (GETs default to <c>ops.read</c>).</summary>
    public static RouteGroupBuilder MapOperations(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        var ops = api.MapGroup(OperationsPath)
            .RequireAuthorization(OperatorAuthenticationHandler.PolicyName)
            .WithTags("Operations")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        OperatorRoleConventions.EnforceRoles(ops);
        return ops;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString().ToUpperInvariant() switch { "HEALTHY" => "healthy", "DEGRADED" => "degraded", _ => "unhealthy" },
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        }));
    }
}

using System.Security.Claims;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace BusinessApi.Platform.Security;

/// <summary>
/// Bank staff call <c>/api/v1/ops</c> with a JWT from the bank's OpenID Connect provider (Entra ID): issuer and
/// signing keys from <c>{Operators:Authority}/.well-known/openid-configuration</c>, audience
/// <c>Operators:Audience</c>, roles in <c>roles</c>. The person is <c>oid</c> (Entra's object id, stable
/// across apps) or else <c>sub</c>; the journal records <c>staff:{id}</c> with the token's <c>name</c>.
/// </summary>
public static class OperatorJwt
{
    public const string SchemeName = "OperatorJwt";

    /// <summary>The scheme every <c>/ops</c> request authenticates with: a JWT goes to staff sign-in, anything else to break-glass keys.</summary>
    public const string OperatorsScheme = "Operators";

    public const string ObjectIdClaim = "oid";
    public const string SubjectClaim = "sub";

    internal static void Add(AuthenticationBuilder authentication, IConfiguration configuration)
    {
        var section = configuration.GetSection(OperatorsOptions.Section);
        authentication.Services.AddOptions<OperatorsOptions>().Bind(section).ValidateDataAnnotations()
            .Validate(o => string.IsNullOrWhiteSpace(o.Authority) || Uri.TryCreate(o.Authority, UriKind.Absolute, out _),
                "Operators:Authority must be an absolute URL (the issuer).")
            .Validate(o => string.IsNullOrWhiteSpace(o.Authority) || !string.IsNullOrWhiteSpace(o.Audience),
                "Operators:Audience is required when Operators:Authority is set.")
            .ValidateOnStart();
        var configured = !string.IsNullOrWhiteSpace(section["Authority"]);
        if (configured)
        {
            authentication.AddJwtBearer(SchemeName, options =>
            {
                var settings = section.Get<OperatorsOptions>() ?? new OperatorsOptions();
                options.Authority = settings.Authority;
                options.Audience = settings.Audience;
                options.RequireHttpsMetadata = settings.RequireHttpsMetadata;
                options.MapInboundClaims = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidateIssuer = true,
                    ValidateAudience = true,
                    ValidAudience = settings.Audience,
                    ValidateLifetime = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ClockSkew = TimeSpan.FromMinutes(2),
                    NameClaimType = OperatorRoles.NameClaim,
                    RoleClaimType = OperatorRoles.RoleClaim,
                };
                options.Events = new JwtBearerEvents
                {
                    OnTokenValidated = IdentifyPerson,
                    OnAuthenticationFailed = RecordFailureAsync,
                    OnChallenge = WriteChallengeAsync,
                    OnForbidden = context => ProblemWriter.WriteAsync(context.HttpContext, new ApiProblem(PlatformProblems.Forbidden)),
                };
            });

            // Token lifetimes are judged by the app's clock (TimeProvider), like every other deadline here.
            authentication.Services.AddOptions<JwtBearerOptions>(SchemeName).Configure<TimeProvider>((options, time) =>
            {
                options.TimeProvider = time;
                options.TokenValidationParameters.LifetimeValidator = (notBefore, expires, _, parameters) =>
                {
                    var now = time.GetUtcNow().UtcDateTime;
                    return expires is { } end && end.ToUniversalTime() > now - parameters.ClockSkew
                        && (notBefore is not { } start || start.ToUniversalTime() <= now + parameters.ClockSkew);
                };
            });
        }

        authentication.AddPolicyScheme(OperatorsScheme, "Bank staff: identity-provider JWT, else a break-glass key", scheme =>
            scheme.ForwardDefaultSelector = context =>
            {
                var header = context.Request.Headers.Authorization.ToString();
                var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
                return configured && BearerSchemes.LooksLikeJwt(token) ? SchemeName : OperatorAuthenticationHandler.SchemeName;
            });
    }

    private static Task IdentifyPerson(TokenValidatedContext context)
    {
        var principal = context.Principal!;
        var person = principal.FindFirstValue(ObjectIdClaim) ?? principal.FindFirstValue(SubjectClaim);
        if (string.IsNullOrWhiteSpace(person) || person.Length > 128)
        {
            context.Fail("The token names no person (oid or sub).");
            return Task.CompletedTask;
        }

        var identity = (ClaimsIdentity)principal.Identity!;
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, "staff:" + person));
        identity.AddClaim(new Claim(OperatorRoles.KindClaim, OperatorRoles.Person));
        return Task.CompletedTask;
    }

    private static async Task RecordFailureAsync(AuthenticationFailedContext context)
    {
        var failures = context.HttpContext.RequestServices.GetRequiredService<Audit.FailedAuthenticationJournal>();
        await failures.RecordAsync("operator.authentication", context.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            new Dictionary<string, string>
            {
                ["path"] = context.Request.Path.ToString(),
                ["reason"] = context.Exception switch
                {
                    SecurityTokenExpiredException or SecurityTokenInvalidLifetimeException => "expired",
                    SecurityTokenInvalidAudienceException => "audience",
                    SecurityTokenInvalidIssuerException => "issuer",
                    SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "signature",
                    _ => "invalid",
                },
            }, context.HttpContext.TraceIdentifier, context.HttpContext.RequestAborted);
    }

    private static async Task WriteChallengeAsync(JwtBearerChallengeContext context)
    {
        context.HandleResponse();
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = context.AuthenticateFailure is null
            ? "Bearer realm=\"operations\""
            : "Bearer realm=\"operations\", error=\"invalid_token\"";
        await ProblemWriter.WriteAsync(context.HttpContext, new ApiProblem(PlatformProblems.Unauthorized));
    }
}

/// <summary>Problems of operators' identity and powers.</summary>
public static class OperatorProblems
{
    public static readonly ProblemType RoleRequired = new("role_required", StatusCodes.Status403Forbidden);
    public static readonly ProblemType StaticKeysDisabled = new("static_keys_disabled", StatusCodes.Status401Unauthorized);
}

/// <summary>
/// Answers a refused <c>/ops</c> call whose caller lacks the endpoint's role with 403 <c>role_required</c>
/// naming the role; everything else is answered as the framework would.
/// </summary>
public sealed class OperatorAuthorizationResultHandler : Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler
{
    private readonly Microsoft.AspNetCore.Authorization.Policy.AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(
        RequestDelegate next, HttpContext context, Microsoft.AspNetCore.Authorization.AuthorizationPolicy policy,
        Microsoft.AspNetCore.Authorization.Policy.PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Forbidden && context.GetEndpoint()?.Metadata.GetMetadata<OperatorRoleMetadata>() is { } required
            && context.User.HasClaim(c => c.Type == OperatorRoles.KindClaim))
        {
            await ProblemWriter.WriteAsync(context, new ApiProblem(OperatorProblems.RoleRequired)
            {
                DetailArguments = [required.Role],
                Extensions = new Dictionary<string, object?> { ["role"] = required.Role },
            });
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}

/// <summary>Declaring and enforcing the role of each <c>/ops</c> endpoint.</summary>
public static class OperatorRoleConventions
{
    /// <summary>The endpoint needs <paramref name="role"/>.</summary>
    public static TBuilder RequireOperatorRole<TBuilder>(this TBuilder builder, string role)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!OperatorRoles.All.Contains(role, StringComparer.Ordinal))
        {
            throw new ArgumentException($"'{role}' is not an operator role.", nameof(role));
        }

        builder.Add(endpoint => endpoint.Metadata.Add(new OperatorRoleMetadata(role)));
        return builder.RequireAuthorization(OperatorRoles.PolicyFor(role));
    }

    /// <summary>
    /// On the <c>/ops</c> group: a GET without a declared role needs <see cref="OperatorRoles.Read"/>; any other
    /// endpoint without one stops the app at start-up, so no operator action exists without a role.
    /// </summary>
    internal static void EnforceRoles(RouteGroupBuilder ops) =>
        ((IEndpointConventionBuilder)ops).Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<OperatorRoleMetadata>().Any())
            {
                return;
            }

            var methods = endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).ToList();
            if (methods.Count > 0 && methods.All(m => m is "GET" or "HEAD"))
            {
                endpoint.Metadata.Add(new OperatorRoleMetadata(OperatorRoles.Read));
                endpoint.Metadata.Add(new Microsoft.AspNetCore.Authorization.AuthorizeAttribute(OperatorRoles.PolicyFor(OperatorRoles.Read)));
                return;
            }

            throw new InvalidOperationException(
                $"The operator endpoint '{endpoint.DisplayName}' declares no operator role (RequireOperatorRole).");
        });
}

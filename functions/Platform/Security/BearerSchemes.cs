using Microsoft.AspNetCore.Authentication;

namespace BusinessApi.Platform.Security;

/// <summary>A kind of bearer token a capability understands, recognised by its shape.</summary>
public sealed record BearerScheme(string SchemeName, Func<string, bool> Recognises);

/// <summary>
/// One <c>Authorization: Bearer</c> header carries several kinds of token (client tokens, user sessions,
/// operator keys). The default scheme forwards each request to the scheme that recognises its token, and
/// to the operator scheme when none does. Requests to <c>/api/v1/ops</c> go to staff sign-in whatever the token.
/// </summary>
public static class BearerSchemes
{
    public const string SelectorScheme = "Bearer";

    public static IServiceCollection AddBearerScheme<THandler>(this IServiceCollection services, string schemeName, Func<string, bool> recognises)
        where THandler : AuthenticationHandler<AuthenticationSchemeOptions>
    {
        services.AddSingleton(new BearerScheme(schemeName, recognises));
        services.AddAuthentication(SelectorScheme)
            .AddScheme<AuthenticationSchemeOptions, THandler>(schemeName, null);
        return services;
    }

    /// <summary>Describes a bearer scheme in the OpenAPI document.</summary>
    public static IServiceCollection AddOpenApiBearerScheme(this IServiceCollection services, string schemeName, string description, string? bearerFormat = null) =>
        services.Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", openApi => openApi.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new Microsoft.OpenApi.OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[schemeName] = new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = bearerFormat,
                Description = description,
            };
            return Task.CompletedTask;
        }));

    /// <summary>Three dot-separated parts, the first a base64url JSON object (<c>eyJ</c>): a JWT's shape, whoever issued it.</summary>
    public static bool LooksLikeJwt(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return token.StartsWith("eyJ", StringComparison.Ordinal) && token.Count(c => c == '.') == 2;
    }

    internal static void AddSelector(AuthenticationBuilder authentication) =>
        authentication.AddPolicyScheme(SelectorScheme, "By the bearer token's shape", scheme =>
            scheme.ForwardDefaultSelector = context =>
            {
                if (context.Request.Path.StartsWithSegments(PlatformExtensions.OperationsPrefix, StringComparison.OrdinalIgnoreCase))
                {
                    return OperatorJwt.OperatorsScheme; // bank staff only: customers' tokens are never tried here
                }

                var header = context.Request.Headers.Authorization.ToString();
                if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                {
                    var token = header["Bearer ".Length..].Trim();
                    foreach (var candidate in context.RequestServices.GetServices<BearerScheme>())
                    {
                        if (candidate.Recognises(token))
                        {
                            return candidate.SchemeName;
                        }
                    }
                }

                return OperatorAuthenticationHandler.SchemeName;
            });
}

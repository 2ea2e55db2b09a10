using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Security;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;
using Microsoft.OpenApi;

namespace BusinessApi.Credentials;

public static class CredentialsExtensions
{
    public static IServiceCollection AddCredentials(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CredentialOptions>().Bind(configuration.GetSection(CredentialOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart(); // caps are refused at start-up, not clamped at use
        services.AddStorageTable(CredentialStore.TableName);
        services.AddStorageTable(CredentialStore.DueTable);
        services.AddSingleton<CredentialStore>();
        services.AddSingleton<SecretHasher>();
        services.AddSingleton<AccessTokens>();
        services.AddSingleton<AuthenticationThrottle>();
        services.AddSingleton<CredentialService>();
        services.AddScheduledJob<CredentialInactivityJob>();
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Credentials.Resources.CredentialTexts", typeof(CredentialsExtensions).Assembly)));

        services.AddOpenApiBearerScheme(ClientTokenAuthenticationHandler.SchemeName,
            "Client token from POST /api/v1/oauth/token (client credentials grant); scopes: " + string.Join(", ", CustomerAccess.AllScopes) + ".", "JWT");

        services.AddBearerScheme<ClientTokenAuthenticationHandler>(ClientTokenAuthenticationHandler.SchemeName, AccessTokens.LooksLikeOurs);
        return services;
    }

    public static void MapCredentials(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        ops.MapPost("/customers/{customerId}/credentials/{clientId}/block", ManageCredentials.BlockByOperatorAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithName("BlockCredentialByOperator")
            .WithTags("API credentials")
            .WithSummary("On the customer's phone call, the bank blocks one pair as compromised (R-05, R-38): tokens stop at once and documents received after it are refused.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/oauth/token", TokenEndpoint.HandleAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.RequestBody = TokenRequestForm.OpenApiBody();
                return Task.CompletedTask;
            })
            .Produces<TokenResponse>()
            .Produces<OAuthErrorBody>(StatusCodes.Status400BadRequest)
            .Produces<OAuthErrorBody>(StatusCodes.Status401Unauthorized)
            .Produces<OAuthErrorBody>(StatusCodes.Status429TooManyRequests)
            .WithName("IssueToken")
            .WithTags("Sign-in and tokens")
            .WithSummary("OAuth 2.0 client credentials grant (RFC 6749 §4.4): an access token for a Client ID and Client Secret.");

        var credentials = api.MapGroup("/credentials")
            .RequireCustomerFunction(CustomerAccess.ManageCredentials)
            .WithTags("API credentials")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        credentials.MapPost("/", ManageCredentials.GenerateAsync)
            .WithName("GenerateCredential")
            .WithSummary("Generate a Client ID and Client Secret for a Software Product; the secret is in this answer only.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        credentials.MapGet("/", ManageCredentials.ListAsync)
            .WithName("ListCredentials")
            .WithSummary("The customer's pairs with their status and last use.");
        credentials.MapGet("/{clientId}", ManageCredentials.GetAsync)
            .WithName("GetCredential")
            .WithSummary("One pair: status (active, blockedInactive, blockedCompromised, superseded, revoked) and last use.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        credentials.MapGet("/{clientId}/history", ManageCredentials.HistoryAsync)
            .WithName("GetCredentialHistory")
            .WithSummary("The pair's journal: generation, re-issue, first use of each day, blocks, compromise reports, failed authentications.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        credentials.MapPost("/{clientId}/reissue", ManageCredentials.ReissueAsync)
            .WithName("ReissueCredential")
            .WithSummary("A new pair for the same Software Product (new scopes or API version); the old one becomes superseded at once.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        credentials.MapPost("/{clientId}/compromise", ManageCredentials.CompromiseAsync)
            .WithName("ReportCredentialCompromise")
            .WithSummary("Report the pair compromised: blocked at once; its live tokens stop working within seconds.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        credentials.MapPost("/{clientId}/revoke", ManageCredentials.RevokeAsync)
            .WithName("RevokeCredential")
            .WithSummary("Withdraw an active pair that is no longer needed.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    /// <summary>
    /// The token request's form for the OpenAPI description. Declared by hand: an <c>Accepts</c> constraint
    /// would make routing answer other media types with a bare 415, where RFC 6749 wants <c>invalid_request</c>.
    /// </summary>
    private static class TokenRequestForm
    {
        public static OpenApiRequestBody OpenApiBody() => new()
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/x-www-form-urlencoded"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string> { "grant_type" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["grant_type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "client_credentials" },
                            ["scope"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Space-separated subset of the pair's scopes; all of them when omitted." },
                            ["client_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "When not using HTTP Basic." },
                            ["client_secret"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "When not using HTTP Basic." },
                        },
                    },
                },
            },
        };
    }
}

using System.Security.Claims;
using System.Text.Encodings.Web;
using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace BusinessApi.Credentials;

/// <summary>
/// Client software calls with <c>Authorization: Bearer &lt;access token&gt;</c>. A token is accepted when its
/// signature and lifetime check out and its pair is still active (trusted for a few seconds, so a blocked
/// pair's live tokens stop working within seconds, not at their expiry). Every accepted request counts as
/// use of the pair for the 90-day rule. Failures follow RFC 6750: 401 <c>invalid_token</c>, 403
/// <c>insufficient_scope</c>, with problem-details bodies.
/// </summary>
public sealed class ClientTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    AccessTokens tokens,
    CredentialService credentials) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ClientToken";

    private const string FailureItem = "client-token-failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerToken(Request) is not { } token || !AccessTokens.LooksLikeOurs(token))
        {
            return AuthenticateResult.NoResult();
        }

        var claims = await tokens.ValidateAsync(token, Context.RequestAborted);
        if (claims is null)
        {
            return Fail("The access token is invalid or expired.");
        }

        var stored = await credentials.GetForRequestAsync(claims.ClientId, Context.RequestAborted);
        if (stored is null)
        {
            return Fail("The access token's Client ID no longer exists.");
        }

        var status = await credentials.RecordUseAsync(stored, "client:" + claims.ClientId, Context.TraceIdentifier, Context.RequestAborted);
        if (status != CredentialStatus.Active)
        {
            return Fail($"The access token's Client ID is {CredentialService.StatusText(status)}.");
        }

        List<Claim> granted =
        [
            new Claim(ClaimTypes.NameIdentifier, "client:" + claims.ClientId),
            new Claim(CustomerAccess.ClientIdClaim, claims.ClientId),
            new Claim(CustomerAccess.CustomerIdClaim, claims.CustomerId),
            new Claim(CustomerAccess.ScopeClaim, CredentialRules.ScopeText(claims.Scopes)),
        ];
        if (!stored.Credential.Accounts.Contains(ClientCredential.AllAccounts, StringComparer.Ordinal))
        {
            granted.Add(new Claim(CustomerAccess.AccountsClaim, string.Join(' ', stored.Credential.Accounts))); // the pair's creator's accounts only
        }

        var identity = new ClaimsIdentity(granted, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var description = Context.Items[FailureItem] as string;
        Response.Headers.WWWAuthenticate = description is null
            ? "Bearer realm=\"business-api\""
            : $"Bearer realm=\"business-api\", error=\"invalid_token\", error_description=\"{description}\"";
        await ProblemWriter.WriteAsync(Context, new ApiProblem(description is null ? PlatformProblems.Unauthorized : CredentialProblems.InvalidToken));
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer realm=\"business-api\", error=\"insufficient_scope\"";
        await ProblemWriter.WriteAsync(Context, new ApiProblem(CredentialProblems.InsufficientScope));
    }

    /// <summary>The bearer token of a request, if it has one.</summary>
    public static string? BearerToken(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    private AuthenticateResult Fail(string description)
    {
        Context.Items[FailureItem] = description;
        return AuthenticateResult.Fail(description);
    }
}

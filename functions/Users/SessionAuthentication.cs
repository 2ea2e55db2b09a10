using System.Security.Claims;
using System.Text.Encodings.Web;
using BusinessApi.Credentials;
using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace BusinessApi.Users;

/// <summary>
/// <c>Authorization: Bearer bapi_ss_…</c>: a user session. The claims carry the user's powers: functions
/// (a portal session only), the scopes they allow (a software session: intersected with its Client ID's),
/// and the accounts. A session good only for a password change carries no customer at all, so every
/// customer endpoint refuses it.
/// </summary>
public sealed class SessionAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    UserService users) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Session";
    public const string UserIdClaim = "user_id";
    public const string PasswordChangeOnlyClaim = "password_change_only";
    public const string ContextItem = "user-session";
    private const string FailureItem = "session-failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (ClientTokenAuthenticationHandler.BearerToken(Request) is not { } token || !Session.LooksLikeToken(token))
        {
            return AuthenticateResult.NoResult();
        }

        var (context, failure) = await users.ValidateAsync(token, Context.RequestAborted);
        if (context is null)
        {
            Context.Items[FailureItem] = failure;
            return AuthenticateResult.Fail(failure ?? "invalid session");
        }

        Context.Items[ContextItem] = context;
        var user = context.User;
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, "user:" + user.UserId),
            new(UserIdClaim, user.UserId),
        };
        if (context.PasswordChangeOnly)
        {
            claims.Add(new Claim(PasswordChangeOnlyClaim, "true"));
        }
        else
        {
            claims.Add(new Claim(CustomerAccess.CustomerIdClaim, user.CustomerId));
            claims.Add(new Claim(CustomerAccess.ScopeClaim, string.Join(' ', context.Scopes)));
            claims.Add(new Claim(CustomerAccess.AccountsClaim, string.Join(' ', context.Accounts)));
            if (context.Session.Kind == SessionKind.Portal)
            {
                claims.AddRange(user.Functions.Select(f => new Claim(CustomerAccess.FunctionClaim, f)));
            }
            else
            {
                claims.Add(new Claim(CustomerAccess.ClientIdClaim, context.Session.ClientId ?? ""));
            }
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failed = Context.Items.ContainsKey(FailureItem);
        Response.Headers.WWWAuthenticate = failed ? "Bearer realm=\"business-api\", error=\"invalid_token\"" : "Bearer realm=\"business-api\"";
        await ProblemWriter.WriteAsync(Context, new ApiProblem(failed ? UserProblems.SessionEnded : PlatformProblems.Unauthorized));
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var restricted = Context.User.HasClaim(PasswordChangeOnlyClaim, "true");
        await ProblemWriter.WriteAsync(Context, new ApiProblem(restricted ? UserProblems.PasswordChangeRequired : PlatformProblems.Forbidden));
    }
}

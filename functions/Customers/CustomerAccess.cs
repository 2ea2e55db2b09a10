using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;

namespace BusinessApi.Customers;

/// <summary>
/// Who the caller acts for, from claims: <c>customer_id</c> and the OAuth <c>scope</c> list. Endpoints
/// for customers depend only on these claims, so the client tokens of the credentials issue plug in
/// without touching them.
/// </summary>
public static class CustomerAccess
{
    public const string CustomerIdClaim = "customer_id";
    public const string ScopeClaim = "scope";
    public const string ActingOperatorClaim = "acting_operator";

    /// <summary>What a person may do for the customer in Internet-banking (the users issue's powers), one claim per function.</summary>
    public const string FunctionClaim = "customer_function";

    /// <summary>The Client ID a request came in under, when it came with a client token.</summary>
    public const string ClientIdClaim = "client_id";

    public const string ManageCredentials = "manageCredentials";
    public const string ManageUsers = "manageUsers";
    public const string PolicyName = "Customer";

    /// <summary>Until client tokens exist, an operator may act as a customer by naming it in this header.</summary>
    public const string ActAsHeader = "X-Act-As-Customer";

    public const string AccountsRead = "accounts.read";
    public const string StatementsRead = "statements.read";
    public const string DocumentsRead = "documents.read";
    public const string DocumentsWrite = "documents.write";
    public const string NotificationsRead = "notifications.read";

    public static readonly IReadOnlyList<string> AllScopes = [AccountsRead, StatementsRead, DocumentsRead, DocumentsWrite, NotificationsRead];

    public static string? CustomerId(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(CustomerIdClaim);
    }

    public static bool HasScope(this ClaimsPrincipal user, string scope)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindAll(ScopeClaim).Any(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(scope, StringComparer.Ordinal));
    }

    public static bool HasFunction(this ClaimsPrincipal user, string function)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.HasClaim(FunctionClaim, function);
    }

    /// <summary>Requires a person acting for a customer with <paramref name="function"/> (a customer admin); client tokens never carry one.</summary>
    public static TBuilder RequireCustomerFunction<TBuilder>(this TBuilder builder, string function)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(policy => policy
            .RequireAuthenticatedUser()
            .RequireClaim(CustomerIdClaim)
            .RequireAssertion(context => context.User.HasFunction(function)));

    /// <summary>Who did it, for the journal: the acting operator, the client, or the user.</summary>
    public static string Actor(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(ActingOperatorClaim) ?? user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
    }

    /// <summary>Requires a customer identity holding <paramref name="scope"/>; without one the answer is 401 or 403.</summary>
    public static TBuilder RequireCustomerScope<TBuilder>(this TBuilder builder, string scope)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(policy => policy
            .RequireAuthenticatedUser()
            .RequireClaim(CustomerIdClaim)
            .RequireAssertion(context => context.User.HasScope(scope)));
}

/// <summary>
/// The interim way in for a customer admin, until users and portal sessions exist: an authenticated
/// operator who sends <see cref="CustomerAccess.ActAsHeader"/> acts for that customer with the admin
/// functions (managing API credentials), but with no API scope: information services take client
/// tokens only. The acting operator stays in the claims, so audit entries name a person.
/// </summary>
public sealed class OperatorActingAsCustomer(IHttpContextAccessor accessor) : IClaimsTransformation
{
    public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        var header = accessor.HttpContext?.Request.Headers[CustomerAccess.ActAsHeader].ToString();
        if (string.IsNullOrEmpty(header) || !principal.IsInRole("operator") || principal.HasClaim(c => c.Type == CustomerAccess.CustomerIdClaim)
            || !Customer.IsWellFormedId(header))
        {
            return Task.FromResult(principal);
        }

        var acting = new ClaimsIdentity(
        [
            new Claim(CustomerAccess.CustomerIdClaim, header),
            new Claim(CustomerAccess.FunctionClaim, CustomerAccess.ManageCredentials),
            new Claim(CustomerAccess.ActingOperatorClaim, principal.FindFirstValue(ClaimTypes.NameIdentifier) ?? "operator"),
        ], "ActingAsCustomer");
        var transformed = principal.Clone();
        transformed.AddIdentity(acting);
        return Task.FromResult(transformed);
    }
}

using System.Security.Claims;

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

    /// <summary>What a person may do for the customer in Internet-banking (the users issue's powers), one claim per function.</summary>
    public const string FunctionClaim = "customer_function";

    /// <summary>The accounts a user may act on, space-separated IBANs or <c>*</c>; absent for a client token (all the customer's accounts).</summary>
    public const string AccountsClaim = "accounts";

    /// <summary>The Client ID a request came in under, when it came with a client token.</summary>
    public const string ClientIdClaim = "client_id";

    public const string ManageCredentials = "manageCredentials";
    public const string ManageUsers = "manageUsers";
    public const string PolicyName = "Customer";

    public const string AccountsRead = "accounts.read";
    public const string StatementsRead = "statements.read";
    public const string DocumentsRead = "documents.read";
    public const string DocumentsWrite = "documents.write";
    public const string NotificationsRead = "notifications.read";

    /// <summary>Adding, deleting and re-keying webhooks: where the customer's notices go is not a reader's choice.</summary>
    public const string NotificationsManage = "notifications.manage";

    public static readonly IReadOnlyList<string> AllScopes = [AccountsRead, StatementsRead, DocumentsRead, DocumentsWrite, NotificationsRead, NotificationsManage];

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

    /// <summary>Whether the caller's powers cover the account: a client token covers all the customer's accounts.</summary>
    public static bool MayAccessAccount(this ClaimsPrincipal user, string iban)
    {
        ArgumentNullException.ThrowIfNull(user);
        var accounts = user.FindFirstValue(AccountsClaim);
        return accounts is null || accounts.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(a => a == "*" || string.Equals(a, iban, StringComparison.Ordinal));
    }

    /// <summary>Who did it, for the journal: <c>operator:…</c>, <c>client:…</c> or <c>user:…</c>.</summary>
    public static string Actor(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
    }

    /// <summary>Requires a customer identity holding <paramref name="scope"/>; without one the answer is 401 or 403.</summary>
    public static TBuilder RequireCustomerScope<TBuilder>(this TBuilder builder, string scope)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(policy => policy
            .RequireAuthenticatedUser()
            .RequireClaim(CustomerIdClaim)
            .RequireAssertion(context => context.User.HasScope(scope)));
}

/// <summary>Marks an endpoint a suspended customer may still call: the communication channel, incident reports, signing out, the password change.</summary>
public sealed class AllowedWhileSuspended
{
    public static readonly AllowedWhileSuspended Instance = new();
}

/// <summary>Marks an endpoint that no suspension lets through, whatever its grounds (webhook management).</summary>
public sealed class RefusedWhileSuspended
{
    public static readonly RefusedWhileSuspended Instance = new();

    private RefusedWhileSuspended()
    {
    }
}

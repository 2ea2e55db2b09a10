using System.ComponentModel.DataAnnotations;
using System.Security.Claims;

namespace BusinessApi.Platform.Security;

/// <summary>
/// The app roles of bank staff, as the bank's identity provider (Microsoft Entra ID) issues them in the
/// token's <c>roles</c> claim. Every <c>/api/v1/ops</c> endpoint needs exactly one of them.
/// </summary>
public static class OperatorRoles
{
    /// <summary>Reads every operator view: customers, accounts, documents, journals, alerts.</summary>
    public const string Read = "ops.read";

    /// <summary>Customers, their accounts and users; the bank's blocks of a user or a credential pair.</summary>
    public const string Customers = "ops.customers";

    /// <summary>Money: cash-in, restrictions, document refusals and releases, refunds, penalties, tariffs, workflow retries.</summary>
    public const string Payments = "ops.payments";

    /// <summary>Who may sign: trust anchors, CRLs, blocked certificates.</summary>
    public const string Trust = "ops.trust";

    /// <summary>Suspension and resumption, the bank's termination, the audit trail's anchors.</summary>
    public const string Security = "ops.security";

    /// <summary>The bank's calendar and announced technical works.</summary>
    public const string Calendar = "ops.calendar";

    public static readonly IReadOnlyList<string> All = [Read, Customers, Payments, Trust, Security, Calendar];

    /// <summary>The claim type roles arrive in (Entra ID's <c>roles</c>), for both kinds of operator identity.</summary>
    public const string RoleClaim = "roles";

    /// <summary>The claim type of the person's display name.</summary>
    public const string NameClaim = "name";

    /// <summary><see cref="Person"/> or <see cref="BreakGlass"/>.</summary>
    public const string KindClaim = "operator_kind";

    public const string Person = "person";
    public const string BreakGlass = "break-glass";

    /// <summary>The authorization policy of one role.</summary>
    public static string PolicyFor(string role) => "operator-role:" + role;

    public static bool IsBreakGlass(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.HasClaim(KindClaim, BreakGlass);
    }

    /// <summary>The person's display name as the identity provider gave it, or null.</summary>
    public static string? DisplayName(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.FindFirstValue(NameClaim);
    }
}

/// <summary>Endpoint metadata: the operator role an <c>/ops</c> endpoint needs.</summary>
public sealed record OperatorRoleMetadata(string Role);

/// <summary>The bank's identity provider for staff (section <c>Operators</c>).</summary>
public sealed class OperatorsOptions
{
    public const string Section = "Operators";

    /// <summary>The OpenID Connect issuer; metadata is read from <c>{Authority}/.well-known/openid-configuration</c>. Empty: no staff tokens (static keys only).</summary>
    public string? Authority { get; set; }

    /// <summary>The audience staff tokens must carry: the app registration's Application ID URI or client id.</summary>
    public string? Audience { get; set; }

    /// <summary>Metadata only over HTTPS; tests that serve their own issuer on loopback turn it off.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;
}

/// <summary>How operators' powers are limited (section <c>Operations</c>).</summary>
public sealed class OperationsOptions
{
    public const string Section = "Operations";

    /// <summary>
    /// Whether this instance serves <c>/api/v1/ops</c> at all. The public app in Azure sets false (those paths answer
    /// 404 before authentication); a second, internal-ingress app of the same image serves bank staff.
    /// </summary>
    public bool Endpoints { get; set; } = true;

    /// <summary>Static keys (<c>Operations:ApiKeys</c>) outside Development: break-glass only, off unless set.</summary>
    public bool AllowStaticKeys { get; set; }

    /// <summary>Actions that move money or trust need a second person's approval.</summary>
    public bool FourEyes { get; set; } = true;

    /// <summary>How long a pending approval may wait for the second person.</summary>
    [Range(1, 720)]
    public int ApprovalHours { get; set; } = 24;

    public TimeSpan ApprovalLifetime => TimeSpan.FromHours(ApprovalHours);
}

using BusinessApi.Platform.Http;

namespace BusinessApi.Users;

/// <summary>
/// What a customer's user may give another (R-13, clause 3.2: powers come from the customer, never from the
/// user who holds them): only powers the grantor holds, admin and <c>manageUsers</c> only from an admin,
/// an admin's own powers only by an admin, and nobody their own. Operators are not bound by it. Pure.
/// </summary>
public static class PowerGrants
{
    /// <summary>At most this many accounts are named in one user's powers (more is <c>["*"]</c>).</summary>
    public const int MaxAccounts = 100;

    /// <summary>The broken rules of <paramref name="grantor"/> creating (<paramref name="target"/> null) or changing a user; empty when allowed.</summary>
    public static IReadOnlyList<FieldError> Check(User grantor, User? target, bool? isAdmin, UserPowers? powers)
    {
        ArgumentNullException.ThrowIfNull(grantor);
        var errors = new ValidationErrors();
        if (target is not null && target.UserId == grantor.UserId && (isAdmin is not null || powers is not null))
        {
            errors.Add("permissions", "own_powers");
            return [.. errors];
        }

        if (target is { IsAdmin: true } && !grantor.IsAdmin)
        {
            errors.Add("userId", "admin_outranks");
        }

        if (isAdmin == true && target?.IsAdmin != true && !grantor.IsAdmin)
        {
            errors.Add("isAdmin", "admin_only");
        }

        if (powers is not null)
        {
            foreach (var function in powers.Functions.Distinct(StringComparer.Ordinal))
            {
                if (function == UserFunctions.ManageUsers && !grantor.IsAdmin)
                {
                    errors.Add("permissions.functions", "admin_only", function);
                }
                else if (!grantor.Functions.Contains(function, StringComparer.Ordinal))
                {
                    errors.Add("permissions.functions", "power_not_held", function);
                }
            }

            foreach (var account in powers.Accounts.Distinct(StringComparer.Ordinal))
            {
                if (account == UserPowers.AllAccounts ? !grantor.Powers.Accounts.Contains(UserPowers.AllAccounts, StringComparer.Ordinal) : !grantor.Powers.MayAccess(account))
                {
                    errors.Add("permissions.accounts", "power_not_held", account);
                }
            }
        }

        return [.. errors];
    }
}

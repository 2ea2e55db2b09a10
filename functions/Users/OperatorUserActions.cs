using BusinessApi.Accounts;
using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Users;

/// <summary>
/// The bank's side of 6.2.4: on the customer's written notice, an operator blocks a user
/// (<c>POST /api/v1/ops/users/{userId}/block</c>) or withdraws some of their powers
/// (<c>POST /api/v1/ops/users/{userId}/restriction</c>). Sessions follow at once; both are journaled in
/// the customer's and the user's history with the notice's reference.
/// </summary>
public static class OperatorUserActions
{
    public const int MaxReferenceLength = 200;

    public static async Task<Results<Ok<UserResponse>, ProblemResult>> BlockAsync(
        string userId, OperatorNoticeRequest? request, HttpContext context, UserService users, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stored = User.IsWellFormedId(userId) ? await users.GetAsync(userId, cancellationToken) : null;
        if (stored is null)
        {
            return ProblemResult.For(UserProblems.UserNotFound);
        }

        var now = time.GetUtcNow();
        var actor = context.User.Actor();
        var updated = await users.ChangeAsync(stored, u => u.Status == UserStatus.Blocked ? null : u with
        {
            Status = UserStatus.Blocked,
            StatusChangedAt = now,
            StatusChangedBy = actor,
            SessionEpoch = u.SessionEpoch + 1,
        }, "user.blocked", actor, context.TraceIdentifier, new() { ["by"] = "bank", ["reference"] = request?.Reference?.Trim() ?? "" }, cancellationToken);
        return TypedResults.Ok(UserResponse.From((updated ?? stored).User, SessionEndpoints.KazakhstanToday(context)));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemResult>> RestrictAsync(
        string userId, UserRestrictionRequest request, HttpContext context, UserService users, AccountDirectory accounts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var stored = User.IsWellFormedId(userId) ? await users.GetAsync(userId, cancellationToken) : null;
        if (stored is null)
        {
            return ProblemResult.For(UserProblems.UserNotFound);
        }

        var withdrawnAccounts = request.Accounts ?? [];
        var withdrawnFunctions = request.Functions ?? [];
        var powers = stored.User.Powers;
        var accountList = powers.Accounts;
        if (withdrawnAccounts.Count > 0 && powers.Accounts.Contains(UserPowers.AllAccounts))
        {
            // "All accounts" less some: the customer's accounts today, named one by one.
            accountList = [.. (await accounts.ListViewsAsync(stored.User.CustomerId, cancellationToken)).Select(v => v.State.Iban!).Where(i => i is not null)];
        }

        var restricted = new UserPowers(
            [.. accountList.Where(a => !withdrawnAccounts.Contains(a, StringComparer.Ordinal))],
            [.. powers.Functions.Where(f => !withdrawnFunctions.Contains(f, StringComparer.Ordinal))]);
        var actor = context.User.Actor();
        var updated = await users.ChangeAsync(stored, u => u with { Powers = restricted, SessionEpoch = u.SessionEpoch + 1 },
            "user.powers_restricted", actor, context.TraceIdentifier, new()
            {
                ["by"] = "bank",
                ["withdrawnAccounts"] = string.Join(' ', withdrawnAccounts),
                ["withdrawnFunctions"] = string.Join(' ', withdrawnFunctions),
                ["accounts"] = string.Join(' ', restricted.Accounts),
                ["functions"] = string.Join(' ', restricted.Functions),
                ["reference"] = request.Reference?.Trim() ?? "",
            }, cancellationToken);
        return TypedResults.Ok(UserResponse.From((updated ?? stored).User, SessionEndpoints.KazakhstanToday(context)));
    }
}

/// <param name="Reference">The customer's written notice (number, date), up to 200 characters.</param>
public sealed record OperatorNoticeRequest(string? Reference) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Reference is { } reference && reference.Trim().Length > OperatorUserActions.MaxReferenceLength)
        {
            errors.Add("reference", "too_long", OperatorUserActions.MaxReferenceLength);
        }
    }
}

/// <param name="Accounts">IBANs the user may no longer reach.</param>
/// <param name="Functions">Functions withdrawn: view, create, sign, manageUsers, manageCredentials.</param>
/// <param name="Reference">The customer's written notice (number, date), up to 200 characters.</param>
public sealed record UserRestrictionRequest(IReadOnlyList<string>? Accounts, IReadOnlyList<string>? Functions, string? Reference) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if ((Accounts?.Count ?? 0) + (Functions?.Count ?? 0) == 0)
        {
            errors.Add("functions", "required");
        }

        if (Functions?.Any(f => !UserFunctions.All.Contains(f)) == true)
        {
            errors.Add("functions", "invalid_value");
        }

        if (Accounts?.Any(a => !Iban.TryParse(a, out _)) == true)
        {
            errors.Add("accounts", "invalid_value");
        }

        if (Reference is { } reference && reference.Trim().Length > OperatorUserActions.MaxReferenceLength)
        {
            errors.Add("reference", "too_long", OperatorUserActions.MaxReferenceLength);
        }
    }
}

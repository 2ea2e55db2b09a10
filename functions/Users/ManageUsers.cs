using System.Security.Claims;
using BusinessApi.Accounts;
using BusinessApi.Customers;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Users;

/// <summary>
/// Users of a customer: the first admin is created by an operator
/// (<c>POST /api/v1/ops/customers/{customerId}/users</c>), the rest by a customer admin
/// (<c>/api/v1/users</c>, the <c>manageUsers</c> function). Changes of powers and blocks take effect on open
/// sessions at once on this instance and within <see cref="UserOptions.CacheSeconds"/> elsewhere.
/// Another customer's user is not found.
/// </summary>
public static class ManageUsers
{
    public static async Task<Results<Created<CreatedUserResponse>, ProblemResult>> CreateByOperatorAsync(
        string customerId, CreateUserRequest request, HttpContext context, UserService users, CustomerStore customers, AccountDirectory accounts, PowerTerms terms,
        CancellationToken cancellationToken)
    {
        if (!Customer.IsWellFormedId(customerId) || await customers.GetAsync(customerId, cancellationToken) is not { } customer)
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
        }

        return customer.Status != CustomerStatus.Active
            ? ProblemResult.For(CustomerProblems.CustomerNotActive)
            : await CreateAsync(customerId, request, context, users, accounts, terms, cancellationToken);
    }

    public static async Task<Results<Created<CreatedUserResponse>, ProblemResult>> CreateByAdminAsync(
        CreateUserRequest request, HttpContext context, UserService users, AccountDirectory accounts, PowerTerms terms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return await CreateAsync(context.User.CustomerId()!, request, context, users, accounts, terms, cancellationToken);
    }

    public static async Task<Ok<UserListResponse>> ListAsync(HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var today = SessionEndpoints.KazakhstanToday(context);
        var list = await users.ListAsync(context.User.CustomerId()!, cancellationToken);
        return TypedResults.Ok(new UserListResponse([.. list.OrderBy(u => u.CreatedAt).Select(u => UserResponse.From(u, today))]));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemResult>> GetAsync(string userId, HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(userId, context.User, users, cancellationToken);
        return stored is null ? NotFound() : TypedResults.Ok(UserResponse.From(stored.User, SessionEndpoints.KazakhstanToday(context)));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemResult>> UpdateAsync(
        string userId, UpdateUserRequest request, HttpContext context, UserService users, AccountDirectory accounts, PowerTerms terms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var stored = await FindAsync(userId, context.User, users, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        if (request.Permissions is { } permissions && await CheckAccountsAsync(stored.User.CustomerId, permissions, accounts, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        if (Exceeds(context, stored.User, request.IsAdmin, request.Permissions) is { } escalation)
        {
            return escalation;
        }

        var updated = await users.ChangeAsync(stored, u => u with
        {
            FullName = request.FullName?.Trim() ?? u.FullName,
            IsAdmin = request.IsAdmin ?? u.IsAdmin,
            Powers = request.Permissions is { } p ? new UserPowers(p.Accounts!, p.Functions!) { ValidUntil = p.ValidUntil } : u.Powers,
        }, "user.powers_changed", context.User.Actor(), context.TraceIdentifier, new()
        {
            ["accounts"] = string.Join(' ', request.Permissions?.Accounts ?? stored.User.Powers.Accounts),
            ["functions"] = string.Join(' ', request.Permissions?.Functions ?? stored.User.Powers.Functions),
            ["validUntil"] = (request.Permissions is { } given ? given.ValidUntil : stored.User.Powers.ValidUntil)?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "",
            ["isAdmin"] = (request.IsAdmin ?? stored.User.IsAdmin) ? "true" : "false",
        }, cancellationToken);
        if (request.Permissions is { ValidUntil: { } until })
        {
            await terms.ScheduleAsync(PowerTerms.UserKey(stored.User.UserId), until, cancellationToken);
        }

        return TypedResults.Ok(UserResponse.From((updated ?? stored).User, SessionEndpoints.KazakhstanToday(context)));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemResult>> BlockAsync(string userId, HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(userId, context.User, users, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var actor = context.User.Actor();
        var updated = await users.ChangeAsync(stored, u => u with
        {
            Status = UserStatus.Blocked,
            StatusChangedAt = now,
            StatusChangedBy = actor,
            SessionEpoch = u.SessionEpoch + 1,
        }, "user.blocked", actor, context.TraceIdentifier, [], cancellationToken);
        return TypedResults.Ok(UserResponse.From((updated ?? stored).User, SessionEndpoints.KazakhstanToday(context)));
    }

    public static async Task<Results<Ok<UserResponse>, ProblemResult>> UnblockAsync(string userId, HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(userId, context.User, users, cancellationToken);
        return stored is null ? NotFound() : TypedResults.Ok(await UnblockCoreAsync(stored, context, users, cancellationToken));
    }

    public static async Task<Results<Ok<TemporaryPasswordResponse>, ProblemResult>> ResetPasswordAsync(string userId, HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(userId, context.User, users, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        var (_, temporary) = await users.ResetPasswordAsync(stored, context.User.Actor(), context.TraceIdentifier, cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new TemporaryPasswordResponse(stored.User.UserId, temporary));
    }

    /// <summary>The user's journal (sign-ins, failures, lockouts, password changes, power changes, blocks).</summary>
    public static async Task<Results<Ok<HistoryResponse>, ProblemResult>> HistoryAsync(
        string userId, DateOnly? from, DateOnly? to, int? pageSize, string? continuation,
        HttpContext context, UserService users, AuditJournal audit, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(userId, context.User, users, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        var (history, problem) = await SubjectHistory.ReadAsync(audit, stored.User.UserId,
            from ?? Calendar.KazakhstanTime.LocalDate(stored.User.CreatedAt), to ?? users.Today, pageSize, continuation, cancellationToken);
        return history is null ? problem! : TypedResults.Ok(history);
    }

    /// <summary><c>POST /api/v1/ops/users/{userId}/unblock</c>: an operator lifts a block or a lockout.</summary>
    public static async Task<Results<Ok<UserResponse>, ProblemResult>> UnblockByOperatorAsync(string userId, HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        var stored = await users.GetAsync(userId, cancellationToken);
        return stored is null ? NotFound() : TypedResults.Ok(await UnblockCoreAsync(stored, context, users, cancellationToken));
    }

    private static async Task<UserResponse> UnblockCoreAsync(StoredUser stored, HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var today = Calendar.KazakhstanTime.LocalDate(now);
        var actor = context.User.Actor();
        var updated = await users.ChangeAsync(stored, u => u with
        {
            Status = UserStatus.Active,
            StatusChangedAt = now,
            StatusChangedBy = actor,
            FailedAttempts = 0,
            LockedUntil = null,
        }, "user.unblocked", actor, context.TraceIdentifier, new() { ["previousStatus"] = UserService.StatusText(stored.User.EffectiveStatus(today)) }, cancellationToken);

        // An unblocked user starts a new 30 days from today, or the block would come straight back.
        var moved = updated is null ? null : await context.RequestServices.GetRequiredService<UserStore>().MoveLastActivityAsync(updated, now, today, cancellationToken);
        return UserResponse.From((moved ?? updated ?? stored).User, today);
    }

    private static async Task<Results<Created<CreatedUserResponse>, ProblemResult>> CreateAsync(
        string customerId, CreateUserRequest request, HttpContext context, UserService users, AccountDirectory accounts, PowerTerms terms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await CheckAccountsAsync(customerId, request.Permissions!, accounts, cancellationToken) is { } invalid)
        {
            return invalid;
        }

        if (Exceeds(context, null, request.IsAdmin, request.Permissions) is { } escalation)
        {
            return escalation;
        }

        var powers = new UserPowers(request.Permissions!.Accounts!, request.Permissions.Functions!) { ValidUntil = request.Permissions.ValidUntil };
        var (user, temporary, conflict) = await users.CreateAsync(customerId, request.Login!, request.FullName!, request.Iin!.Trim(), request.IsAdmin ?? false, powers,
            context.User.Actor(), context.TraceIdentifier, cancellationToken);
        if (user is null)
        {
            return ProblemResult.For(new ApiProblem(UserProblems.LoginTaken)
            {
                Extensions = conflict is not null && conflict.CustomerId == customerId
                    ? new Dictionary<string, object?> { ["userId"] = conflict.UserId }
                    : new Dictionary<string, object?>(),
            });
        }

        await terms.ScheduleAsync(PowerTerms.UserKey(user.UserId), powers.ValidUntil, cancellationToken);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created($"/api/v1/users/{user.UserId}", new CreatedUserResponse(user.UserId, temporary!, UserResponse.From(user, SessionEndpoints.KazakhstanToday(context))));
    }

    /// <summary>The accounts named in powers must be the customer's own (or <c>*</c>).</summary>
    private static async Task<ProblemResult?> CheckAccountsAsync(string customerId, UserPermissions permissions, AccountDirectory accounts, CancellationToken cancellationToken)
    {
        foreach (var (text, index) in (permissions.Accounts ?? []).Select((a, i) => (a, i)))
        {
            if (text == UserPowers.AllAccounts)
            {
                continue;
            }

            if (!Iban.TryParse(text, out var iban) || (await accounts.FindAsync(iban, cancellationToken))?.CustomerId != customerId)
            {
                return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed)
                {
                    Errors = [new FieldError($"permissions.accounts[{index}]", "not_customers_account")],
                });
            }
        }

        return null;
    }

    /// <summary>A customer's user granting more than <see cref="PowerGrants"/> allows: the 403 to answer (operators are not bound).</summary>
    private static ProblemResult? Exceeds(HttpContext context, User? target, bool? isAdmin, UserPermissions? permissions)
    {
        if (context.Items[SessionAuthenticationHandler.ContextItem] is not SessionContext { } acting)
        {
            return null;
        }

        var powers = permissions is null ? null : new UserPowers(permissions.Accounts ?? [], permissions.Functions ?? []);
        var broken = PowerGrants.Check(acting.User, target, isAdmin, powers);
        return broken.Count == 0 ? null : ProblemResult.For(new ApiProblem(CustomerProblems.PowersNotHeld) { Errors = broken });
    }

    private static async Task<StoredUser?> FindAsync(string userId, ClaimsPrincipal caller, UserService users, CancellationToken cancellationToken) =>
        User.IsWellFormedId(userId) && string.Equals(User.CustomerIdOf(userId), caller.CustomerId(), StringComparison.Ordinal)
            ? await users.GetAsync(userId, cancellationToken)
            : null;

    private static ProblemResult NotFound() => ProblemResult.For(UserProblems.UserNotFound);
}

/// <param name="Accounts">IBANs of the customer's accounts, or <c>["*"]</c> for all.</param>
/// <param name="Functions">Of view, create, sign, manageUsers, manageCredentials.</param>
public sealed record UserPermissions(IReadOnlyList<string>? Accounts, IReadOnlyList<string>? Functions)
{
    /// <summary>The term of these powers (e.g. a power of attorney's end); from then on they act as absent. None: until changed.</summary>
    public DateTimeOffset? ValidUntil { get; init; }
}

public sealed record CreateUserRequest(string? Login, string? FullName, string? Iin, bool? IsAdmin, UserPermissions? Permissions) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("login", Login) && !UserValidation.IsValidLogin(Login!.Trim()))
        {
            errors.Add("login", "invalid_login");
        }

        if (errors.Required("fullName", FullName) && FullName!.Trim().Length > 200)
        {
            errors.Add("fullName", "too_long", 200);
        }

        if (errors.Required("iin", Iin) && !Customers.Iin.TryParse(Iin!.Trim(), out _)
            && !(errors.AcceptTestIdentifiers && Customers.TaxIdentifierCheck.IsTestIdentifier(Iin.Trim())))
        {
            errors.Add("iin", "invalid_iin");
        }

        if (errors.Required("permissions", Permissions))
        {
            UserValidation.Permissions(errors, Permissions!);
        }
    }
}

public sealed record UpdateUserRequest(string? FullName, bool? IsAdmin, UserPermissions? Permissions) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (FullName is not null && FullName.Trim().Length is 0 or > 200)
        {
            errors.Add("fullName", "too_long", 200);
        }

        if (Permissions is not null)
        {
            UserValidation.Permissions(errors, Permissions);
        }
    }
}

internal static class UserValidation
{
    public static bool IsValidLogin(string login) =>
        login.Length is >= 3 and <= 64 && login.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@');

    public static void Permissions(ValidationErrors errors, UserPermissions permissions)
    {
        if (errors.Required("permissions.accounts", permissions.Accounts) && permissions.Accounts!.Count == 0)
        {
            errors.Add("permissions.accounts", "required");
        }
        else if (permissions.Accounts?.Count > PowerGrants.MaxAccounts)
        {
            errors.Add("permissions.accounts", "too_many", PowerGrants.MaxAccounts);
        }

        if (errors.Required("permissions.functions", permissions.Functions)
            && permissions.Functions!.Any(f => !UserFunctions.All.Contains(f, StringComparer.Ordinal)))
        {
            errors.Add("permissions.functions", "unknown_function", string.Join(", ", UserFunctions.All));
        }
    }
}

public sealed record UserResponse(
    string UserId,
    string Login,
    string FullName,
    string Iin,
    bool IsAdmin,
    string Status,
    UserPermissions Permissions,
    IReadOnlyList<string> EffectiveFunctions,
    DateTimeOffset CreatedAt,
    DateTimeOffset PasswordExpiresAt,
    bool MustChangePassword,
    DateTimeOffset LastActivityAt,
    DateOnly BlockedInactiveFrom)
{
    public DateTimeOffset? LockedUntil { get; init; }

    public static UserResponse From(User user, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(user);
        return new(user.UserId, user.Login, user.FullName, user.Iin, user.IsAdmin, UserService.StatusText(user.EffectiveStatus(today)),
            new UserPermissions(user.Powers.Accounts, user.Powers.Functions) { ValidUntil = user.Powers.ValidUntil }, user.Functions, user.CreatedAt,
            PasswordPolicy.ExpiresAt(user.PasswordSetAt), user.MustChangePassword, user.LastActivityAt, user.InactiveBlockDay)
        {
            LockedUntil = user.LockedUntil,
        };
    }
}

public sealed record UserListResponse(IReadOnlyList<UserResponse> Items);

public sealed record CreatedUserResponse(string UserId, string TemporaryPassword, UserResponse User);

public sealed record TemporaryPasswordResponse(string UserId, string TemporaryPassword);

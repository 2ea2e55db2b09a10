using System.Globalization;
using BusinessApi.Credentials;
using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BusinessApi.Users;

/// <summary>Sign-in, sign-out and the user's own password (R-20..R-29).</summary>
public static class SessionEndpoints
{
    /// <summary>
    /// <c>POST /api/v1/sessions</c>: with no client token a portal session; with <c>Authorization: Bearer &lt;client token&gt;</c>
    /// a Software Product session bound to that Client ID.
    /// </summary>
    public static async Task<Results<Created<SessionResponse>, ProblemResult>> SignInAsync(
        SignInRequest request, HttpContext context, UserService users, AuthenticationThrottle throttle, IOptions<UserOptions> options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        SessionClient? client = null;
        if (ClientTokenAuthenticationHandler.BearerToken(context.Request) is { } bearer)
        {
            if (!AccessTokens.LooksLikeOurs(bearer) || context.User.FindFirst(CustomerAccess.ClientIdClaim) is not { } clientId)
            {
                return ProblemResult.For(CredentialProblems.InvalidToken);
            }

            client = new SessionClient(clientId.Value, context.User.CustomerId()!,
                (context.User.FindFirst(CustomerAccess.ScopeClaim)?.Value ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }

        // Per address and per login, before any hashing: a guesser is slowed, then refused, at no cost to the CPU.
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var loginKey = "login:" + request.Login!.Trim().ToUpperInvariant();
        if ((throttle.RetryAfter(address) ?? throttle.RetryAfter(loginKey)) is { } wait)
        {
            var retry = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
            return ProblemResult.For(PlatformProblems.RateLimited, retry);
        }

        var result = await users.SignInAsync(request.Login!, request.Password!, client, address, context.TraceIdentifier, cancellationToken);
        if (result.Outcome is SignInOutcome.InvalidCredentials || (result.Outcome is SignInOutcome.Locked && result.Guessed))
        {
            throttle.RecordFailure(address);
            throttle.RecordFailure(loginKey);
        }

        switch (result.Outcome)
        {
            case SignInOutcome.InvalidCredentials:
                return ProblemResult.For(UserProblems.InvalidCredentials);
            case SignInOutcome.Locked:
                var seconds = Math.Max(1, (int)Math.Ceiling((result.LockedUntil!.Value - context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()).TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return ProblemResult.For(new ApiProblem(UserProblems.AccountLocked)
                {
                    Extensions = new Dictionary<string, object?> { ["lockedUntil"] = result.LockedUntil },
                });
            case SignInOutcome.Blocked:
                return ProblemResult.For(UserProblems.UserBlocked);
        }

        var response = SessionResponse.From(result, options.Value);
        context.Response.Headers.CacheControl = "no-store";
        if (result.Outcome == SignInOutcome.PasswordChangeRequired)
        {
            return ProblemResult.For(new ApiProblem(UserProblems.PasswordChangeRequired)
            {
                Extensions = new Dictionary<string, object?>
                {
                    ["sessionToken"] = response.SessionToken,
                    ["idleTimeoutSeconds"] = response.IdleTimeoutSeconds,
                    ["passwordExpiresAt"] = response.PasswordExpiresAt,
                },
            });
        }

        return TypedResults.Created("/api/v1/sessions/current", response);
    }

    /// <summary><c>DELETE /api/v1/sessions/current</c>: signs out .</summary>
    public static async Task<NoContent> SignOutAsync(HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        await users.SignOutAsync(Current(context).Session, context.TraceIdentifier, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary><c>DELETE /api/v1/sessions</c>: ends every session of the signed-in user, on every device.</summary>
    public static async Task<NoContent> SignOutEverywhereAsync(HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        var current = Current(context);
        if (await users.GetAsync(current.User.UserId, cancellationToken) is { } stored)
        {
            await users.ChangeAsync(stored, u => u with { SessionEpoch = u.SessionEpoch + 1 }, "user.signed_out_everywhere",
                "user:" + current.User.UserId, context.TraceIdentifier, [], cancellationToken);
        }

        return TypedResults.NoContent();
    }

    /// <summary><c>POST /api/v1/users/me/password</c>: every broken rule at once, each by its own code (R-21..R-25).</summary>
    public static async Task<Results<NoContent, ProblemResult>> ChangePasswordAsync(
        ChangePasswordRequest request, HttpContext context, UserService users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (changed, broken, refusal) = await users.ChangePasswordAsync(Current(context), request.CurrentPassword!, request.NewPassword!, context.TraceIdentifier, cancellationToken);
        if (changed)
        {
            return TypedResults.NoContent();
        }

        return refusal switch
        {
            SignInOutcome.Locked => ProblemResult.For(UserProblems.AccountLocked),
            not null => ProblemResult.For(UserProblems.InvalidCredentials),
            _ => ProblemResult.For(new ApiProblem(UserProblems.PasswordRulesBroken)
            {
                Errors = [.. broken.Select(code => new FieldError("newPassword", code, code switch
                {
                    "password_too_short" => [PasswordPolicy.MinLength],
                    "password_too_long" => [PasswordPolicy.MaxLength],
                    "password_reused" => [PasswordPolicy.HistoryDepth],
                    _ => [],
                }))],
            }),
        };
    }

    /// <summary><c>GET /api/v1/users/me</c>: who is signed in, with powers and password expiry.</summary>
    public static Ok<UserResponse> Me(HttpContext context)
    {
        var current = Current(context);
        return TypedResults.Ok(UserResponse.From(current.User, KazakhstanToday(context)));
    }

    internal static SessionContext Current(HttpContext context) =>
        context.Items[SessionAuthenticationHandler.ContextItem] as SessionContext
        ?? throw new InvalidOperationException("The endpoint requires a user session.");

    internal static DateOnly KazakhstanToday(HttpContext context) =>
        Calendar.KazakhstanTime.LocalDate(context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow());
}

/// <param name="Login">The user's login (case does not matter).</param>
/// <param name="Password">The password, or the temporary one at the first sign-in.</param>
public sealed record SignInRequest(string? Login, string? Password) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("login", Login) && Login!.Length > 200)
        {
            errors.Add("login", "too_long", 200);
        }

        if (errors.Required("password", Password) && Password!.Length > 1024)
        {
            errors.Add("password", "too_long", 1024);
        }
    }
}

public sealed record ChangePasswordRequest(string? CurrentPassword, string? NewPassword) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("currentPassword", CurrentPassword) && CurrentPassword!.Length > 1024)
        {
            errors.Add("currentPassword", "too_long", 1024);
        }

        if (NewPassword is null)
        {
            errors.Required<string>("newPassword", null);
        }
        else if (NewPassword.Length > 1024)
        {
            errors.Add("newPassword", "too_long", 1024);
        }
    }
}

public sealed record SessionResponse(
    string SessionToken,
    string UserId,
    string Kind,
    int IdleTimeoutSeconds,
    DateTimeOffset ExpiresAt,
    DateTimeOffset PasswordExpiresAt,
    IReadOnlyList<string> Warnings)
{
    public int? PasswordDaysLeft { get; init; }

    public static SessionResponse From(SignInResult result, UserOptions options)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(options);
        return new(result.Token!, result.User!.UserId, result.Session!.Kind == SessionKind.Portal ? "portal" : "software",
            options.IdleTimeoutSeconds, result.Session.ExpiresAt, PasswordPolicy.ExpiresAt(result.User.PasswordSetAt), result.Warnings)
        {
            PasswordDaysLeft = result.PasswordDaysLeft,
        };
    }
}

public static class UserProblems
{
    public static readonly ProblemType InvalidCredentials = new("invalid_credentials", StatusCodes.Status401Unauthorized);
    public static readonly ProblemType SessionEnded = new("session_ended", StatusCodes.Status401Unauthorized);
    public static readonly ProblemType PasswordChangeRequired = new("password_change_required", StatusCodes.Status403Forbidden);
    public static readonly ProblemType UserBlocked = new("user_blocked", StatusCodes.Status403Forbidden);
    public static readonly ProblemType UserNotFound = new("user_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType LoginTaken = new("login_taken", StatusCodes.Status409Conflict);
    public static readonly ProblemType PasswordRulesBroken = new("password_rules_broken", StatusCodes.Status422UnprocessableEntity);
    public static readonly ProblemType AccountLocked = new("account_locked", StatusCodes.Status423Locked);
}

using BusinessApi.Customers;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Security;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Timers;

namespace BusinessApi.Users;

public static class UsersExtensions
{
    public const string SessionPolicy = "UserSession";

    public static IServiceCollection AddUsers(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UserOptions>().Bind(configuration.GetSection(UserOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart(); // caps are refused at start-up, not clamped at use
        services.AddStorageTable(UserStore.TableName);
        services.AddStorageTable(UserStore.LoginTable);
        services.AddStorageTable(UserStore.DueTable);
        services.AddStorageTable(PowerTerms.TableName);
        services.AddSingleton<PowerTerms>();
        services.AddStorageTable(SessionStore.TableName);
        services.AddSingleton<UserStore>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<PasswordHasher>();
        services.AddSingleton<UserService>();
        services.AddScheduledJob<UserInactivityJob>();
        services.AddBearerScheme<SessionAuthenticationHandler>(SessionAuthenticationHandler.SchemeName, Session.LooksLikeToken);
        services.AddAuthorizationBuilder().AddPolicy(SessionPolicy, policy => policy
            .AddAuthenticationSchemes(SessionAuthenticationHandler.SchemeName)
            .RequireClaim(SessionAuthenticationHandler.UserIdClaim));
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Users.Resources.UserTexts", typeof(UsersExtensions).Assembly)));
        services.AddOpenApiBearerScheme(SessionAuthenticationHandler.SchemeName,
            "User session token (bapi_ss_…) from POST /api/v1/sessions: a portal session, or with a client token a Software Product session.");
        return services;
    }

    public static void MapUsers(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(ops);
        var sessions = api.MapGroup("/sessions").WithTags("Sign-in and tokens").WithMetadata(AllowedWhileSuspended.Instance);
        sessions.MapPost("/", SessionEndpoints.SignInAsync)
            .AllowAnonymous()
            .WithName("SignIn")
            .WithSummary("Sign in: a portal session, or with a client token a Software Product session bound to its Client ID.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status423Locked);
        sessions.MapDelete("/current", SessionEndpoints.SignOutAsync)
            .RequireAuthorization(SessionPolicy)
            .WithName("SignOut")
            .WithSummary("End this session (sign out).");
        sessions.MapDelete("/", SessionEndpoints.SignOutEverywhereAsync)
            .RequireAuthorization(SessionPolicy)
            .WithName("SignOutEverywhere")
            .WithSummary("End every session of the signed-in user.");

        var me = api.MapGroup("/users/me").WithTags("Users").RequireAuthorization(SessionPolicy).WithMetadata(AllowedWhileSuspended.Instance);
        me.MapPost("/password", SessionEndpoints.ChangePasswordAsync)
            .WithName("ChangePassword")
            .WithSummary("Change the password; every broken rule is listed with its own code.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status423Locked);
        me.MapGet("/", SessionEndpoints.Me)
            .WithName("GetMe")
            .WithSummary("The signed-in user: powers, password expiry, status.");

        var admin = api.MapGroup("/users")
            .RequireCustomerFunction(CustomerAccess.ManageUsers)
            .WithTags("Users")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
        admin.MapPost("/", ManageUsers.CreateByAdminAsync).WithName("CreateUser")
            .WithSummary("Create a user with powers; the answer carries a temporary password to be changed at the first sign-in.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapGet("/", ManageUsers.ListAsync).WithName("ListUsers").WithSummary("The customer's users.");
        admin.MapGet("/{userId}", ManageUsers.GetAsync).WithName("GetUser").ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapGet("/{userId}/history", ManageUsers.HistoryAsync).WithName("GetUserHistory")
            .WithSummary("The user's journal: sign-ins, failures, lockouts, password changes, power changes, blocks.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPatch("/{userId}", ManageUsers.UpdateAsync).WithName("UpdateUser")
            .WithSummary("Change a user's powers, name or admin flag; open sessions follow at once.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/{userId}/block", ManageUsers.BlockAsync).WithName("BlockUser")
            .WithSummary("Block a user; their sessions end.").ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/{userId}/unblock", ManageUsers.UnblockAsync).WithName("UnblockUser")
            .WithSummary("Lift a block, an inactivity block or a lockout.").ProducesProblem(StatusCodes.Status404NotFound);
        admin.MapPost("/{userId}/password-reset", ManageUsers.ResetPasswordAsync).WithName("ResetUserPassword")
            .WithSummary("Set a temporary password that must be changed at the next sign-in; sessions end.").ProducesProblem(StatusCodes.Status404NotFound);

        ops.MapPost("/customers/{customerId}/users", ManageUsers.CreateByOperatorAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithName("CreateUserByOperator")
            .WithTags("Users")
            .WithSummary("The bank creates a customer's user (the first admin); the answer carries a temporary password.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapPost("/users/{userId}/block", OperatorUserActions.BlockAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithName("BlockUserByOperator")
            .WithTags("Users")
            .WithSummary("On the customer's written notice (6.2.4), the bank blocks a user; their sessions end.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/users/{userId}/restriction", OperatorUserActions.RestrictAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithName("RestrictUserByOperator")
            .WithTags("Users")
            .WithSummary("On the customer's written notice (6.2.4), the bank withdraws some of a user's accounts or functions; sessions follow at once.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        ops.MapPost("/users/{userId}/unblock", ManageUsers.UnblockByOperatorAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithName("UnblockUserByOperator")
            .WithTags("Users")
            .WithSummary("The bank lifts a user's block, inactivity block or lockout.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }
}

using BusinessApi.Accounts;
using BusinessApi.Calendar;
using BusinessApi.Credentials;
using BusinessApi.Customers;
using BusinessApi.Documents;
using BusinessApi.Notifications;
using BusinessApi.Operations;
using BusinessApi.Platform;
using BusinessApi.Platform.Approvals;
using BusinessApi.Refunds;
using BusinessApi.ServiceControl;
using BusinessApi.Users;

namespace BusinessApi;

/// <summary>
/// The application's composition, shared by both heads: <see cref="AddBusinessApi"/> registers every service,
/// <see cref="UseBusinessApi"/> builds the middleware pipeline and maps every endpoint. The Kestrel host
/// (<see cref="Create"/>) calls both on a <see cref="WebApplication"/>; the Functions head (functions/FunctionsHost)
/// calls the first on its <c>FunctionsApplication</c> builder and the second on the pipeline its HTTP triggers
/// forward into. Tests call <see cref="Create"/> too, adding their configuration and a fake clock.
/// </summary>
public static class FunctionsApp
{
    /// <summary>The ASP.NET Core host on Kestrel.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null, bool includeLocalSettings = true)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddBusinessApi(includeLocalSettings);
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseBusinessApi();
        return app;
    }

    /// <summary>Every service of the application: the platform, then each capability.</summary>
    public static IHostApplicationBuilder AddBusinessApi(this IHostApplicationBuilder builder, bool includeLocalSettings = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddPlatform(platform => platform.LocalOffset = KazakhstanTime.Offset, includeLocalSettings);
        builder.Services.AddCalendar(builder.Configuration);
        builder.Services.AddCustomers();
        builder.Services.AddAccounts(builder.Configuration);
        builder.Services.AddNotifications(builder.Configuration, builder.Environment);
        builder.Services.AddCredentials(builder.Configuration);
        builder.Services.AddUsers(builder.Configuration);
        builder.Services.AddDocuments(builder.Configuration);
        builder.Services.AddServiceControl();
        builder.Services.AddRefunds(builder.Configuration);
        return builder;
    }

    /// <summary>The middleware pipeline (<see cref="PlatformExtensions.UsePlatform"/>) ending in every endpoint.</summary>
    public static IApplicationBuilder UseBusinessApi(this IApplicationBuilder app) =>
        app.UsePlatform(MapEndpoints);

    private static void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapApi();
        api.AddEndpointFilter<ServiceStateFilter>();
        var ops = api.MapOperations();
        api.MapCalendar(ops);
        ops.MapCustomers();
        api.MapAccounts(ops);
        api.MapCredentials(ops);
        api.MapUsers(ops);
        api.MapNotifications(ops);
        api.MapDocuments(ops);
        api.MapServiceControl(ops);
        api.MapRefunds(ops);
        ops.MapAuditJournal();
        ops.MapWorkflowOperations();
        ops.MapApprovals();
    }
}

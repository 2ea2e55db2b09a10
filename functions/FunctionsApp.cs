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

/// <summary>Builds the app; tests call it too, adding their configuration and a fake clock through the configure callback.</summary>
public static class FunctionsApp
{
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null, bool includeLocalSettings = true)
    {
        var builder = WebApplication.CreateBuilder(args);
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
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UsePlatform();
        var api = app.MapApi();
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
        return app;
    }
}

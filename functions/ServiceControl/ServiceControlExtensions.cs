using BusinessApi.Customers;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;
using BusinessApi.Platform.Approvals;
using BusinessApi.Platform.Security;

namespace BusinessApi.ServiceControl;

/// <summary>The bank's control of the service: suspension and resumption, incident reports, maintenance, termination.</summary>
public static class ServiceControlExtensions
{
    public static IServiceCollection AddServiceControl(this IServiceCollection services)
    {
        services.AddStorageTable(SecurityIncidents.TableName);
        services.AddSingleton<ServiceStateFilter>();
        services.AddSingleton<Suspensions>();
        services.AddSingleton<AccessShutdown>();
        services.AddSingleton<SecurityIncidents>();
        services.AddSingleton<Terminations>();
        services.AddWorkflow<TerminationWorkflow>();
        services.AddWorkflow<MaintenanceBroadcastWorkflow>();
        return services;
    }

    public static void MapServiceControl(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        api.MapPost("/security-incidents", SecurityIncidents.PostAsync)
            .RequireAuthorization(policy => policy.RequireAuthenticatedUser().RequireClaim(CustomerAccess.CustomerIdClaim))
            .WithIdempotency(required: false)
            .WithMetadata(AllowedWhileSuspended.Instance)
            .WithName("ReportSecurityIncident")
            .WithTags("Service control")
            .WithSummary("Report unauthorised access or suspicion of it: every Client ID is blocked, every session ends and services stop at once, until the bank resumes them.")
            .ProducesValidationProblem();

        var termination = api.MapGroup("/termination")
            .RequireCustomerFunction(CustomerAccess.ManageCredentials)
            .WithMetadata(AllowedWhileSuspended.Instance)
            .WithTags("Service control");
        termination.MapPost("/", Terminations.RequestByCustomerAsync)
            .Accepts<BusinessApi.Documents.SubmitDocumentBody>("application/json")
            .WithIdempotency(required: false)
            .WithName("RequestTermination")
            .WithSummary("End the API service on a date at least 3 working days ahead (6.2.6).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        termination.MapGet("/", Terminations.GetForCustomerAsync)
            .WithName("GetTermination")
            .WithSummary("The scheduled (or effective) end of the service.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        termination.MapDelete("/", Terminations.WithdrawByCustomerAsync)
            .WithName("WithdrawTermination")
            .WithSummary("Withdraw a termination before its effective date.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);

        ops.MapPost("/customers/{customerId}/suspension", Suspensions.PostAsync)
            .RequireOperatorRole(OperatorRoles.Security)
            .WithName("SuspendCustomer")
            .WithTags("Service control")
            .WithSummary("Stop a customer's electronic services (5.2.1, 5.2.4); the notice is due by the end of the next working day.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapDelete("/customers/{customerId}/suspension", Suspensions.DeleteAsync)
            .RequireOperatorRole(OperatorRoles.Security)
            .RequireFourEyes("customer.resume")
            .WithName("ResumeCustomer")
            .WithTags("Service control")
            .WithSummary("Resume the services once the cause is removed (5.2.5), with a notice.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapGet("/security-incidents", SecurityIncidents.ListForOperatorsAsync)
            .WithName("ListSecurityIncidents")
            .WithTags("Service control")
            .WithSummary("Customers' reports of unauthorised access, newest first.");
        ops.MapPost("/customers/{customerId}/termination", Terminations.RequestByBankAsync)
            .RequireOperatorRole(OperatorRoles.Security)
            .RequireFourEyes("customer.termination_by_bank")
            .WithIdempotency(required: false)
            .WithName("TerminateCustomer")
            .WithTags("Service control")
            .WithSummary("End a customer's API service on the bank's initiative (5.2.7), at least 3 working days ahead.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        ops.MapDelete("/customers/{customerId}/termination", Terminations.WithdrawByBankAsync)
            .RequireOperatorRole(OperatorRoles.Security)
            .WithName("WithdrawCustomerTermination")
            .WithTags("Service control")
            .WithSummary("Withdraw a termination before its effective date.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapPost("/maintenance", MaintenanceAnnouncements.PostAsync)
            .RequireOperatorRole(OperatorRoles.Calendar)
            .WithIdempotency(required: false)
            .WithName("AnnounceMaintenance")
            .WithTags("Service control")
            .WithSummary("Announce technical works: planned ones by the working day before (5.2.11), emergency ones after the fact (5.2.12).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        ops.MapGet("/maintenance", MaintenanceAnnouncements.ListAsync)
            .WithName("ListMaintenance")
            .WithTags("Service control")
            .WithSummary("Works in progress or announced.");
    }
}

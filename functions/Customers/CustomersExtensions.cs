using BusinessApi.Platform.Http;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Security;

namespace BusinessApi.Customers;

public static class CustomersExtensions
{
    public static IServiceCollection AddCustomers(this IServiceCollection services)
    {
        services.AddStorageTable(CustomerStore.TableName);
        services.AddStorageTable(CustomerStore.BinIndexTable);
        services.AddSingleton<CustomerStore>();
        services.AddSingleton(new ProblemTextResources(new System.Resources.ResourceManager(
            "BusinessApi.Customers.Resources.CustomerTexts", typeof(CustomersExtensions).Assembly)));
        return services;
    }

    public static void MapCustomers(this RouteGroupBuilder ops)
    {
        ops.MapPost("/customers", CreateCustomer.HandleAsync)
            .RequireOperatorRole(OperatorRoles.Customers)
            .WithIdempotency(required: false)
            .WithName("CreateCustomer")
            .WithTags("Customers")
            .WithSummary("Register a business client (name, BIN or an entrepreneur's IIN).")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);

        ops.MapGet("/customers/{customerId}", GetCustomer.HandleAsync)
            .WithName("GetCustomer")
            .WithTags("Customers")
            .WithSummary("A customer and its status.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }
}

using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Customers;

/// <summary><c>GET /api/v1/ops/customers/{customerId}</c>.</summary>
public static class GetCustomer
{
    public static async Task<Results<Ok<CustomerResponse>, ProblemResult>> HandleAsync(
        string customerId, CustomerStore customers, TimeProvider time, CancellationToken cancellationToken) =>
        await customers.GetAsync(customerId, cancellationToken) is { } customer
            ? TypedResults.Ok(CustomerResponse.From(customer, time.GetUtcNow()))
            : ProblemResult.For(new ApiProblem(PlatformProblems.NotFound));
}

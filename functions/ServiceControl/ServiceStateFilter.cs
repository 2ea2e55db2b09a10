using BusinessApi.Customers;
using BusinessApi.Platform.Http;

namespace BusinessApi.ServiceControl;

/// <summary>
/// Applies the customer's service state to every customer request:
/// <list type="bullet">
/// <item>suspended for unauthorised access (the bank's finding or the customer's report): only the endpoints marked
/// <see cref="AllowedWhileSuspended"/> answer; everything else is 403 <c>service_suspended</c>;</item>
/// <item>suspended on any grounds: the endpoints marked <see cref="RefusedWhileSuspended"/> (changing where notices
/// go) are 403 <c>service_suspended</c>;</item>
/// <item>suspended for other grounds: reads go on; payment documents are still received and then refused with
/// <c>service_suspended</c> (their statuses tell why);</item>
/// <item>terminated (from the effective date): client software — client tokens and the sessions opened with them —
/// gets 403 <c>service_terminated</c>; people in Internet-banking keep reading (GET) for the archive period.</item>
/// </list>
/// The customer is read as sessions read it (trusted for a few seconds per instance; a change made through this
/// instance is seen at once).
/// </summary>
public sealed class ServiceStateFilter(CustomerStore customers, TimeProvider time) : IEndpointFilter
{
    public static readonly ProblemType ServiceSuspended = new("service_suspended", StatusCodes.Status403Forbidden);
    public static readonly ProblemType ServiceTerminated = new("service_terminated", StatusCodes.Status403Forbidden);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (http.User.CustomerId() is not { } customerId)
        {
            return await next(context);
        }

        var customer = await customers.GetCachedAsync(customerId, http.RequestAborted);
        var now = time.GetUtcNow();
        var metadata = http.GetEndpoint()?.Metadata;
        switch (customer?.StatusAt(now))
        {
            case CustomerStatus.Terminated:
                var software = http.User.HasClaim(c => c.Type == CustomerAccess.ClientIdClaim);
                var read = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method);
                if (software || !(read || metadata?.GetMetadata<AllowedWhileSuspended>() is not null))
                {
                    return Refuse(ServiceTerminated, customer.Termination?.EffectiveDate);
                }

                break;
            case CustomerStatus.Suspended when customer.Suspension is { BlocksReads: true } && metadata?.GetMetadata<AllowedWhileSuspended>() is null:
                return Refuse(ServiceSuspended, null);
            case CustomerStatus.Suspended when metadata?.GetMetadata<RefusedWhileSuspended>() is not null:
                return Refuse(ServiceSuspended, null); // whatever the grounds: e.g. where the customer's notices go
        }

        return await next(context);
    }

    private static ProblemResult Refuse(ProblemType type, DateOnly? effectiveDate) => ProblemResult.For(new ApiProblem(type)
    {
        Extensions = effectiveDate is null ? new Dictionary<string, object?>() : new Dictionary<string, object?> { ["effectiveDate"] = effectiveDate },
    });
}

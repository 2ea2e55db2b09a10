using System.Security.Claims;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Customers;

/// <summary><c>POST /api/v1/ops/customers</c>: the bank registers a business client by name and BIN (or an entrepreneur's IIN).</summary>
public static class CreateCustomer
{
    public const int MaxNameLength = 300;

    public static async Task<Results<Created<CustomerResponse>, ProblemResult>> HandleAsync(
        CreateCustomerRequest request,
        HttpContext httpContext,
        CustomerStore customers,
        AuditJournal audit,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(httpContext);
        var entrepreneur = !Bin.TryParse(request.Bin, out _) && Iin.TryParse(request.Bin, out _); // a sandbox's test identifier is a legal entity's
        var candidate = new Customer(Customer.NewId(), request.Name!.Trim(), request.Bin!.Trim(), CustomerStatus.Active, time.GetUtcNow())
        {
            IsIndividualEntrepreneur = entrepreneur,
        };
        var (created, customer) = await customers.CreateAsync(candidate, cancellationToken);
        if (!created)
        {
            return ProblemResult.For(new ApiProblem(CustomerProblems.CustomerExists)
            {
                Extensions = new Dictionary<string, object?> { ["customerId"] = customer.CustomerId },
            });
        }

        await audit.AppendAsync(new AuditRecord(customer.CustomerId, httpContext.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "operator", "customer.created", AuditOutcome.Success)
        {
            Target = $"customers/{customer.CustomerId}",
            CorrelationId = httpContext.TraceIdentifier,
            Details = new Dictionary<string, string> { ["bin"] = customer.Bin, ["name"] = customer.Name },
        }, cancellationToken);
        return TypedResults.Created($"/api/v1/ops/customers/{customer.CustomerId}", CustomerResponse.From(customer, customer.CreatedAt));
    }
}

/// <param name="Name">The registered name, 1–300 characters.</param>
/// <param name="Bin">12 digits: the BIN of a legal entity, or the IIN of an individual entrepreneur.</param>
public sealed record CreateCustomerRequest(string? Name, string? Bin) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("name", Name) && Name!.Trim().Length > CreateCustomer.MaxNameLength)
        {
            errors.Add("name", "too_long", CreateCustomer.MaxNameLength);
        }

        if (errors.Required("bin", Bin) && !Customers.Bin.TryParse(Bin!.Trim(), out _) && !Iin.TryParse(Bin.Trim(), out _)
            && !(errors.AcceptTestIdentifiers && TaxIdentifierCheck.IsTestIdentifier(Bin.Trim())))
        {
            errors.Add("bin", "invalid_bin");
        }
    }
}

/// <param name="Status">What the bank serves the customer now (a termination counts from its effective date).</param>
public sealed record CustomerResponse(string CustomerId, string Name, string Bin, CustomerStatus Status, DateTimeOffset CreatedAt, bool IndividualEntrepreneur,
    Suspension? Suspension, Termination? Termination)
{
    public static CustomerResponse From(Customer customer, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(customer);
        return new(customer.CustomerId, customer.Name, customer.Bin, customer.StatusAt(now), customer.CreatedAt, customer.IsIndividualEntrepreneur,
            customer.Suspension, customer.Termination);
    }
}

public static class CustomerProblems
{
    public static readonly ProblemType CustomerExists = new("customer_exists", StatusCodes.Status409Conflict);
    public static readonly ProblemType CustomerNotActive = new("customer_not_active", StatusCodes.Status409Conflict);

    /// <summary>A customer's user giving more than they hold (powers to a user, scopes to a pair).</summary>
    public static readonly ProblemType PowersNotHeld = new("powers_not_held", StatusCodes.Status403Forbidden);
}

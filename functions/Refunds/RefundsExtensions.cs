using BusinessApi.Customers;
using BusinessApi.Documents;
using BusinessApi.Platform.Http.Idempotency;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;
using BusinessApi.Platform.Approvals;
using BusinessApi.Platform.Security;

namespace BusinessApi.Refunds;

/// <summary>Error reports and refund notices (R-50..R-52) and penalty claims .</summary>
public static class RefundsExtensions
{
    public static IServiceCollection AddRefunds(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RefundOptions>().Bind(configuration.GetSection(RefundOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddStorageTable(RefundWorkflow.TableName);
        services.AddStorageTable(PenaltyClaims.TableName);
        services.AddSingleton<PenaltyClaims>();
        services.AddWorkflow<RefundWorkflow>();
        return services;
    }

    public static void MapRefunds(this RouteGroupBuilder api, RouteGroupBuilder ops)
    {
        api.MapPost("/documents/{documentId}/error-reports", ErrorReports.PostAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsWrite)
            .Accepts<SubmitDocumentBody>("application/json")
            .WithIdempotency(required: false)
            .WithName("ReportDocumentError")
            .WithTags("Error reports and penalties")
            .WithSummary("Report an erroneous or unauthorised execution (6.1.16), signed with an EDS (R-12: {\"cms\"} whose content has type errorReport and documentId): within 3 operational days after discovery and 3 years after execution. The bank sends the notice on return by the next operational day (8.2); money comes back from a beneficiary here only on the bank's decision.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapGet("/documents/{documentId}/error-reports", ErrorReports.ListAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsRead)
            .WithName("ListDocumentErrorReports")
            .WithTags("Error reports and penalties")
            .WithSummary("The document's error report with the return's status and history.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/documents/{documentId}/penalty-claims", PenaltyClaims.PostAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsWrite)
            .Accepts<SubmitDocumentBody>("application/json")
            .WithIdempotency(required: false)
            .WithName("ClaimPenalty")
            .WithTags("Error reports and penalties")
            .WithSummary("Demand the 0.01%-a-day penalty for a late execution (7.4), a written demand signed with an EDS (R-12: {\"cms\"} whose content has type penaltyClaim and documentId); recorded for the bank's approval.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapGet("/documents/{documentId}/penalty-claims", PenaltyClaims.GetForCustomerAsync)
            .RequireCustomerScope(CustomerAccess.DocumentsRead)
            .WithName("GetPenaltyClaim")
            .WithTags("Error reports and penalties")
            .WithSummary("The document's penalty claim and the bank's decision.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        ops.MapGet("/error-reports", ErrorReports.ListForOperatorsAsync)
            .WithName("ListErrorReports")
            .WithTags("Error reports and penalties")
            .WithSummary("Error reports and their returns (status=noticeSent, awaitingReturn, returned, notReturned, unresolved).");
        ops.MapPost("/error-reports/{documentId}/outcome", ErrorReports.RecordOutcomeAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .WithName("RecordRefundOutcome")
            .WithTags("Error reports and penalties")
            .WithSummary("Record what came of the return (money back in full or part, or not); the payer is credited and notified.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapGet("/refunds", ErrorReports.ListRefundsForOperatorsAsync)
            .WithName("ListRefunds")
            .WithTags("Error reports and penalties")
            .WithSummary("Returns of money (clause 8.2); status=pending lists those waiting for an operator: a decision on a beneficiary at this bank, or another bank's outcome.");
        ops.MapPost("/refunds/{refundId}/decision", ErrorReports.DecideAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .RequireFourEyes("refund.decision")
            .WithName("DecideRefund")
            .WithTags("Error reports and penalties")
            .WithSummary("The bank's decision on a return (clause 8.2.1): approve takes the money back from a beneficiary at this bank (or records that the other bank returned it) and credits the payer; reject moves nothing. Journaled; both parties are notified.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        ops.MapGet("/penalty-claims", PenaltyClaims.ListForOperatorsAsync)
            .WithName("ListPenaltyClaims")
            .WithTags("Error reports and penalties")
            .WithSummary("Penalty claims (status=pending, paid, rejected).");
        ops.MapPost("/penalty-claims/{documentId}/decision", PenaltyClaims.PostDecisionAsync)
            .RequireOperatorRole(OperatorRoles.Payments)
            .RequireFourEyes("penalty.decision")
            .WithName("DecidePenaltyClaim")
            .WithTags("Error reports and penalties")
            .WithSummary("Pay (credit from the bank's penalty expense account) or reject a claim.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }
}

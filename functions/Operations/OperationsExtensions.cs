namespace BusinessApi.Operations;

public static class OperationsExtensions
{
    public static void MapAuditJournal(this RouteGroupBuilder ops)
    {
        ops.MapGet("/audit", ReadAuditJournal.HandleAsync)
            .WithName("ReadAuditJournal")
            .WithSummary("One subject's audit journal for one local day (UTC+5), in order, paged.")
            .ProducesValidationProblem();
        ops.MapGet("/audit/verification", VerifyAuditJournal.HandleAsync)
            .WithName("VerifyAuditJournal")
            .WithSummary("Re-computes a day's hash chain: intact, or where it breaks.")
            .ProducesValidationProblem();
    }
}

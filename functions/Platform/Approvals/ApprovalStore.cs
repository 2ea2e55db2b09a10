using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Security;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Approvals;

/// <summary>
/// Four-eyes requests in the <c>Approvals</c> table, one partition per month of request (the id carries it), so
/// the pending ones are found in two or three partitions: none lives longer than <c>Operations:ApprovalHours</c> (≤ 30 days).
/// The approval and the start of the workflow that carries it out commit as one transaction.
/// </summary>
public sealed class ApprovalStore(
    StorageResources storage, WorkflowEngine engine, FourEyesWorkflow workflow, TimeProvider time, IOptions<OperationsOptions> operations)
{
    public const string TableName = "Approvals";

    private readonly TableClient _table = storage.Table(TableName);

    public static WorkflowLocation Location(string approvalId) => new(TableName, Approval.PartitionOf(approvalId)!, "wf|" + approvalId);

    public async Task AddAsync(Approval approval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(approval);
        await _table.AddEntityAsync(approval.ToEntity(), cancellationToken);
    }

    public async Task<Approval?> GetAsync(string approvalId, CancellationToken cancellationToken)
    {
        if (Approval.PartitionOf(approvalId) is not { } partition)
        {
            return null;
        }

        var found = await _table.GetEntityIfExistsAsync<TableEntity>(partition, approvalId, cancellationToken: cancellationToken);
        return found.HasValue ? Approval.FromEntity(found.Value!) : null;
    }

    /// <summary>
    /// Approves and starts carrying out in one transaction, if the approval is still the version read: the approved
    /// approval, or null when another decision (a racing approver) got there first.
    /// </summary>
    public async Task<Approval?> ApproveAsync(Approval read, string approver, string? approverName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var approved = read with { Status = ApprovalStatus.Approved, DecidedBy = approver, DecidedByName = approverName, DecidedAt = time.GetUtcNow() };
        return await engine.StartAsync(workflow, Location(read.ApprovalId), read.ApprovalId, new ApprovalRun(read.ApprovalId),
            with: [new TableTransactionAction(TableTransactionActionType.UpdateReplace, approved.ToEntity(), read.ETag)],
            cancellationToken: cancellationToken) ? approved : null;
    }

    /// <summary>Moves a pending approval to <paramref name="status"/> (rejected or expired) if still the version read.</summary>
    public async Task<Approval?> CloseAsync(Approval read, ApprovalStatus status, string? by, string? byName, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(read);
        var closed = read with { Status = status, DecidedBy = by, DecidedByName = byName, DecidedAt = time.GetUtcNow(), Reason = reason };
        try
        {
            var response = await _table.UpdateEntityAsync(closed.ToEntity(), read.ETag, TableUpdateMode.Replace, cancellationToken);
            return closed with { ETag = response.Headers.ETag ?? default };
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return null;
        }
    }

    /// <summary>
    /// Approvals requested this month and last month, and every one still within its lifetime, optionally of one
    /// status (as of now), newest first: the month partitions from the older of a month ago and one lifetime ago.
    /// </summary>
    public async Task<IReadOnlyList<Approval>> ListRecentAsync(ApprovalStatus? status, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var oldest = new[] { now.AddMonths(-1), now - operations.Value.ApprovalLifetime }.Min();
        var months = new List<string>();
        for (var month = new DateTimeOffset(oldest.UtcDateTime.Year, oldest.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero); month <= now; month = month.AddMonths(1))
        {
            months.Add(Approval.MonthPartition(month));
        }

        var found = new List<Approval>();
        foreach (var month in months)
        {
            var filter = TableClient.CreateQueryFilter($"PartitionKey eq {month} and RowKey lt {"wf|"}");
            await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
            {
                var approval = Approval.FromEntity(entity);
                if (status is null || approval.StatusAt(now) == status)
                {
                    found.Add(approval);
                }
            }
        }

        return [.. found.OrderByDescending(a => a.RequestedAt)];
    }
}

using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Documents;

/// <summary>
/// <c>/api/v1/ops/customers/{customerId}/certificate-blocks</c>: on the customer's phone call (a signer replaced,
/// a key lost), the bank stops accepting one certificate, named by issuer and serial number.
/// Documents received after the block and signed with it are refused <c>authentication_failed</c> with the
/// failure <c>certificate_blocked</c>; those received before are judged as they were.
/// </summary>
public static class CertificateBlockOperations
{
    public const int MaxReferenceLength = 200;

    public static async Task<Results<Created<CertificateBlockResponse>, Ok<CertificateBlockResponse>, ProblemResult>> BlockAsync(
        string customerId, CertificateBlockRequest request, HttpContext context, CustomerStore customers, CertificateBlocks blocks,
        AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (await customers.GetAsync(customerId, cancellationToken) is null)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        var actor = context.User.Actor();
        var (block, created) = await blocks.BlockAsync(
            new CertificateBlock(request.Issuer!, request.SerialNumber!, customerId, time.GetUtcNow(), actor, request.Reference?.Trim()), cancellationToken);
        var response = CertificateBlockResponse.From(block);
        if (!created)
        {
            return TypedResults.Ok(response);
        }

        await audit.AppendAsync(new AuditRecord(customerId, actor, "certificate.blocked", AuditOutcome.Success)
        {
            Target = $"certificates/{block.SerialNumber}",
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["issuer"] = block.Issuer,
                ["serialNumber"] = block.SerialNumber,
                ["reference"] = block.Reference ?? "",
            },
        }, cancellationToken);
        return TypedResults.Created($"/api/v1/ops/customers/{customerId}/certificate-blocks", response);
    }

    public static async Task<Results<Ok<CertificateBlockListResponse>, ProblemResult>> ListAsync(
        string customerId, CustomerStore customers, CertificateBlocks blocks, CancellationToken cancellationToken)
    {
        if (await customers.GetAsync(customerId, cancellationToken) is null)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        return TypedResults.Ok(new CertificateBlockListResponse([.. (await blocks.ListAsync(customerId, cancellationToken)).Select(CertificateBlockResponse.From)]));
    }
}

/// <param name="Issuer">The issuing CA's distinguished name as on the certificate, e.g. <c>CN=ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA), C=KZ</c>.</param>
/// <param name="SerialNumber">The certificate's serial number in hex (colons and spaces allowed).</param>
/// <param name="Reference">The call's or statement's reference, up to 200 characters.</param>
public sealed record CertificateBlockRequest(string? Issuer, string? SerialNumber, string? Reference) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("issuer", Issuer) && CertificateBlocks.CanonicalIssuer(Issuer!) is null)
        {
            errors.Add("issuer", "invalid_value");
        }

        if (errors.Required("serialNumber", SerialNumber) && CertificateBlocks.CanonicalSerial(SerialNumber!) is null)
        {
            errors.Add("serialNumber", "invalid_value");
        }

        if (Reference is { } reference && reference.Trim().Length > CertificateBlockOperations.MaxReferenceLength)
        {
            errors.Add("reference", "too_long", CertificateBlockOperations.MaxReferenceLength);
        }
    }
}

/// <param name="Kind"><c>blocked</c> (by the bank, on the customer's call) or <c>compromised</c> (reported by the holder or their admin).</param>
/// <param name="Iin">For a compromise reported by serial alone: the holder whose certificates with that serial it reaches.</param>
public sealed record CertificateBlockResponse(string Issuer, string SerialNumber, string CustomerId, DateTimeOffset BlockedAt, string BlockedBy, string? Reference, string Kind, string? Iin)
{
    public static CertificateBlockResponse From(CertificateBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        return new(block.Issuer, block.SerialNumber, block.CustomerId, block.BlockedAt, block.BlockedBy, block.Reference, block.Kind, block.Iin);
    }
}

public sealed record CertificateBlockListResponse(IReadOnlyList<CertificateBlockResponse> Items);

using System.Globalization;
using BusinessApi.Calendar;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Notifications;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Users;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Documents;

/// <summary>
/// <c>POST /api/v1/users/{userId}/certificates/compromise</c> (R-38): the user, or an admin of their customer, reports
/// one of the user's signing certificates compromised — the certificate itself (PEM or base64 DER), or its serial
/// number. From that instant, documents signed with it and not yet executed are refused
/// <c>credentials_compromised</c> (checked at verification and again before a waiting document is posted), and
/// new ones are refused. A certificate must carry the user's IIN, and a report by serial reaches only certificates
/// with the user's IIN: no one can block another person's key. Journaled; the customer gets a notice. Reporting
/// the same certificate again answers 200 with the first report.
/// </summary>
public static class CertificateCompromise
{
    public static readonly ProblemType NotTheUsersCertificate = new("certificate_not_users", StatusCodes.Status422UnprocessableEntity);

    public static async Task<Results<Created<CertificateBlockResponse>, Ok<CertificateBlockResponse>, ProblemResult>> ReportAsync(
        string userId, CompromiseRequest request, HttpContext context, UserService users, CertificateBlocks blocks, NoticeChannel notices,
        AuditJournal audit, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items[SessionAuthenticationHandler.ContextItem] is not SessionContext session)
        {
            return ProblemResult.For(PlatformProblems.Forbidden);
        }

        var caller = session.User;
        var mayReport = caller.UserId == userId || caller.Functions.Contains(UserFunctions.ManageUsers);
        var holder = mayReport && Users.User.IsWellFormedId(userId) && Users.User.CustomerIdOf(userId) == caller.CustomerId
            ? (await users.GetAsync(userId, cancellationToken))?.User
            : null;
        if (holder?.Iin is not { } iin)
        {
            return ProblemResult.For(UserProblems.UserNotFound);
        }

        string issuer, serial;
        string? scope = null;
        if (request.Certificate is { } text)
        {
            var certificate = TrustStore.ParseCertificates(DocumentOperations.Decode(text)) is [var one] ? NcaCertificate.TryRead(one.RawData) : null;
            if (certificate is null)
            {
                return SignedEnvelope.Invalid("certificate", "certificate_unreadable");
            }

            if (certificate.Iin != iin)
            {
                return ProblemResult.For(NotTheUsersCertificate);
            }

            (issuer, serial) = (certificate.Issuer, certificate.SerialNumber);
        }
        else
        {
            (issuer, serial, scope) = ("", CertificateBlocks.CanonicalSerial(request.SerialNumber!)!, iin);
        }

        var now = time.GetUtcNow();
        var actor = context.User.Actor();
        var (block, created) = await blocks.BlockAsync(new CertificateBlock(issuer, serial, caller.CustomerId, now, actor, request.Reference?.Trim())
        {
            Kind = CertificateBlock.Compromise,
            Iin = scope,
        }, cancellationToken);
        var response = CertificateBlockResponse.From(block);
        if (!created)
        {
            return TypedResults.Ok(response);
        }

        await audit.AppendAsync(new AuditRecord(caller.CustomerId, actor, "certificate.compromise_reported", AuditOutcome.Success)
        {
            Target = $"users/{userId}/certificates/{block.SerialNumber}",
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["issuer"] = block.Issuer,
                ["serialNumber"] = block.SerialNumber,
                ["scope"] = scope is null ? "issuer" : "holder",
                ["reference"] = block.Reference ?? "",
            },
        }, cancellationToken);
        await notices.AddAsync(new NoticeRequest(caller.CustomerId, NoticeKinds.CertificateCompromised, $"certificate:{block.SerialNumber}:{userId}", now, userId,
            [holder.FullName, block.SerialNumber, KazakhstanTime.Text(now)]), cancellationToken);
        return TypedResults.Created($"/api/v1/users/{userId}/certificates/compromise", response);
    }
}

/// <param name="Certificate">The compromised certificate, PEM or base64 DER (it must carry the user's IIN).</param>
/// <param name="SerialNumber">Or its serial number in hex: it then reaches the user's certificates with that serial.</param>
/// <param name="Reference">The customer's own reference, up to 200 characters.</param>
public sealed record CompromiseRequest(string? Certificate, string? SerialNumber, string? Reference) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Certificate is null == SerialNumber is null)
        {
            errors.Add(Certificate is null ? "certificate" : "serialNumber", "one_of_certificate_or_serial_number");
        }
        else if (SerialNumber is not null && CertificateBlocks.CanonicalSerial(SerialNumber) is null)
        {
            errors.Add("serialNumber", "invalid_value");
        }

        if (Reference is { Length: > CertificateBlockOperations.MaxReferenceLength })
        {
            errors.Add("reference", "too_long", CertificateBlockOperations.MaxReferenceLength.ToString(CultureInfo.InvariantCulture));
        }
    }
}

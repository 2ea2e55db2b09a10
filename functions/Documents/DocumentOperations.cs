using System.Globalization;
using System.Text;
using System.Text.Json;
using BusinessApi.Customers;
using BusinessApi.Documents.Signatures;
using BusinessApi.Platform;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents;

/// <summary>
/// The bank's side of payment documents: anti-money-laundering decisions, the operators' work list
/// (holds and documents past their R-33 instant), trust anchors and CRLs for EDS checks, and tariffs.
/// Every change is journaled under the operator's name.
/// </summary>
public static class DocumentOperations
{
    public static Task<Results<Accepted<DocumentResponse>, ProblemResult>> RefuseAsync(
        string documentId, OperatorRefusalRequest request, HttpContext context, DocumentStore store, WorkflowEngine engine, AuditJournal audit, ProblemTexts texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return DecideAsync(documentId, new AmlDecision(false, Actor(context), request.Comment), context, store, engine, audit, texts, cancellationToken);
    }

    public static Task<Results<Accepted<DocumentResponse>, ProblemResult>> ReleaseAsync(
        string documentId, OperatorReleaseRequest? request, HttpContext context, DocumentStore store, WorkflowEngine engine, AuditJournal audit, ProblemTexts texts, CancellationToken cancellationToken) =>
        DecideAsync(documentId, new AmlDecision(true, Actor(context), request?.Comment), context, store, engine, audit, texts, cancellationToken);

    public static async Task<Results<Ok<DocumentResponse>, ProblemResult>> GetAsync(
        string documentId, HttpContext context, DocumentStore store, ProblemTexts texts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var document = DocumentIds.IsWellFormed(documentId) ? await store.GetAsync(documentId, cancellationToken) : null;
        return document is null
            ? ProblemResult.For(DocumentProblems.DocumentNotFound)
            : TypedResults.Ok(DocumentResponse.Of(document, texts, ApiLanguages.Resolve(context.Request).Culture()));
    }

    public static async Task<Results<Ok<DocumentAlertList>, ProblemResult>> AlertsAsync(string? kind, DocumentStore store, CancellationToken cancellationToken)
    {
        kind ??= DocumentAlerts.Aml;
        if (kind is not (DocumentAlerts.Aml or DocumentAlerts.Overdue))
        {
            return ProblemResult.For(new ApiProblem(PlatformProblems.ValidationFailed) { Errors = [new FieldError("kind", "invalid_value")] });
        }

        return TypedResults.Ok(new DocumentAlertList(await store.ListAlertsAsync(kind, Paging.MaxPageSize, cancellationToken)));
    }

    public static async Task<Results<Created<TrustAnchorResponse>, ProblemResult>> AddTrustAnchorAsync(
        TrustAnchorRequest request, HttpContext context, TrustStore trust, AuditJournal audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (certificate, problem) = await trust.AddAnchorAsync(Decode(request.Certificate!), cancellationToken);
        if (certificate is null)
        {
            return ProblemResult.For(DocumentProblems.TrustMaterialRejected, problem!);
        }

        var response = TrustAnchorResponse.Of(certificate);
        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, Actor(context), "signatures.trust_anchor_added", AuditOutcome.Success)
        {
            Target = "trust-anchors/" + response.Thumbprint,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string> { ["subject"] = response.Subject, ["root"] = response.Root.ToString() },
        }, cancellationToken);
        return TypedResults.Created("/api/v1/ops/trust-anchors", response);
    }

    /// <summary><c>DELETE /api/v1/ops/trust-anchors/{thumbprint}</c>: signatures chaining only to it stop verifying.</summary>
    public static async Task<Results<Ok<TrustAnchorResponse>, ProblemResult>> RemoveTrustAnchorAsync(
        string thumbprint, HttpContext context, TrustStore trust, AuditJournal audit, CancellationToken cancellationToken)
    {
        if (thumbprint.Length != 40 || !thumbprint.All(char.IsAsciiHexDigit))
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        var removed = await trust.RemoveAnchorAsync(thumbprint, cancellationToken);
        if (removed is null)
        {
            return ProblemResult.For(PlatformProblems.NotFound);
        }

        var response = TrustAnchorResponse.Of(removed);
        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, Actor(context), "signatures.trust_anchor_removed", AuditOutcome.Success)
        {
            Target = "trust-anchors/" + response.Thumbprint,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string> { ["subject"] = response.Subject, ["root"] = response.Root.ToString() },
        }, cancellationToken);
        return TypedResults.Ok(response);
    }

    public static async Task<Ok<TrustMaterialResponse>> ListTrustAsync(TrustStore trust, IOptions<SignatureOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var material = await trust.GetAsync(cancellationToken);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new TrustMaterialResponse(
            [.. material.Roots.Concat(material.Intermediates).Select(TrustAnchorResponse.Of)],
            [.. material.Crls.Select(c => CrlResponse.Of(c, now, options.Value.CrlStaleWarningHours))]));
    }

    public static async Task<Results<Created<CrlResponse>, ProblemResult>> AddCrlAsync(
        CrlRequest request, HttpContext context, TrustStore trust, AuditJournal audit, IOptions<SignatureOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (crl, problem) = await trust.AddCrlAsync(Decode(request.Crl!), cancellationToken);
        if (crl is null)
        {
            return ProblemResult.For(DocumentProblems.TrustMaterialRejected, problem!);
        }

        var response = CrlResponse.Of(crl, time.GetUtcNow(), options.Value.CrlStaleWarningHours);
        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, Actor(context), "signatures.crl_added", AuditOutcome.Success)
        {
            Target = "crls/" + crl.IssuerThumbprint,
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["issuer"] = crl.Issuer,
                ["thisUpdate"] = crl.ThisUpdate.ToString("O", CultureInfo.InvariantCulture),
                ["revoked"] = crl.Revoked.Count.ToString(CultureInfo.InvariantCulture),
            },
        }, cancellationToken);
        return TypedResults.Created("/api/v1/ops/trust-anchors", response);
    }

    public static async Task<Ok<TariffSchedule>> GetTariffsAsync(TariffStore tariffs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tariffs.GetAsync(cancellationToken));

    public static async Task<Results<Ok<TariffSchedule>, ProblemResult>> PutTariffsAsync(
        TariffsRequest request, HttpContext context, TariffStore tariffs, AuditJournal audit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var schedule = await tariffs.PutAsync(request.Tariffs!, request.ApiSupportFee, Actor(context), cancellationToken);
        await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, Actor(context), "tariffs.updated", AuditOutcome.Success)
        {
            Target = "tariffs",
            CorrelationId = context.TraceIdentifier,
            Details = new Dictionary<string, string>
            {
                ["schedule"] = JsonSerializer.Serialize(request.Tariffs, PlatformExtensions.JsonOptions),
                ["apiSupportFee"] = JsonSerializer.Serialize(request.ApiSupportFee, PlatformExtensions.JsonOptions),
            },
        }, cancellationToken);
        return TypedResults.Ok(schedule);
    }

    private static async Task<Results<Accepted<DocumentResponse>, ProblemResult>> DecideAsync(
        string documentId, AmlDecision decision, HttpContext context, DocumentStore store, WorkflowEngine engine, AuditJournal audit, ProblemTexts texts, CancellationToken cancellationToken)
    {
        var document = DocumentIds.IsWellFormed(documentId) ? await store.GetAsync(documentId, cancellationToken) : null;
        if (document is null)
        {
            return ProblemResult.For(DocumentProblems.DocumentNotFound);
        }

        if (document.IsTerminal || document.WaitingFor != DocumentWaits.AmlReview
            || !await engine.RaiseEventAsync(DocumentStore.Location(documentId), DocumentWorkflow.AmlEvent, JsonSerializer.Serialize(decision, PlatformExtensions.JsonOptions), cancellationToken))
        {
            return ProblemResult.For(DocumentProblems.DocumentNotHeld);
        }

        await audit.AppendAsync(new AuditRecord(document.CustomerId, decision.By, decision.Release ? "document.aml_released" : "document.aml_refused", AuditOutcome.Success)
        {
            Target = "documents/" + documentId,
            CorrelationId = context.TraceIdentifier,
            Details = decision.Comment is { } comment ? new Dictionary<string, string> { ["comment"] = comment } : null,
        }, cancellationToken);
        return TypedResults.Accepted($"/api/v1/ops/documents/{documentId}", DocumentResponse.Of(document, texts, ApiLanguages.Resolve(context.Request).Culture()));
    }

    private static string Actor(HttpContext context) => context.User.Actor();

    /// <summary>PEM text or base64 DER, as bytes for the parsers (which take either).</summary>
    internal static byte[] Decode(string text)
    {
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            return Encoding.ASCII.GetBytes(text);
        }

        var buffer = new byte[(text.Length / 4 * 3) + 3];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : Encoding.ASCII.GetBytes(text);
    }
}

/// <param name="ReasonCode">Only <c>aml</c> for now: an operator refuses on anti-money-laundering grounds (R-36 e).</param>
public sealed record OperatorRefusalRequest(string? ReasonCode, string? Comment) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("reasonCode", ReasonCode) && ReasonCode != RefusalReasons.Aml)
        {
            errors.Add("reasonCode", "invalid_value");
        }

        if (Comment is { Length: > 500 })
        {
            errors.Add("comment", "too_long", 500);
        }
    }
}

public sealed record OperatorReleaseRequest(string? Comment) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (Comment is { Length: > 500 })
        {
            errors.Add("comment", "too_long", 500);
        }
    }
}

public sealed record DocumentAlertList(IReadOnlyList<DocumentAlert> Items);

/// <param name="Certificate">A CA certificate: PEM, or base64 of DER.</param>
public sealed record TrustAnchorRequest(string? Certificate) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("certificate", Certificate);
    }
}

/// <param name="Crl">A CRL: PEM, or base64 of DER, signed by a known root or intermediate.</param>
public sealed record CrlRequest(string? Crl) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.Required("crl", Crl);
    }
}

/// <param name="Tariffs">Commissions per document type, currency and route.</param>
/// <param name="ApiSupportFee">The monthly fee for the API's technical support (clause 3.9), if the tariffs set one.</param>
public sealed record TariffsRequest(IReadOnlyList<Tariff>? Tariffs, PeriodicFee? ApiSupportFee = null) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        Commissions.Validate(Tariffs, errors);
        PeriodicFee.Validate(ApiSupportFee, errors);
    }
}

public sealed record TrustAnchorResponse(string Subject, string Issuer, string Thumbprint, bool Root, DateTimeOffset NotBefore, DateTimeOffset NotAfter)
{
    public static TrustAnchorResponse Of(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return new(certificate.Subject, certificate.Issuer, certificate.Thumbprint, TrustMaterial.IsSelfSigned(certificate),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero), new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
    }
}

/// <param name="Delta">A delta CRL, kept beside its issuer's base.</param>
/// <param name="Status"><c>current</c>; <c>expiring</c> (its next update is within Signatures:CrlStaleWarningHours); <c>stale</c> (past it).</param>
public sealed record CrlResponse(string Issuer, string IssuerThumbprint, DateTimeOffset ThisUpdate, DateTimeOffset? NextUpdate, int Revoked, string? Number, bool Delta, string Status)
{
    public static CrlResponse Of(CrlInfo crl, DateTimeOffset now, int warningHours)
    {
        ArgumentNullException.ThrowIfNull(crl);
        var status = crl.NextUpdate is not { } next ? "current" : next < now ? "stale" : next - now < TimeSpan.FromHours(warningHours) ? "expiring" : "current";
        return new(crl.Issuer, crl.IssuerThumbprint, crl.ThisUpdate, crl.NextUpdate, crl.Revoked.Count, crl.Number, crl.IsDelta, status);
    }
}

public sealed record TrustMaterialResponse(IReadOnlyList<TrustAnchorResponse> Certificates, IReadOnlyList<CrlResponse> Crls);

using System.Security.Claims;
using BusinessApi.Customers;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace BusinessApi.Credentials;

/// <summary>
/// The customer admin's endpoints under <c>/api/v1/credentials</c> (R-01..R-05). They need a person acting
/// for the customer with the <c>manageCredentials</c> function; client tokens never reach them. Secrets
/// appear only in the 201 answers of generation and re-issue, which are never stored (no idempotent
/// replay for them: a repeated generation answers 409 with the pair that exists).
/// </summary>
public static class ManageCredentials
{
    public static async Task<Results<Created<IssuedCredentialResponse>, ProblemResult>> GenerateAsync(
        GenerateCredentialRequest request, HttpContext context, CredentialService credentials, CustomerStore customers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var customerId = context.User.CustomerId()!;
        if (await customers.GetAsync(customerId, cancellationToken) is not { } active || active.StatusAt(credentials.Now) != CustomerStatus.Active)
        {
            return ProblemResult.For(CustomerProblems.CustomerNotActive);
        }

        var (scopes, _) = CredentialRules.ParseScopes(request.Scopes!);
        if (ScopesNotHeld(context.User, scopes) is { } notHeld)
        {
            return notHeld;
        }

        var (issued, conflict) = await credentials.GenerateAsync(customerId, request.Name!, scopes, CreatorsAccounts(context.User, [ClientCredential.AllAccounts]),
            request.ApiVersion ?? CredentialRules.CurrentApiVersion,
            context.User.Actor(), context.TraceIdentifier, cancellationToken);
        if (issued is null)
        {
            return ProblemResult.For(new ApiProblem(CredentialProblems.CredentialExists)
            {
                Extensions = new Dictionary<string, object?> { ["clientId"] = conflict?.ClientId },
            });
        }

        NoStore(context);
        return TypedResults.Created($"/api/v1/credentials/{issued.Credential.ClientId}", Issued(issued, credentials.Today));
    }

    /// <summary>
    /// A pair never does more than the user who makes it: each scope must be one the user's own functions
    /// give (a <c>view</c>-only integrator cannot mint <c>documents.write</c>); else the 403 to answer.
    /// </summary>
    private static ProblemResult? ScopesNotHeld(ClaimsPrincipal creator, IReadOnlyList<string> scopes)
    {
        var missing = scopes.Where(s => !creator.HasScope(s)).ToList();
        return missing.Count == 0 ? null : ProblemResult.For(new ApiProblem(CustomerProblems.PowersNotHeld)
        {
            Errors = [.. missing.Select(s => new FieldError("scopes", "power_not_held", [s]))],
        });
    }

    /// <summary>
    /// The accounts a new pair reaches: the creating user's (R-13: a user limited to one account cannot mint a pair
    /// that reads all of them); a user with every account keeps what the pair had.
    /// </summary>
    private static IReadOnlyList<string> CreatorsAccounts(ClaimsPrincipal creator, IReadOnlyList<string> otherwise) =>
        creator.FindFirstValue(CustomerAccess.AccountsClaim)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } accounts
        && !accounts.Contains(ClientCredential.AllAccounts, StringComparer.Ordinal)
            ? accounts
            : otherwise;

    public static async Task<Ok<CredentialListResponse>> ListAsync(HttpContext context, CredentialService credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var today = credentials.Today;
        var pairs = await credentials.ListAsync(context.User.CustomerId()!, cancellationToken);
        return TypedResults.Ok(new CredentialListResponse([.. pairs.OrderBy(p => p.CreatedAt).Select(p => CredentialResponse.From(p, today))]));
    }

    public static async Task<Results<Ok<CredentialResponse>, ProblemResult>> GetAsync(
        string clientId, HttpContext context, CredentialService credentials, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(clientId, context, credentials, cancellationToken);
        return stored is null ? NotFound() : TypedResults.Ok(CredentialResponse.From(stored.Credential, credentials.Today));
    }

    public static async Task<Results<Created<IssuedCredentialResponse>, ProblemResult>> ReissueAsync(
        string clientId, ReissueCredentialRequest? request, HttpContext context, CredentialService credentials, CustomerStore customers, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(clientId, context, credentials, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        if (stored.Credential.SupersededBy is { } successor)
        {
            return Superseded(successor);
        }

        if (await customers.GetAsync(stored.Credential.CustomerId, cancellationToken) is not { } active || active.StatusAt(credentials.Now) != CustomerStatus.Active)
        {
            return ProblemResult.For(CustomerProblems.CustomerNotActive);
        }

        var scopes = request?.Scopes is { } requested ? CredentialRules.ParseScopes(requested).Scopes : stored.Credential.Scopes;
        if (ScopesNotHeld(context.User, scopes) is { } notHeld)
        {
            return notHeld;
        }

        var (issued, conflict) = await credentials.ReissueAsync(stored, scopes, CreatorsAccounts(context.User, stored.Credential.Accounts),
            request?.ApiVersion ?? stored.Credential.ApiVersion,
            context.User.Actor(), context.TraceIdentifier, cancellationToken);
        if (issued is null)
        {
            return Superseded(conflict?.SupersededBy ?? "");
        }

        NoStore(context);
        return TypedResults.Created($"/api/v1/credentials/{issued.Credential.ClientId}", Issued(issued, credentials.Today));
    }

    /// <summary><c>POST /api/v1/ops/customers/{customerId}/credentials/{clientId}/block</c>: the bank blocks a pair on the customer's call.</summary>
    public static async Task<Results<Ok<CredentialResponse>, ProblemResult>> BlockByOperatorAsync(
        string customerId, string clientId, HttpContext context, CredentialService credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var stored = await credentials.GetAsync(clientId, cancellationToken);
        if (stored is null || !string.Equals(stored.Credential.CustomerId, customerId, StringComparison.Ordinal))
        {
            return NotFound();
        }

        var changed = await credentials.ChangeStatusAsync(stored, CredentialStatus.BlockedCompromised, context.User.Actor(), context.TraceIdentifier, cancellationToken);
        return TypedResults.Ok(CredentialResponse.From((changed ?? stored).Credential, credentials.Today));
    }

    public static async Task<Results<Ok<CredentialResponse>, ProblemResult>> CompromiseAsync(
        string clientId, HttpContext context, CredentialService credentials, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(clientId, context, credentials, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        var changed = await credentials.ChangeStatusAsync(stored, CredentialStatus.BlockedCompromised, context.User.Actor(), context.TraceIdentifier, cancellationToken);
        return TypedResults.Ok(CredentialResponse.From((changed ?? stored).Credential, credentials.Today));
    }

    public static async Task<Results<Ok<CredentialResponse>, ProblemResult>> RevokeAsync(
        string clientId, HttpContext context, CredentialService credentials, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(clientId, context, credentials, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        var status = stored.Credential.EffectiveStatus(credentials.Today);
        if (status is not (CredentialStatus.Active or CredentialStatus.Revoked))
        {
            return ProblemResult.For(new ApiProblem(CredentialProblems.CredentialNotActive)
            {
                DetailArguments = [CredentialService.StatusText(status)],
                Extensions = new Dictionary<string, object?> { ["credentialStatus"] = CredentialService.StatusText(status) },
            });
        }

        var changed = await credentials.ChangeStatusAsync(stored, CredentialStatus.Revoked, context.User.Actor(), context.TraceIdentifier, cancellationToken);
        return TypedResults.Ok(CredentialResponse.From((changed ?? stored).Credential, credentials.Today));
    }

    /// <summary>The pair's history from the audit journal: generation, re-issue, first use of each day, blocks, failed authentications.</summary>
    public static async Task<Results<Ok<HistoryResponse>, ProblemResult>> HistoryAsync(
        string clientId, DateOnly? from, DateOnly? to, int? pageSize, string? continuation,
        HttpContext context, CredentialService credentials, AuditJournal audit, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(clientId, context, credentials, cancellationToken);
        if (stored is null)
        {
            return NotFound();
        }

        var (history, problem) = await SubjectHistory.ReadAsync(audit, stored.Credential.ClientId,
            from ?? Calendar.KazakhstanTime.LocalDate(stored.Credential.CreatedAt), to ?? credentials.Today, pageSize, continuation, cancellationToken);
        return history is null ? problem! : TypedResults.Ok(history);
    }

    private static async Task<StoredCredential?> FindAsync(string clientId, HttpContext context, CredentialService credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!CredentialRules.IsWellFormedClientId(clientId)
            || !string.Equals(CredentialRules.CustomerIdOf(clientId), context.User.CustomerId(), StringComparison.Ordinal))
        {
            return null; // another customer's pair is not found, not forbidden: ids tell nothing
        }

        return await credentials.GetAsync(clientId, cancellationToken);
    }

    private static IssuedCredentialResponse Issued(IssuedCredential issued, DateOnly today)
    {
        var view = CredentialResponse.From(issued.Credential, today);
        return new IssuedCredentialResponse(view.ClientId, issued.Secret, view.Name, view.Scopes, view.ApiVersion, view.Status,
            view.CreatedAt, view.LastUsedAt, view.BlockedInactiveFrom)
        {
            Replaces = view.Replaces,
        };
    }

    private static ProblemResult NotFound() => ProblemResult.For(CredentialProblems.CredentialNotFound);

    private static ProblemResult Superseded(string successor) =>
        ProblemResult.For(new ApiProblem(CredentialProblems.CredentialSuperseded)
        {
            Extensions = new Dictionary<string, object?> { ["supersededBy"] = successor },
        });

    private static void NoStore(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";
    }
}

/// <param name="Name">The Software Product's name, 1–100 characters; one active pair per name.</param>
/// <param name="Scopes">The API functions it may use: accounts.read, statements.read, documents.read, documents.write, notifications.read, notifications.manage.</param>
/// <param name="ApiVersion">The API version the pair is for (default v1).</param>
public sealed record GenerateCredentialRequest(string? Name, IReadOnlyList<string>? Scopes, string? ApiVersion) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Required("name", Name) && CredentialRules.NormalizeName(Name!).Length is 0 or > CredentialRules.MaxNameLength)
        {
            errors.Add("name", "credential_name", CredentialRules.MaxNameLength);
        }

        CredentialValidation.Scopes(errors, Scopes, required: true);
        CredentialValidation.ApiVersion(errors, ApiVersion);
    }
}

/// <param name="Scopes">New scopes; the old pair's when omitted.</param>
/// <param name="ApiVersion">A new API version; the old pair's when omitted.</param>
public sealed record ReissueCredentialRequest(IReadOnlyList<string>? Scopes, string? ApiVersion) : IValidatable
{
    public void Validate(ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        CredentialValidation.Scopes(errors, Scopes, required: false);
        CredentialValidation.ApiVersion(errors, ApiVersion);
    }
}

internal static class CredentialValidation
{
    public static void Scopes(ValidationErrors errors, IReadOnlyList<string>? scopes, bool required)
    {
        if (scopes is null)
        {
            if (required)
            {
                errors.Required<object>("scopes", null);
            }

            return;
        }

        var (known, unknown) = CredentialRules.ParseScopes(scopes.Select(s => s ?? ""));
        if (unknown.Count > 0)
        {
            errors.Add("scopes", "unknown_scope", string.Join(", ", CustomerAccess.AllScopes));
        }
        else if (known.Count == 0)
        {
            errors.Add("scopes", "no_scope");
        }
    }

    public static void ApiVersion(ValidationErrors errors, string? version)
    {
        if (version is not null && !CredentialRules.SupportedApiVersions.Contains(version))
        {
            errors.Add("apiVersion", "unsupported_api_version", string.Join(", ", CredentialRules.SupportedApiVersions));
        }
    }
}

public sealed record CredentialListResponse(IReadOnlyList<CredentialResponse> Items);

public static class CredentialProblems
{
    public static readonly ProblemType InvalidToken = new("invalid_token", StatusCodes.Status401Unauthorized);
    public static readonly ProblemType InsufficientScope = new("insufficient_scope", StatusCodes.Status403Forbidden);
    public static readonly ProblemType CredentialNotFound = new("credential_not_found", StatusCodes.Status404NotFound);
    public static readonly ProblemType CredentialExists = new("credential_exists", StatusCodes.Status409Conflict);
    public static readonly ProblemType CredentialSuperseded = new("credential_superseded", StatusCodes.Status409Conflict);
    public static readonly ProblemType CredentialNotActive = new("credential_not_active", StatusCodes.Status409Conflict);
}

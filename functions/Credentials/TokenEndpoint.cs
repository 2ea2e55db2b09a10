using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Serialization;
using BusinessApi.Platform.Audit;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace BusinessApi.Credentials;

/// <summary>
/// <c>POST /api/v1/oauth/token</c>: the client credentials grant of RFC 6749 §4.4. The client authenticates
/// with HTTP Basic or with <c>client_id</c>/<c>client_secret</c> form fields (never both); errors are RFC 6749
/// §5.2 bodies. A secret is checked in constant time, with the same work for an unknown Client ID.
/// Whether a pair is blocked is told only to a caller who proved the secret.
/// </summary>
public static class TokenEndpoint
{
    public const string GrantType = "client_credentials";
    private const string Realm = "Basic realm=\"business-api\", charset=\"UTF-8\"";

    public static async Task<IResult> HandleAsync(
        HttpContext context,
        CredentialService credentials,
        SecretHasher hasher,
        AccessTokens tokens,
        AuthenticationThrottle throttle,
        FailedAuthenticationJournal failures,
        TimeProvider time,
        IOptions<CredentialOptions> options,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (!request.HasFormContentType)
        {
            return Error(400, "invalid_request", "The request must be application/x-www-form-urlencoded.");
        }

        var form = await request.ReadFormAsync(cancellationToken);
        foreach (var field in form)
        {
            if (field.Value.Count > 1)
            {
                return Error(400, "invalid_request", $"The parameter {field.Key} is repeated.");
            }
        }

        // Client authentication: exactly one method (RFC 6749 §2.3).
        var basic = request.Headers.Authorization.ToString();
        var usesBasic = basic.Length > 0;
        string? clientId;
        string? secret;
        if (usesBasic)
        {
            if (form.ContainsKey("client_secret"))
            {
                return Error(400, "invalid_request", "Use one client authentication method: HTTP Basic or form fields, not both.");
            }

            if (!TryParseBasic(basic, out clientId, out secret))
            {
                await AuditUnknownAsync(failures, context, address, "malformed_authorization", null, cancellationToken);
                return Error(401, "invalid_client", "The Authorization header is not valid HTTP Basic client authentication.", Realm);
            }

            if (form.TryGetValue("client_id", out var formId) && !string.Equals(formId, clientId, StringComparison.Ordinal))
            {
                return Error(400, "invalid_request", "client_id in the form differs from the one in the Authorization header.");
            }
        }
        else
        {
            clientId = Single(form, "client_id");
            secret = Single(form, "client_secret");
            if (clientId is null || secret is null)
            {
                return Error(401, "invalid_client", "Client authentication is required: HTTP Basic, or client_id and client_secret.", Realm);
            }
        }

        var grantType = Single(form, "grant_type");
        if (string.IsNullOrEmpty(grantType))
        {
            return Error(400, "invalid_request", "grant_type is required.");
        }

        if (!string.Equals(grantType, GrantType, StringComparison.Ordinal))
        {
            return Error(400, "unsupported_grant_type", "Only the client_credentials grant is supported.");
        }

        if (throttle.RetryAfter(address) is { } addressWait)
        {
            return Locked(addressWait);
        }

        var now = time.GetUtcNow();
        var stored = await credentials.GetAsync(clientId, cancellationToken);
        var addressDigest = await hasher.AddressDigestAsync(address, cancellationToken);
        if (stored?.Credential is { LockedUntil: { } lockedUntil } locked && lockedUntil > now && !locked.KnownAddresses.Contains(addressDigest))
        {
            return Locked(lockedUntil - now);
        }

        var verified = await hasher.VerifyAsync(secret, stored?.Credential.SecretHash, stored?.Credential.SecretKeyVersion, cancellationToken);
        if (!verified)
        {
            throttle.RecordFailure(address);
            if (stored is null)
            {
                await AuditUnknownAsync(failures, context, address, "unknown_client", CredentialRules.IsWellFormedClientId(clientId) ? clientId : null, cancellationToken);
            }
            else
            {
                await RecordClientFailureAsync(credentials, stored, options.Value, now, context, address, cancellationToken);
            }

            return Error(401, "invalid_client", "Client authentication failed.", usesBasic ? Realm : null);
        }

        var pair = stored!.Credential;
        var actor = "client:" + pair.ClientId;
        var status = pair.EffectiveStatus(credentials.Today);
        if (status != CredentialStatus.Active)
        {
            if (pair.Status == CredentialStatus.Active)
            {
                await credentials.BlockInactiveAsync(stored, context.TraceIdentifier, cancellationToken);
            }

            await credentials.AuditAsync(pair.ClientId, actor, "credential.authentication", AuditOutcome.Denied, context.TraceIdentifier,
                new() { ["reason"] = CredentialService.StatusText(status), ["address"] = address }, cancellationToken);
            return Error(400, "unauthorized_client", $"This Client ID is {CredentialService.StatusText(status)}; generate a new pair in Internet-banking.");
        }

        IReadOnlyList<string> scopes = pair.Scopes;
        if (form.TryGetValue("scope", out var scopeValue))
        {
            var (requested, unknown) = CredentialRules.ParseScopes(scopeValue.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
            var notGranted = requested.Where(s => !pair.Scopes.Contains(s, StringComparer.Ordinal)).ToList();
            if (requested.Count == 0 || unknown.Count > 0 || notGranted.Count > 0)
            {
                return Error(400, "invalid_scope", requested.Count == 0 && unknown.Count == 0
                    ? "scope, when given, must name at least one scope."
                    : $"Not granted to this Client ID: {string.Join(' ', unknown.Concat(notGranted))}.");
            }

            scopes = requested;
        }

        var current = await UpgradeAfterSuccessAsync(credentials, hasher, stored, secret, addressDigest, options.Value, cancellationToken) ?? stored;
        status = await credentials.RecordUseAsync(current, actor, context.TraceIdentifier, cancellationToken);
        if (status != CredentialStatus.Active)
        {
            return Error(400, "unauthorized_client", $"This Client ID is {CredentialService.StatusText(status)}; generate a new pair in Internet-banking.");
        }

        var (token, claims) = await tokens.IssueAsync(pair.ClientId, pair.CustomerId, scopes, cancellationToken);
        NoStore(context.Response);
        return TypedResults.Ok(new TokenResponse(token, "Bearer", (int)(claims.ExpiresAt - claims.IssuedAt).TotalSeconds, CredentialRules.ScopeText(scopes)));
    }

    /// <summary>RFC 7617 Basic credentials, each part form-urlencoded as RFC 6749 §2.3.1 asks.</summary>
    public static bool TryParseBasic(string header, out string clientId, out string secret)
    {
        clientId = secret = "";
        if (!AuthenticationHeaderValue.TryParse(header, out var parsed)
            || !string.Equals(parsed.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || parsed.Parameter is not { Length: > 0 and <= 1024 } encoded)
        {
            return false;
        }

        var buffer = new byte[encoded.Length];
        if (!Convert.TryFromBase64String(encoded, buffer, out var written))
        {
            return false;
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(buffer, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
        {
            return false;
        }

        if (!TryFormDecode(text[..colon], out clientId) || !TryFormDecode(text[(colon + 1)..], out secret))
        {
            return false;
        }

        return clientId.Length > 0 && secret.Length > 0;
    }

    /// <summary>application/x-www-form-urlencoded decoding that refuses a stray <c>%</c> instead of passing it through.</summary>
    private static bool TryFormDecode(string encoded, out string decoded)
    {
        decoded = "";
        for (var i = encoded.IndexOf('%', StringComparison.Ordinal); i >= 0; i = encoded.IndexOf('%', i + 1))
        {
            if (i + 2 >= encoded.Length || !char.IsAsciiHexDigit(encoded[i + 1]) || !char.IsAsciiHexDigit(encoded[i + 2]))
            {
                return false;
            }
        }

        decoded = Uri.UnescapeDataString(encoded.Replace('+', ' '));
        return true;
    }

    private static async Task RecordClientFailureAsync(
        CredentialService credentials, StoredCredential stored, CredentialOptions settings, DateTimeOffset now, HttpContext context, string address, CancellationToken cancellationToken)
    {
        TimeSpan? lockedFor = null;
        var updated = await credentials.UpdateAuthenticationStateAsync(stored, c =>
        {
            var failures = c.LastFailureAt is { } last && now - last <= TimeSpan.FromHours(settings.FailureMemoryHours) ? c.FailedAttempts + 1 : 1;
            lockedFor = AuthenticationThrottle.LockFor(failures, settings.ClientFreeFailures, settings.MaxLockSeconds);
            return c with { FailedAttempts = failures, LastFailureAt = now, LockedUntil = lockedFor is null ? c.LockedUntil : now + lockedFor };
        }, cancellationToken);
        var details = new Dictionary<string, string>
        {
            ["reason"] = "invalid_secret",
            ["address"] = address,
            ["consecutiveFailures"] = (updated?.Credential.FailedAttempts ?? 0).ToString(CultureInfo.InvariantCulture),
        };
        if (lockedFor is { } wait)
        {
            details["lockedForSeconds"] = ((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        await credentials.AuditAsync(stored.Credential.ClientId, "anonymous", "credential.authentication", AuditOutcome.Denied, context.TraceIdentifier, details, cancellationToken);
    }

    /// <summary>After a success: forget failures, remember the address, re-hash under a rotated key. Written only when something changed.</summary>
    private static async Task<StoredCredential?> UpgradeAfterSuccessAsync(
        CredentialService credentials, SecretHasher hasher, StoredCredential stored, string secret, string addressDigest, CredentialOptions settings, CancellationToken cancellationToken)
    {
        var pair = stored.Credential;
        var keyVersion = await hasher.CurrentVersionAsync(cancellationToken);
        var rehash = !string.Equals(pair.SecretKeyVersion, keyVersion, StringComparison.Ordinal);
        var known = pair.KnownAddresses.Contains(addressDigest);
        if (pair.FailedAttempts == 0 && pair.LockedUntil is null && known && !rehash)
        {
            return null;
        }

        var (hash, version) = rehash ? await hasher.HashAsync(secret, cancellationToken) : (pair.SecretHash, pair.SecretKeyVersion);
        try
        {
            // Idempotent: decided afresh on the row as stored, and nothing is written when a parallel request of the
            // same pair has done it already, so a burst of first requests from a new address does not fight over the ETag.
            return await credentials.UpdateAuthenticationStateAsync(stored, c =>
                c.FailedAttempts == 0 && c.LockedUntil is null && c.KnownAddresses.Contains(addressDigest)
                && string.Equals(c.SecretKeyVersion, version, StringComparison.Ordinal)
                    ? null
                    : c with
                    {
                        FailedAttempts = 0,
                        LastFailureAt = null,
                        LockedUntil = null,
                        KnownAddresses = [addressDigest, .. c.KnownAddresses.Where(a => !string.Equals(a, addressDigest, StringComparison.Ordinal)).Take(Math.Max(0, settings.KnownAddresses - 1))],
                        SecretHash = string.Equals(c.SecretKeyVersion, version, StringComparison.Ordinal) ? c.SecretHash : hash,
                        SecretKeyVersion = version,
                    }, cancellationToken);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status is 412 or 409 or 0 or >= 500)
        {
            // Bookkeeping after a successful authentication is best effort: it never fails the request. The next
            // success repeats it; a re-hash stays due until then, and the old key version still verifies.
            return null;
        }
    }

    private static Task AuditUnknownAsync(FailedAuthenticationJournal failures, HttpContext context, string address, string reason, string? clientId, CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string> { ["reason"] = reason };
        if (clientId is not null)
        {
            details["clientId"] = clientId;
        }

        return failures.RecordAsync("credential.authentication", address, details, context.TraceIdentifier, cancellationToken);
    }

    private static string? Single(IFormCollection form, string name) =>
        form.TryGetValue(name, out var value) && !StringValues.IsNullOrEmpty(value) ? value.ToString() : null;

    private static OAuthError Locked(TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        return new OAuthError(429, "temporarily_unavailable",
            $"Too many failed authentications; try again in {seconds.ToString(CultureInfo.InvariantCulture)} s.", null, seconds);
    }

    private static OAuthError Error(int status, string error, string description, string? challenge = null) =>
        new OAuthError(status, error, description, challenge, null);

    private static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.Pragma = "no-cache";
    }

    /// <summary>An RFC 6749 §5.2 error body (not problem details: OAuth clients parse this shape).</summary>
    private sealed class OAuthError(int status, string error, string description, string? challenge, int? retryAfter) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => status;

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = status;
            NoStore(response);
            if (challenge is not null)
            {
                response.Headers.WWWAuthenticate = challenge;
            }

            if (retryAfter is { } seconds)
            {
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            await response.WriteAsJsonAsync(new OAuthErrorBody(error, description), httpContext.RequestAborted);
        }
    }
}

/// <summary>RFC 6749 §5.1.</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("scope")] string Scope);

/// <summary>RFC 6749 §5.2.</summary>
public sealed record OAuthErrorBody(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string ErrorDescription);

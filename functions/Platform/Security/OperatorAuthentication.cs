using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Secrets;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Security;

/// <summary>
/// Bank operators call <c>/api/v1/ops/*</c> with <c>Authorization: Bearer &lt;operator key&gt;</c>. Keys come
/// from <c>Operations:ApiKeys</c> (comma-separated) or, when Key Vault is configured, from its secret
/// <c>operations-api-keys</c>, so keys rotate by adding the new one before removing the old.
/// </summary>
public sealed partial class OperatorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    OperatorKeys keys,
    FailedAuthenticationJournal failures) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Operator";
    public const string PolicyName = "Operator";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var presented = header["Bearer ".Length..].Trim();
        var match = await keys.FindAsync(presented, Context.RequestAborted);
        if (match is null)
        {
            // Every unrecognised bearer token lands here: journaled aggregated, one write per address a minute.
            await failures.RecordAsync("operator.authentication", Context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                new Dictionary<string, string> { ["path"] = Request.Path.ToString() }, Context.TraceIdentifier, Context.RequestAborted);
            return AuthenticateResult.Fail("Unknown operator key.");
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, "operator:" + match), new Claim(ClaimTypes.Role, "operator")],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer realm=\"operations\"";
        await ProblemWriter.WriteAsync(Context, new ApiProblem(PlatformProblems.Unauthorized));
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        await ProblemWriter.WriteAsync(Context, new ApiProblem(PlatformProblems.Forbidden));
}

/// <summary>The configured operator keys, compared in constant time.</summary>
public sealed partial class OperatorKeys(IConfiguration configuration, ISecretStore secrets, ILogger<OperatorKeys> logger)
{
    public const string Setting = "Operations:ApiKeys";
    public const string VaultSecretName = "operations-api-keys";

    /// <summary>Shorter keys are ignored: an operator key must carry at least ~190 bits.</summary>
    public const int MinimumKeyLength = 32;

    // The parsed keys of the last configured value: re-parsed only when the value (or the vault version) changes.
    // A reference swapped whole, so concurrent requests never see half of an update.
    private ParsedKeys? _parsed;

    /// <summary>The matching key's fingerprint (never the key), or null.</summary>
    public async ValueTask<string?> FindAsync(string presented, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presented);
        var candidates = await LoadAsync(cancellationToken);
        // Hashing first makes every comparison the same length; no early exit, so timing tells nothing.
        var presentedHash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        string? found = null;
        foreach (var (hash, fingerprint) in candidates)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, presentedHash))
            {
                found = fingerprint;
            }
        }

        return found;
    }

    private async ValueTask<IReadOnlyList<(byte[] Hash, string Fingerprint)>> LoadAsync(CancellationToken cancellationToken)
    {
        var raw = configuration.UsesKeyVault()
            ? (await secrets.GetCurrentAsync(VaultSecretName, cancellationToken)).Value
            : configuration[Setting] ?? "";
        if (Volatile.Read(ref _parsed) is { } cached && string.Equals(cached.Raw, raw, StringComparison.Ordinal))
        {
            return cached.Keys;
        }

        var result = new List<(byte[], string)>();
        foreach (var key in raw.Split([',', ';', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (key.Length < MinimumKeyLength)
            {
                LogWeakKeyIgnored(logger, MinimumKeyLength);
                continue;
            }

            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
            result.Add((hash, Convert.ToHexStringLower(hash)[..12]));
        }

        Volatile.Write(ref _parsed, new ParsedKeys(raw, result));
        return result;
    }

    private sealed record ParsedKeys(string Raw, IReadOnlyList<(byte[] Hash, string Fingerprint)> Keys);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An operator key shorter than {MinimumLength} characters is ignored")]
    private static partial void LogWeakKeyIgnored(ILogger logger, int minimumLength);
}

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
/// The break-glass identity: a static key from <c>Operations:ApiKeys</c> (comma-separated) or, when Key Vault
/// is configured, its secret <c>operations-api-keys</c>. It holds every operator role but can never approve
/// a four-eyes action, every use is journaled as break-glass, and outside Development it is refused unless
/// <c>Operations:AllowStaticKeys=true</c>. Bank staff normally sign in with the bank's identity provider
/// (<see cref="OperatorJwt"/>).
/// </summary>
public sealed partial class OperatorAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    OperatorKeys keys,
    IHostEnvironment environment,
    IOptions<OperationsOptions> operations,
    AuditJournal audit,
    FailedAuthenticationJournal failures) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "Operator";
    public const string PolicyName = "Operator";

    private const string RefusalItem = "operator-refusal";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var presented = header["Bearer ".Length..].Trim();
        var match = await keys.FindAsync(presented, Context.RequestAborted);
        var address = Context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (match is null)
        {
            // Every unrecognised bearer token lands here: journaled aggregated, one write per address a minute.
            await failures.RecordAsync("operator.authentication", address,
                new Dictionary<string, string> { ["path"] = Request.Path.ToString() }, Context.TraceIdentifier, Context.RequestAborted);
            return AuthenticateResult.Fail("Unknown operator key.");
        }

        // Uses on /ops are journaled; elsewhere (health checks, customer paths) the key grants nothing, so its use is not.
        var journaled = Request.Path.StartsWithSegments(PlatformExtensions.OperationsPrefix, StringComparison.OrdinalIgnoreCase);
        if (!StaticKeysAllowed(environment, operations.Value))
        {
            Context.Items[RefusalItem] = true;
            if (journaled)
            {
                // Aggregated like every failed authentication (the first per address a minute, then a count): a leaked
                // key cannot be used to flood the journal.
                await failures.RecordAsync("operator.break_glass_refused", address, new Dictionary<string, string>
                {
                    ["key"] = match,
                    ["path"] = Request.Path.ToString(),
                    ["reason"] = "static_keys_disabled",
                }, Context.TraceIdentifier, Context.RequestAborted);
            }

            return AuthenticateResult.Fail("Static operator keys are disabled outside Development (Operations:AllowStaticKeys).");
        }

        var actor = "break-glass:" + match;
        if (journaled)
        {
            await audit.AppendAsync(new AuditRecord(AuditJournal.SystemSubject, actor, "operator.break_glass_used", AuditOutcome.Success)
            {
                Target = Request.Path.ToString(),
                CorrelationId = Context.TraceIdentifier,
                Details = new Dictionary<string, string> { ["method"] = Request.Method, ["address"] = address },
            }, Context.RequestAborted);
        }

        List<Claim> claims =
        [
            new Claim(ClaimTypes.NameIdentifier, actor),
            new Claim(OperatorRoles.NameClaim, "break-glass key " + match),
            new Claim(OperatorRoles.KindClaim, OperatorRoles.BreakGlass),
            .. OperatorRoles.All.Select(role => new Claim(OperatorRoles.RoleClaim, role)),
        ];
        var identity = new ClaimsIdentity(claims, SchemeName, OperatorRoles.NameClaim, OperatorRoles.RoleClaim);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>Static keys work in Development, and elsewhere only when the deployment opts in.</summary>
    public static bool StaticKeysAllowed(IHostEnvironment environment, OperationsOptions operations)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(operations);
        return environment.IsDevelopment() || operations.AllowStaticKeys;
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer realm=\"operations\"";
        await ProblemWriter.WriteAsync(Context, Context.Items.ContainsKey(RefusalItem)
            ? new ApiProblem(OperatorProblems.StaticKeysDisabled)
            : new ApiProblem(PlatformProblems.Unauthorized));
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

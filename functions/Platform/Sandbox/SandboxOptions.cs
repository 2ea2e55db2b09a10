using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Sandbox;

/// <summary>
/// Settings of a bank's sandbox, where integrators run NCA RK's public test keys end to end. Refused at start-up
/// in Production, and shown in <c>/readyz</c> while on.
/// </summary>
public sealed class SandboxOptions
{
    public const string Section = "Sandbox";

    /// <summary>
    /// Accept 12-digit IINs and BINs that fail the control digit (NCA RK's test certificates carry such, e.g.
    /// <c>IIN123456789011</c>, <c>BIN123456789021</c>) for customers, users, payment orders' IDNs and signers.
    /// A customer created with one is a legal entity.
    /// </summary>
    public bool AcceptTestIdentifiers { get; set; }
}

/// <summary>Sandbox settings never reach Production: the app does not start with them there.</summary>
public sealed class SandboxOptionsValidation(IHostEnvironment environment) : IValidateOptions<SandboxOptions>
{
    public ValidateOptionsResult Validate(string? name, SandboxOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.AcceptTestIdentifiers && environment.IsProduction()
            ? ValidateOptionsResult.Fail("Sandbox:AcceptTestIdentifiers is refused in Production: NCA RK's test identifiers would pass for real ones.")
            : ValidateOptionsResult.Success;
    }
}

/// <summary><c>/readyz</c> says when the sandbox accepts test identifiers, so no one mistakes it for production.</summary>
public sealed class SandboxHealthCheck(IOptions<SandboxOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy(options.Value.AcceptTestIdentifiers
            ? "sandbox: NCA RK test identifiers (failing the control digit) are accepted"
            : "test identifiers refused"));
}

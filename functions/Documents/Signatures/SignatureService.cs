using Microsoft.Extensions.Options;

namespace BusinessApi.Documents.Signatures;

/// <summary>
/// The verifier with its I/O: the trust material in force, then <see cref="SignatureVerifier"/> (pure), then
/// revocation by <see cref="RevocationChecker"/> (OCSP first when configured, the CRLs on file otherwise).
/// </summary>
public sealed class SignatureService(TrustStore trust, RevocationChecker revocation, IOptions<SignatureOptions> options, TimeProvider time)
{
    /// <summary>Verifies a signature received at <paramref name="receivedAt"/> (now, or moments ago): revocation is asked live.</summary>
    public Task<SignatureCheck> VerifyAsync(SignedMessage? message, DateTimeOffset receivedAt, CancellationToken cancellationToken) =>
        VerifyAsync(message, null, receivedAt, live: true, cancellationToken);

    /// <summary>
    /// Verifies <paramref name="message"/> (over <paramref name="data"/> when detached) as of <paramref name="at"/>;
    /// <paramref name="live"/> false judges a past instant by the CRLs on file, never asking OCSP about now.
    /// </summary>
    public async Task<SignatureCheck> VerifyAsync(SignedMessage? message, byte[]? data, DateTimeOffset at, bool live, CancellationToken cancellationToken)
    {
        var material = await trust.GetAsync(cancellationToken);
        var check = SignatureVerifier.Verify(message, data, material, at, options.Value, checkRevocation: false);
        return await revocation.CompleteAsync(check, material, live && at <= time.GetUtcNow(), cancellationToken);
    }

    /// <summary>Each SignerInfo of <paramref name="message"/> verified on its own and completed with its revocation answer (support staff's view).</summary>
    public async Task<IReadOnlyList<SignatureCheck>> InspectAsync(SignedMessage message, byte[]? data, DateTimeOffset at, bool live, CancellationToken cancellationToken)
    {
        var material = await trust.GetAsync(cancellationToken);
        var completed = new List<SignatureCheck>();
        foreach (var check in SignatureVerifier.VerifyEach(message, data, material, at, options.Value))
        {
            completed.Add(await revocation.CompleteAsync(check, material, live && at <= time.GetUtcNow(), cancellationToken));
        }

        return completed;
    }
}

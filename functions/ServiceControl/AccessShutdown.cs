using BusinessApi.Credentials;
using BusinessApi.Users;

namespace BusinessApi.ServiceControl;

/// <summary>
/// Closes every way in a customer has: each of its active Client IDs goes to <c>pairsTo</c> (blocked as
/// compromised after an incident report, revoked at termination) and every user's sessions end (the session
/// epoch moves on). Each change is journaled by its own service; repeating it changes nothing more.
/// </summary>
public sealed class AccessShutdown(CredentialService credentials, UserService users)
{
    public async Task<(int Pairs, int Users)> ShutAsync(
        string customerId, CredentialStatus pairsTo, string reason, string actor, string? correlationId, CancellationToken cancellationToken)
    {
        var pairs = 0;
        var today = credentials.Today;
        foreach (var pair in (await credentials.ListAsync(customerId, cancellationToken)).Where(p => p.EffectiveStatus(today) == CredentialStatus.Active))
        {
            if (await credentials.GetAsync(pair.ClientId, cancellationToken) is { } stored
                && await credentials.ChangeStatusAsync(stored, pairsTo, actor, correlationId, cancellationToken) is not null)
            {
                pairs++;
            }
        }

        var signedOut = 0;
        foreach (var user in await users.ListAsync(customerId, cancellationToken))
        {
            if (await users.GetAsync(user.UserId, cancellationToken) is { } stored
                && await users.ChangeAsync(stored, u => u with { SessionEpoch = u.SessionEpoch + 1 }, "user.sessions_ended", actor, correlationId,
                    new Dictionary<string, string> { ["reason"] = reason }, cancellationToken) is not null)
            {
                signedOut++;
            }
        }

        return (pairs, signedOut);
    }
}

using Azure;
using Azure.Security.KeyVault.Secrets;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Secrets;

/// <summary>
/// Secrets from Azure Key Vault. Rotation is done in the vault (a new version); the app picks it up
/// within the cache time and still resolves older versions by id. Secrets must be provisioned by the
/// deployment: the app's identity only reads (Key Vault Secrets User).
/// </summary>
public sealed class KeyVaultSecretStore(SecretClient client, TimeProvider time, IOptions<SecretsOptions> options)
    : CachingSecretStore(time, options)
{
    protected override async Task<SecretValue> FetchCurrentAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var secret = (await client.GetSecretAsync(name, version: null, cancellationToken)).Value;
            return new SecretValue(name, secret.Properties.Version, secret.Value);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new SecretNotFoundException(name, null);
        }
    }

    protected override async Task<SecretValue> FetchVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        try
        {
            var secret = (await client.GetSecretAsync(name, version, cancellationToken)).Value;
            return new SecretValue(name, secret.Properties.Version, secret.Value);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            throw new SecretNotFoundException(name, version);
        }
    }
}

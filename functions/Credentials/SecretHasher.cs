using System.Security.Cryptography;
using System.Text;
using BusinessApi.Platform.Secrets;

namespace BusinessApi.Credentials;

/// <summary>
/// Client Secrets are stored as HMAC-SHA256 under <see cref="KeyName"/> from the secrets store (Key Vault
/// in the cloud), with the key's version beside the digest. A stolen table therefore yields nothing that
/// can be tried offline without the vault. Checks are constant-time and take the same work whether or
/// not the Client ID exists.
/// </summary>
public sealed class SecretHasher(ISecretStore secrets)
{
    public const string KeyName = "credential-secret-key";

    // Compared against when there is no stored digest, so an unknown Client ID costs the same HMAC and comparison.
    private static readonly byte[] Decoy = RandomNumberGenerator.GetBytes(32);

    public async ValueTask<(string Hash, string KeyVersion)> HashAsync(string secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var key = await secrets.GetCurrentAsync(KeyName, cancellationToken);
        return (Convert.ToBase64String(Compute(key, secret)), key.Version);
    }

    /// <summary>True when <paramref name="presented"/> is the secret behind <paramref name="storedHash"/>; null stored values check against a decoy.</summary>
    public async ValueTask<bool> VerifyAsync(string presented, string? storedHash, string? keyVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(presented);
        SecretValue key;
        byte[] expected;
        if (storedHash is not null && keyVersion is not null && TryDecode(storedHash, out var decoded))
        {
            key = await secrets.GetVersionAsync(KeyName, keyVersion, cancellationToken);
            expected = decoded;
        }
        else
        {
            key = await secrets.GetCurrentAsync(KeyName, cancellationToken);
            expected = Decoy;
        }

        var actual = Compute(key, presented);
        return CryptographicOperations.FixedTimeEquals(actual, expected) && !ReferenceEquals(expected, Decoy);
    }

    /// <summary>The current key's version: a digest made under an older one is re-made at the next successful use.</summary>
    public async ValueTask<string> CurrentVersionAsync(CancellationToken cancellationToken) =>
        (await secrets.GetCurrentAsync(KeyName, cancellationToken)).Version;

    /// <summary>A keyed digest of a client address (an address is never stored in clear beside a pair).</summary>
    public async ValueTask<string> AddressDigestAsync(string address, CancellationToken cancellationToken)
    {
        var key = await secrets.GetCurrentAsync(KeyName, cancellationToken);
        return Convert.ToHexStringLower(Compute(key, "address:" + address).AsSpan(0, 8));
    }

    private static byte[] Compute(SecretValue key, string secret) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(key.Value), Encoding.UTF8.GetBytes(secret));

    private static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = new byte[32];
        return Convert.TryFromBase64String(text, bytes, out var written) && written == 32;
    }
}

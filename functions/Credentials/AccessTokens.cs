using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using BusinessApi.Platform.Secrets;
using BusinessApi.Platform.Security;
using Microsoft.Extensions.Options;

namespace BusinessApi.Credentials;

/// <summary>What a valid access token says.</summary>
public sealed record AccessTokenClaims(string ClientId, string CustomerId, IReadOnlyList<string> Scopes, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt, string TokenId);

/// <summary>
/// Short-lived access tokens as JWTs (RFC 9068 profile, <c>typ: at+jwt</c>) signed with HMAC-SHA256
/// under <see cref="KeyName"/> from the secrets store. The header's <c>kid</c> is the key's version, so a
/// rotated key signs new tokens while tokens signed with the old one stay valid until they expire.
/// Only this service reads its tokens; to clients they are opaque.
/// </summary>
public sealed class AccessTokens(ISecretStore secrets, TimeProvider time, IOptions<CredentialOptions> options)
{
    public const string KeyName = "access-token-signing-key";
    public const string Issuer = "business-api";
    private const string TokenType = "at+jwt";
    private const int MinimumKeyLength = 32;

    private static readonly TimeSpan ClockSkew = TimeSpan.FromSeconds(30);
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    // Versions seen to exist. A token naming any other version may cost one store lookup, at most one per
    // UnknownKeyLookupInterval for the whole process, so forged kids cannot flood Key Vault.
    private readonly ConcurrentDictionary<string, bool> _knownVersions = new(StringComparer.Ordinal);
    private long _lastUnknownLookupTicks;
    private static readonly TimeSpan UnknownKeyLookupInterval = TimeSpan.FromSeconds(5);

    public TimeSpan Lifetime => options.Value.AccessTokenLifetime;

    public async ValueTask<(string Token, AccessTokenClaims Claims)> IssueAsync(string clientId, string customerId, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var key = await secrets.GetCurrentAsync(KeyName, cancellationToken);
        _knownVersions.TryAdd(key.Version, true);
        var now = time.GetUtcNow();
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var claims = new AccessTokenClaims(clientId, customerId, scopes, issuedAt, issuedAt + Lifetime,
            Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(12)));
        var header = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Header("HS256", TokenType, key.Version), Json));
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Payload(
            Issuer, clientId, customerId, CredentialRules.ScopeText(scopes), issuedAt.ToUnixTimeSeconds(), claims.ExpiresAt.ToUnixTimeSeconds(), claims.TokenId), Json));
        var signingInput = header + "." + payload;
        var signature = Base64Url.EncodeToString(Sign(key, signingInput));
        return (signingInput + "." + signature, claims);
    }

    /// <summary>The token's claims when its signature, type, issuer and lifetime check out; otherwise null.</summary>
    public async ValueTask<AccessTokenClaims?> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length > 4096 || !LooksLikeOurs(token))
        {
            return null;
        }

        var firstDot = token.IndexOf('.', StringComparison.Ordinal);
        var secondDot = token.IndexOf('.', firstDot + 1);
        Header? header;
        Payload? payload;
        byte[] signature;
        try
        {
            header = JsonSerializer.Deserialize<Header>(Base64Url.DecodeFromChars(token.AsSpan(0, firstDot)), Json);
            payload = JsonSerializer.Deserialize<Payload>(Base64Url.DecodeFromChars(token.AsSpan(firstDot + 1, secondDot - firstDot - 1)), Json);
            signature = Base64Url.DecodeFromChars(token.AsSpan(secondDot + 1));
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }

        if (header is not { Alg: "HS256", Typ: TokenType, Kid: { Length: > 0 and <= 64 } kid } || payload is null
            || !string.Equals(payload.Iss, Issuer, StringComparison.Ordinal)
            || !CredentialRules.IsWellFormedClientId(payload.Sub)
            || !string.Equals(payload.Cid, CredentialRules.CustomerIdOf(payload.Sub!), StringComparison.Ordinal)
            || payload.Jti is null || payload.Scope is null)
        {
            return null;
        }

        var key = await KeyAsync(kid, cancellationToken);
        if (key is null || !CryptographicOperations.FixedTimeEquals(Sign(key, token.AsSpan(0, secondDot)), signature))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var issuedAt = DateTimeOffset.FromUnixTimeSeconds(payload.Iat);
        var expiresAt = DateTimeOffset.FromUnixTimeSeconds(payload.Exp);
        if (now >= expiresAt || issuedAt > now + ClockSkew)
        {
            return null;
        }

        var (scopes, unknown) = CredentialRules.ParseScopes(payload.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return unknown.Count > 0 ? null : new AccessTokenClaims(payload.Sub!, payload.Cid!, scopes, issuedAt, expiresAt, payload.Jti);
    }

    /// <summary>Three base64url segments, the first a JSON object: how a client token differs from an operator key.</summary>
    public static bool LooksLikeOurs(string token) => BearerSchemes.LooksLikeJwt(token);

    private async ValueTask<SecretValue?> KeyAsync(string kid, CancellationToken cancellationToken)
    {
        if (!_knownVersions.ContainsKey(kid))
        {
            var now = time.GetUtcNow().UtcTicks;
            var last = Interlocked.Read(ref _lastUnknownLookupTicks);
            if (now - last < UnknownKeyLookupInterval.Ticks || Interlocked.CompareExchange(ref _lastUnknownLookupTicks, now, last) != last)
            {
                return null;
            }
        }

        try
        {
            var key = await secrets.GetVersionAsync(KeyName, kid, cancellationToken);
            if (key.Value.Length < MinimumKeyLength)
            {
                return null;
            }

            _knownVersions.TryAdd(kid, true);
            return key;
        }
        catch (SecretNotFoundException)
        {
            return null;
        }
    }

    private static byte[] Sign(SecretValue key, ReadOnlySpan<char> signingInput)
    {
        var input = Encoding.ASCII.GetBytes(signingInput.ToArray());
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(key.Value), input);
    }

    private sealed record Header(
        [property: JsonPropertyName("alg")] string? Alg,
        [property: JsonPropertyName("typ")] string? Typ,
        [property: JsonPropertyName("kid")] string? Kid);

    private sealed record Payload(
        [property: JsonPropertyName("iss")] string? Iss,
        [property: JsonPropertyName("sub")] string? Sub,
        [property: JsonPropertyName("cid")] string? Cid,
        [property: JsonPropertyName("scope")] string? Scope,
        [property: JsonPropertyName("iat")] long Iat,
        [property: JsonPropertyName("exp")] long Exp,
        [property: JsonPropertyName("jti")] string? Jti);
}

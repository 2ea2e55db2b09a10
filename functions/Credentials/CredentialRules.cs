using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using BusinessApi.Customers;

namespace BusinessApi.Credentials;

/// <summary>
/// The shapes of identifiers and secrets, and the rules on names and scopes. Pure functions only.
/// <para>
/// A Client ID is <c>bapi_ci_</c> + the customer id's 20 hex digits + 12 random hex digits, so the pair's
/// storage partition is known from the id alone. A Client Secret is <c>bapi_sk_</c> + 43 base62 digits
/// (256 random bits) + 6 base62 digits of checksum (the first 32 bits of SHA-256 over everything
/// before it): a scanner recognises a leaked secret by its prefix and checksum without asking the bank.
/// </para>
/// </summary>
public static class CredentialRules
{
    public const string ClientIdPrefix = "bapi_ci_";
    public const string SecretPrefix = "bapi_sk_";
    public const int InactivityDays = 90;
    public const int MaxNameLength = 100;
    public const string CurrentApiVersion = "v1";

    private const string Base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int SecretBodyLength = 43;
    private const int ChecksumLength = 6;
    private const int CustomerHexLength = 20;
    private const int RandomHexLength = 12;

    public static readonly int SecretLength = SecretPrefix.Length + SecretBodyLength + ChecksumLength;
    public static readonly int ClientIdLength = ClientIdPrefix.Length + CustomerHexLength + RandomHexLength;

    public static readonly IReadOnlySet<string> SupportedApiVersions = new HashSet<string>(StringComparer.Ordinal) { CurrentApiVersion };

    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");
    private static readonly SearchValues<char> Base62 = SearchValues.Create(Base62Digits);

    public static string NewClientId(string customerId)
    {
        if (!Customer.IsWellFormedId(customerId))
        {
            throw new ArgumentException("Not a customer id.", nameof(customerId));
        }

        return ClientIdPrefix + customerId["cus_".Length..] + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(RandomHexLength / 2));
    }

    public static bool IsWellFormedClientId(string? clientId) =>
        clientId is not null
        && clientId.Length == ClientIdLength
        && clientId.StartsWith(ClientIdPrefix, StringComparison.Ordinal)
        && !clientId.AsSpan(ClientIdPrefix.Length).ContainsAnyExcept(LowerHex);

    /// <summary>The owning customer's id, read from a well-formed Client ID.</summary>
    public static string CustomerIdOf(string clientId) =>
        IsWellFormedClientId(clientId)
            ? string.Concat("cus_", clientId.AsSpan(ClientIdPrefix.Length, CustomerHexLength))
            : throw new ArgumentException("Not a Client ID.", nameof(clientId));

    public static string NewSecret()
    {
        Span<byte> random = stackalloc byte[32];
        RandomNumberGenerator.Fill(random);
        var body = SecretPrefix + ToBase62(random, SecretBodyLength);
        random.Clear();
        return body + Checksum(body);
    }

    /// <summary>Prefix, length, alphabet and checksum: what a secret scanner checks. Says nothing about whether the bank issued it.</summary>
    public static bool IsWellFormedSecret(string? secret)
    {
        if (secret is null || secret.Length != SecretLength || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
            || secret.AsSpan(SecretPrefix.Length).ContainsAnyExcept(Base62))
        {
            return false;
        }

        var body = secret[..^ChecksumLength];
        return CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Checksum(body)), Encoding.ASCII.GetBytes(secret[^ChecksumLength..]));
    }

    /// <summary>Name as compared for "one active pair per Software Product": trimmed, spaces collapsed, case folded.</summary>
    public static string NameKey(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var collapsed = string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(collapsed.ToUpperInvariant())))[..32];
    }

    public static string NormalizeName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Known scopes in their canonical order, without repeats; unknown ones are returned separately.</summary>
    public static (IReadOnlyList<string> Scopes, IReadOnlyList<string> Unknown) ParseScopes(IEnumerable<string> requested)
    {
        ArgumentNullException.ThrowIfNull(requested);
        var set = new HashSet<string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var scope in requested)
        {
            if (CustomerAccess.AllScopes.Contains(scope, StringComparer.Ordinal))
            {
                set.Add(scope);
            }
            else
            {
                unknown.Add(scope);
            }
        }

        return ([.. CustomerAccess.AllScopes.Where(set.Contains)], unknown);
    }

    public static string ScopeText(IEnumerable<string> scopes) => string.Join(' ', scopes);

    private static string ToBase62(ReadOnlySpan<byte> bytes, int length)
    {
        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var digits = new char[length];
        for (var i = length - 1; i >= 0; i--)
        {
            value = BigInteger.DivRem(value, 62, out var remainder);
            digits[i] = Base62Digits[(int)remainder];
        }

        return new string(digits);
    }

    private static string Checksum(string body)
    {
        var hash = SHA256.HashData(Encoding.ASCII.GetBytes(body));
        return ToBase62(hash.AsSpan(0, 4), ChecksumLength);
    }

    internal static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

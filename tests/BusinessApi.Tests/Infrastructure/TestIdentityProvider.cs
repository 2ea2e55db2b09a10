using System.Net.Http.Headers;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace BusinessApi.Tests.Infrastructure;

/// <summary>
/// The bank's identity provider as the tests play it: an OpenID Connect issuer on a loopback port (discovery
/// document and JWKS) with an RS256 key made here, minting staff tokens as Entra ID does (<c>oid</c>,
/// <c>name</c>, <c>roles</c>). The app under test is pointed at it with <see cref="Settings"/>.
/// </summary>
public sealed class TestIdentityProvider : IAsyncDisposable
{
    public const string Audience = "api://business-api-tests";

    private readonly WebApplication _app;
    private readonly RSA _key;
    private readonly RsaSecurityKey _signingKey;

    private TestIdentityProvider(WebApplication app, RSA key, RsaSecurityKey signingKey, string issuer)
    {
        _app = app;
        _key = key;
        _signingKey = signingKey;
        Issuer = issuer;
    }

    public string Issuer { get; }

    /// <summary>The app settings that make it trust this issuer.</summary>
    public IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Operators:Authority"] = Issuer,
        ["Operators:Audience"] = Audience,
        ["Operators:RequireHttpsMetadata"] = "false",
    };

    public static async Task<TestIdentityProvider> StartAsync()
    {
        var rsa = RSA.Create(2048);
        var signingKey = new RsaSecurityKey(rsa) { KeyId = "test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) };
        string? issuer = null;
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = signingKey.KeyId });
        var (app, address) = await LoopbackServer.StartAsync(app => MapEndpoints(app, () => issuer!, jwk));
        issuer = address.ToString().TrimEnd('/');
        return new TestIdentityProvider(app, rsa, signingKey, issuer);
    }

    private static void MapEndpoints(WebApplication app, Func<string> issuer, JsonWebKey jwk)
    {
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer(),
            ["jwks_uri"] = issuer() + "/keys",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        app.MapGet("/keys", () => Results.Json(new Dictionary<string, object>
        {
            ["keys"] = new[] { new Dictionary<string, string> { ["kty"] = "RSA", ["use"] = "sig", ["alg"] = "RS256", ["kid"] = jwk.Kid, ["n"] = jwk.N, ["e"] = jwk.E } },
        }));
    }

    /// <summary>A staff token for person <paramref name="oid"/> holding <paramref name="roles"/>, valid an hour from <paramref name="now"/>.</summary>
    public string Token(string oid, string name, IEnumerable<string> roles, DateTimeOffset now, string? audience = null, TimeSpan? lifetime = null, bool foreignKey = false)
    {
        var claims = new Dictionary<string, object>
        {
            ["oid"] = oid,
            ["sub"] = "pairwise-" + oid,
            ["name"] = name,
            ["roles"] = roles.ToArray(),
        };
        using var other = foreignKey ? RSA.Create(2048) : null;
        var key = other is null ? _signingKey : new RsaSecurityKey(other) { KeyId = _signingKey.KeyId };
        var expires = now.UtcDateTime + (lifetime ?? TimeSpan.FromHours(1));
        var notBefore = new[] { now.UtcDateTime.AddMinutes(-1), expires.AddMinutes(-1) }.Min();
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience ?? Audience,
            Claims = claims,
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>A client that calls the app as that person, with a token minted on the app's (fake) clock.</summary>
    public HttpClient Client(TestApp app, string oid, string name, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(app);
        return Client(app.BaseAddress, app.Time.GetUtcNow(), oid, name, roles);
    }

    /// <summary>A client that calls the app at <paramref name="address"/> as that person, with a token valid an hour from <paramref name="now"/>.</summary>
    public HttpClient Client(Uri address, DateTimeOffset now, string oid, string name, params string[] roles)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(oid, name, roles, now));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _key.Dispose();
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using BusinessApi.Platform.Secrets;
using BusinessApi.Platform.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform;

/// <summary>
/// The Key Vault adapter with the real SecretClient over real HTTPS, against an in-test endpoint that
/// speaks the Key Vault secrets REST shape, including the bearer challenge (no emulator exists).
/// </summary>
public sealed class KeyVaultSecretStoreTests : IAsyncLifetime
{
    private const string Token = "test-access-token";
    private readonly ConcurrentDictionary<string, List<(string Version, string Value)>> _vault = new();
    private readonly FakeTimeProvider _time = new(TestApp.DefaultNow);
    private int _authorizedRequests;
    private int _unauthorizedRequests;
    private WebApplication _server = null!;
    private X509Certificate2 _certificate = null!;
    private Uri _vaultUri = null!;

    public async Task InitializeAsync()
    {
        _certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(_certificate)));
        _server = builder.Build();
        _server.MapGet("/secrets/{name}/{version?}", (string name, string? version, HttpRequest request) =>
        {
            if (request.Headers.Authorization.ToString() != $"Bearer {Token}")
            {
                Interlocked.Increment(ref _unauthorizedRequests);
                request.HttpContext.Response.Headers.WWWAuthenticate =
                    "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000\", resource=\"https://vault.azure.net\"";
                return Results.StatusCode(401);
            }

            Interlocked.Increment(ref _authorizedRequests);
            if (!_vault.TryGetValue(name, out var versions) || versions.Count == 0)
            {
                return Results.Json(new { error = new { code = "SecretNotFound", message = "not found" } }, statusCode: 404);
            }

            var (foundVersion, value) = string.IsNullOrEmpty(version) ? versions[^1] : versions.FirstOrDefault(v => v.Version == version);
            if (foundVersion is null)
            {
                return Results.Json(new { error = new { code = "SecretNotFound", message = "no such version" } }, statusCode: 404);
            }

            return Results.Json(new
            {
                value,
                id = $"{_vaultUri}secrets/{name}/{foundVersion}",
                attributes = new { enabled = true, created = 1_700_000_000, updated = 1_700_000_000, recoveryLevel = "Recoverable" },
            });
        });
        await _server.StartAsync();
        _vaultUri = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
    }

    public async Task DisposeAsync()
    {
        await _server.StopAsync();
        await _server.DisposeAsync();
        _certificate.Dispose();
    }

    [Fact]
    public async Task CurrentVersion_IsReadThroughTheBearerChallenge()
    {
        Store("api-signing-key", "v1", "first-value");
        var store = NewStore();

        var secret = await store.GetCurrentAsync("api-signing-key", CancellationToken.None);

        Assert.Equal("v1", secret.Version);
        Assert.Equal("first-value", secret.Value);
        Assert.True(_unauthorizedRequests >= 1, "the client should have been challenged first");
    }

    [Fact]
    public async Task CurrentVersion_IsCachedUntilItsTimeIsUp()
    {
        Store("cached", "v1", "a");
        var store = NewStore();
        await store.GetCurrentAsync("cached", CancellationToken.None);
        var calls = _authorizedRequests;

        await store.GetCurrentAsync("cached", CancellationToken.None);
        await store.GetCurrentAsync("cached", CancellationToken.None);

        Assert.Equal(calls, _authorizedRequests);
    }

    [Fact]
    public async Task Rotation_NewVersionIsPickedUpAfterTheCacheTime_OldVersionStillResolves()
    {
        Store("hmac-key", "v1", "old-value");
        var store = NewStore();
        await store.GetCurrentAsync("hmac-key", CancellationToken.None);

        Store("hmac-key", "v2", "new-value");
        var beforeExpiry = await store.GetCurrentAsync("hmac-key", CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(301));
        var afterExpiry = await store.GetCurrentAsync("hmac-key", CancellationToken.None);
        var old = await store.GetVersionAsync("hmac-key", "v1", CancellationToken.None);

        Assert.Equal("old-value", beforeExpiry.Value);
        Assert.Equal("v2", afterExpiry.Version);
        Assert.Equal("new-value", afterExpiry.Value);
        Assert.Equal("old-value", old.Value);
    }

    [Fact]
    public async Task MissingSecret_IsSecretNotFound()
    {
        var store = NewStore();

        var error = await Assert.ThrowsAsync<SecretNotFoundException>(() => store.GetCurrentAsync("never-provisioned", CancellationToken.None).AsTask());
        Assert.Equal("never-provisioned", error.SecretName);
    }

    [Fact]
    public async Task OperatorKeys_ComeFromTheVault_WhenOneIsConfigured()
    {
        var key = new string('k', 40);
        Store(OperatorKeys.VaultSecretName, "v1", $"{key},{new string('z', 40)}");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["KeyVault:Uri"] = _vaultUri.ToString(), ["Operations:ApiKeys"] = "ignored-when-vault-is-configured-0000" })
            .Build();
        var keys = new OperatorKeys(configuration, NewStore(), NullLogger<OperatorKeys>.Instance);

        Assert.NotNull(await keys.FindAsync(key, CancellationToken.None));
        Assert.Null(await keys.FindAsync("ignored-when-vault-is-configured-0000", CancellationToken.None));
    }

    private void Store(string name, string version, string value) =>
        _vault.AddOrUpdate(name, _ => [(version, value)], (_, list) => { lock (list) { list.Add((version, value)); } return list; });

    private KeyVaultSecretStore NewStore()
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.Thumbprint == _certificate.Thumbprint,
        };
        var options = new SecretClientOptions
        {
            Transport = new HttpClientTransport(handler),
            DisableChallengeResourceVerification = true,
            Retry = { MaxRetries = 0 },
        };
        var client = new SecretClient(_vaultUri, new StaticTokenCredential(), options);
        return new KeyVaultSecretStore(client, _time, Options.Create(new SecretsOptions { CacheSeconds = 300 }));
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    private sealed class StaticTokenCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(Token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}

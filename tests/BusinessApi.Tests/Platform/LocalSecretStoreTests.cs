using BusinessApi.Platform.Configuration;
using BusinessApi.Platform.Secrets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Platform;

public sealed class LocalSecretStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("secrets-test-").FullName;
    private readonly FakeTimeProvider _time = new(TestApp.DefaultNow);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task FirstUse_Generates256RandomBits_InAnOwnerOnlyFile()
    {
        using var store = NewStore();

        var secret = await store.GetCurrentAsync("token-signing-key", CancellationToken.None);

        Assert.Equal(32, Convert.FromBase64String(Pad(secret.Value.Replace('-', '+').Replace('_', '/'))).Length);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(store.FilePath)!));
        Assert.DoesNotContain(secret.Value, secret.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoProcesses_AgreeOnEveryValue_EvenWhenRacingOnFirstUse()
    {
        using var first = NewStore();
        using var second = NewStore();

        var values = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            (i % 2 == 0 ? first : second).GetCurrentAsync("shared-key", CancellationToken.None).AsTask()));

        Assert.Single(values.Select(v => v.Value).Distinct());
    }

    [Fact]
    public async Task Rotation_MakesANewCurrentVersion_OldVersionsStayResolvable()
    {
        using var store = NewStore();
        using var otherProcess = NewStore();
        var before = await store.GetCurrentAsync("hmac-key", CancellationToken.None);
        var seenByOther = await otherProcess.GetCurrentAsync("hmac-key", CancellationToken.None);

        var rotated = await store.RotateAsync("hmac-key", CancellationToken.None);
        var cachedByOther = await otherProcess.GetCurrentAsync("hmac-key", CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(6));
        var refreshedByOther = await otherProcess.GetCurrentAsync("hmac-key", CancellationToken.None);
        var old = await otherProcess.GetVersionAsync("hmac-key", before.Version, CancellationToken.None);

        Assert.Equal(before.Value, seenByOther.Value);
        Assert.NotEqual(before.Version, rotated.Version);
        Assert.NotEqual(before.Value, rotated.Value);
        Assert.Equal(before.Value, cachedByOther.Value);
        Assert.Equal(rotated.Value, refreshedByOther.Value);
        Assert.Equal(before.Value, old.Value);
    }

    [Fact]
    public async Task UnknownVersion_IsSecretNotFound()
    {
        using var store = NewStore();
        await store.GetCurrentAsync("k", CancellationToken.None);

        await Assert.ThrowsAsync<SecretNotFoundException>(() => store.GetVersionAsync("k", "nope", CancellationToken.None).AsTask());
    }

    [Theory]
    [InlineData("with space")]
    [InlineData("under_score")]
    [InlineData("")]
    public async Task InvalidNames_AreRefused(string name)
    {
        using var store = NewStore();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetCurrentAsync(name, CancellationToken.None).AsTask());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private LocalSecretStore NewStore() => new(
        _time,
        Options.Create(new SecretsOptions { CacheSeconds = 300, LocalPath = Path.Combine("nested", "secrets.json") }),
        Options.Create(new PlatformOptions { RootPath = _root }));

    private static string Pad(string base64) => base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
}

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using BusinessApi.Platform.Configuration;
using Microsoft.Extensions.Options;

namespace BusinessApi.Platform.Secrets;

/// <summary>
/// Development stand-in for Key Vault: on first use of a name it generates 256 random bits and keeps
/// them in a git-ignored JSON file readable by the owner only. Several local processes share the file
/// under an exclusive lock, so they agree on every value.
/// </summary>
public sealed class LocalSecretStore : CachingSecretStore, IDisposable
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public LocalSecretStore(TimeProvider time, IOptions<SecretsOptions> options, IOptions<PlatformOptions> platform)
        : base(time, options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(platform);
        _path = Path.GetFullPath(options.Value.LocalPath, platform.Value.RootPath);
    }

    public string FilePath => _path;

    public void Dispose() => _gate.Dispose();

    /// <summary>Makes a new random current version of <paramref name="name"/>; older versions stay resolvable.</summary>
    public async Task<SecretValue> RotateAsync(string name, CancellationToken cancellationToken)
    {
        SecretNames.Validate(name);
        var rotated = await UpdateFileAsync(name, forceNewVersion: true, cancellationToken);
        Invalidate(name);
        return rotated;
    }

    protected override Task<SecretValue> FetchCurrentAsync(string name, CancellationToken cancellationToken) =>
        UpdateFileAsync(name, forceNewVersion: false, cancellationToken);

    protected override async Task<SecretValue> FetchVersionAsync(string name, string version, CancellationToken cancellationToken)
    {
        var file = await WithLockedFileAsync(file => (file, false), cancellationToken);
        return file.TryGetValue(name, out var entry) && entry.Versions.TryGetValue(version, out var value)
            ? new SecretValue(name, version, value)
            : throw new SecretNotFoundException(name, version);
    }

    private async Task<SecretValue> UpdateFileAsync(string name, bool forceNewVersion, CancellationToken cancellationToken)
    {
        SecretValue? result = null;
        await WithLockedFileAsync(file =>
        {
            if (!forceNewVersion && file.TryGetValue(name, out var existing))
            {
                result = new SecretValue(name, existing.Current, existing.Versions[existing.Current]);
                return (file, false);
            }

            var entry = file.TryGetValue(name, out var found) ? found : new LocalSecret();
            var version = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            var value = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
            entry.Versions[version] = value;
            entry.Current = version;
            file[name] = entry;
            result = new SecretValue(name, version, value);
            return (file, true);
        }, cancellationToken);
        return result!;
    }

    private async Task<Dictionary<string, LocalSecret>> WithLockedFileAsync(
        Func<Dictionary<string, LocalSecret>, (Dictionary<string, LocalSecret> File, bool Changed)> change,
        CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var directory = Path.GetDirectoryName(_path)!;
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }

            await using var lockFile = await OpenLockAsync(_path + ".lock", cancellationToken);
            var file = File.Exists(_path)
                ? JsonSerializer.Deserialize<Dictionary<string, LocalSecret>>(await File.ReadAllBytesAsync(_path, cancellationToken), JsonOptions) ?? []
                : [];
            var (updated, changed) = change(file);
            if (changed)
            {
                var temp = _path + ".tmp";
                await using (var stream = new FileStream(temp, OwnerOnly(FileMode.Create, FileAccess.Write, FileShare.None)))
                {
                    await JsonSerializer.SerializeAsync(stream, updated, JsonOptions, cancellationToken);
                }

                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                }

                File.Move(temp, _path, overwrite: true);
            }

            return updated;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<FileStream> OpenLockAsync(string path, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var lockOptions = OwnerOnly(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                lockOptions.Options = FileOptions.DeleteOnClose;
                return new FileStream(path, lockOptions);
            }
            catch (IOException) when (attempt < 200)
            {
                await Task.Delay(25, cancellationToken);
            }
        }
    }

    /// <summary>Files created owner read/write only (0600) where the OS has such modes.</summary>
    private static FileStreamOptions OwnerOnly(FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        return options;
    }

    private sealed class LocalSecret
    {
        public string Current { get; set; } = "";

        public Dictionary<string, string> Versions { get; set; } = new(StringComparer.Ordinal);
    }
}

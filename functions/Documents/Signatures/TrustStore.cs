using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using BusinessApi.Platform.Storage;
using Microsoft.Extensions.Options;

namespace BusinessApi.Documents.Signatures;

/// <summary>
/// The trust anchors and CRLs in force: files named by <see cref="SignatureOptions.TrustAnchorsPath"/> and
/// <see cref="SignatureOptions.CrlPath"/>, plus those uploaded through the operations API (blob container
/// <c>trust</c>, shared by every instance). A snapshot is rebuilt when an upload lands in this process,
/// and when another instance's upload is seen (checked every <see cref="SignatureOptions.RefreshSeconds"/>).
/// </summary>
public sealed partial class TrustStore(
    StorageResources storage,
    IOptions<SignatureOptions> options,
    TimeProvider time,
    ILogger<TrustStore> logger) : IDisposable
{
    public const string ContainerName = "trust";
    private const string AnchorsPrefix = "anchors/";
    private const string CrlsPrefix = "crls/";

    private readonly BlobContainerClient _container = storage.Container(ContainerName);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private (TrustMaterial Material, string Fingerprint, long CheckedAt)? _current;

    public async ValueTask<TrustMaterial> GetAsync(CancellationToken cancellationToken)
    {
        var current = _current;
        if (current is { } c && time.GetElapsedTime(c.CheckedAt) < TimeSpan.FromSeconds(options.Value.RefreshSeconds))
        {
            return c.Material;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            current = _current;
            if (current is { } again && time.GetElapsedTime(again.CheckedAt) < TimeSpan.FromSeconds(options.Value.RefreshSeconds))
            {
                return again.Material;
            }

            var blobs = new List<BlobItem>();
            await foreach (var blob in _container.GetBlobsAsync(cancellationToken: cancellationToken))
            {
                blobs.Add(blob);
            }

            var fingerprint = string.Join(';', blobs.OrderBy(b => b.Name, StringComparer.Ordinal).Select(b => b.Name + "@" + b.Properties.ETag));
            if (current is { } known && known.Fingerprint == fingerprint)
            {
                _current = (known.Material, fingerprint, time.GetTimestamp());
                return known.Material;
            }

            var material = await LoadAsync(blobs, cancellationToken);
            _current = (material, fingerprint, time.GetTimestamp());
            return material;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Adds a root or intermediate CA certificate (PEM or DER); false with the reason when it is not one.</summary>
    public async Task<(X509Certificate2? Certificate, string? Problem)> AddAnchorAsync(byte[] data, CancellationToken cancellationToken)
    {
        if (ParseCertificates(data) is not [var certificate])
        {
            return (null, "certificate_unreadable");
        }

        if (!TrustMaterial.IsCertificateAuthority(certificate))
        {
            return (null, "not_a_ca_certificate");
        }

        await UploadAsync(AnchorBlobName(certificate), certificate.RawData, overwrite: false, cancellationToken);
        _current = null;
        return (certificate, null);
    }

    /// <summary>
    /// Removes an anchor added through the API, by its thumbprint (SHA-1 hex, as listed): null when no uploaded
    /// anchor has it. Anchors from <see cref="SignatureOptions.TrustAnchorsPath"/> are part of the deployment and stay.
    /// The anchor is found in the material in force (an upload on another instance shows within
    /// <see cref="SignatureOptions.RefreshSeconds"/>), and its blob by the name it was uploaded under.
    /// </summary>
    public async Task<X509Certificate2?> RemoveAnchorAsync(string thumbprint, CancellationToken cancellationToken)
    {
        var material = await GetAsync(cancellationToken);
        var certificate = material.Roots.Concat(material.Intermediates)
            .FirstOrDefault(c => string.Equals(c.Thumbprint, thumbprint, StringComparison.OrdinalIgnoreCase));
        if (certificate is null || !(await _container.GetBlobClient(AnchorBlobName(certificate)).DeleteIfExistsAsync(cancellationToken: cancellationToken)).Value)
        {
            return null; // unknown, or configured from a file (part of the deployment)
        }

        _current = null;
        return certificate;
    }

    /// <summary>The blob of an issuer's base CRL, or of its delta: one of each per CA.</summary>
    public static string CrlBlobName(CrlInfo crl)
    {
        ArgumentNullException.ThrowIfNull(crl);
        return CrlsPrefix + crl.IssuerThumbprint.ToLowerInvariant() + (crl.IsDelta ? "-delta" : "") + ".crl";
    }

    /// <summary>Adds a CRL (base or delta) signed by a known CA; one older than the same kind on file for that CA is refused.</summary>
    public async Task<(CrlInfo? Crl, string? Problem)> AddCrlAsync(byte[] data, CancellationToken cancellationToken)
    {
        var material = await GetAsync(cancellationToken);
        return material.TryLoadCrl(data, out var info, out _) ? await AddCrlAsync(info, cancellationToken) : (null, "crl_unverifiable");
    }

    /// <summary>Stores a CRL already checked against its issuer (<see cref="TrustMaterial.TryLoadCrl"/>); one older than the same kind on file is refused.</summary>
    public async Task<(CrlInfo? Crl, string? Problem)> AddCrlAsync(CrlInfo info, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);

        // A base replaces an older base, a delta an older delta: a delta never replaces its base.
        var (knownBase, knownDelta) = (await GetAsync(cancellationToken)).CrlsOf(info.IssuerThumbprint);
        if ((info.IsDelta ? knownDelta : knownBase) is { } known && known.ThisUpdate > info.ThisUpdate)
        {
            return (null, "crl_outdated");
        }

        await UploadAsync(CrlBlobName(info), info.Raw, overwrite: true, cancellationToken);
        _current = null;
        return (info, null);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>An uploaded anchor's blob: named by its SHA-256, so the same certificate is one blob.</summary>
    private static string AnchorBlobName(X509Certificate2 certificate) =>
        AnchorsPrefix + Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256)) + ".cer";

    /// <summary>Certificates in PEM (one or more), DER, or bare base64 of DER (as NCA RK publishes some).</summary>
    public static IReadOnlyList<X509Certificate2> ParseCertificates(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        try
        {
            var text = Encoding.ASCII.GetString(data);
            if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                var collection = new X509Certificate2Collection();
                collection.ImportFromPem(text);
                return [.. collection];
            }

            var decoded = new byte[data.Length];
            if (data.Length > 0 && data[0] != 0x30 && Convert.TryFromBase64String(string.Concat(text.Where(c => !char.IsWhiteSpace(c))), decoded, out var length))
            {
                return [X509CertificateLoader.LoadCertificate(decoded.AsSpan(0, length))];
            }

            return [X509CertificateLoader.LoadCertificate(data)];
        }
        catch (CryptographicException)
        {
            return [];
        }
    }

    private async Task UploadAsync(string name, byte[] content, bool overwrite, CancellationToken cancellationToken)
    {
        try
        {
            await _container.GetBlobClient(name).UploadAsync(new BinaryData(content), overwrite, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409 && !overwrite)
        {
            // the same certificate was added before
        }
    }

    private async Task<TrustMaterial> LoadAsync(IReadOnlyList<BlobItem> blobs, CancellationToken cancellationToken)
    {
        var certificates = new List<X509Certificate2>();
        var crls = new List<byte[]>();
        foreach (var path in Files(options.Value.TrustAnchorsPath))
        {
            certificates.AddRange(ParseCertificates(await File.ReadAllBytesAsync(path, cancellationToken)));
        }

        foreach (var path in Files(options.Value.CrlPath))
        {
            crls.Add(await File.ReadAllBytesAsync(path, cancellationToken));
        }

        foreach (var blob in blobs)
        {
            var content = (await _container.GetBlobClient(blob.Name).DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
            if (blob.Name.StartsWith(AnchorsPrefix, StringComparison.Ordinal))
            {
                certificates.AddRange(ParseCertificates(content));
            }
            else if (blob.Name.StartsWith(CrlsPrefix, StringComparison.Ordinal))
            {
                crls.Add(content);
            }
        }

        var material = new TrustMaterial(certificates, crls, warning => LogIgnored(logger, warning));
        LogLoaded(logger, material.Roots.Count, material.Intermediates.Count, material.Crls.Count);
        return material;
    }

    private static IEnumerable<string> Files(string? path) =>
        string.IsNullOrWhiteSpace(path) ? []
        : Directory.Exists(path) ? Directory.EnumerateFiles(path).Order(StringComparer.Ordinal)
        : File.Exists(path) ? [path]
        : throw new InvalidOperationException($"Signatures: '{path}' is neither a file nor a folder.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Trust material ignored: {Warning}")]
    private static partial void LogIgnored(ILogger logger, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "Trust material loaded: {Roots} roots, {Intermediates} intermediates, {Crls} CRLs")]
    private static partial void LogLoaded(ILogger logger, int roots, int intermediates, int crls);
}

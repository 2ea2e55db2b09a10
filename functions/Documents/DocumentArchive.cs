using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using BusinessApi.Calendar;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Documents;

/// <summary>An archived blob was changed behind the app's back: its bytes no longer match the SHA-256 kept in Tables.</summary>
public sealed class ArchiveIntegrityException(string path) : Exception($"Archived blob '{path}' does not match its recorded SHA-256.");

/// <summary>An attempt to overwrite or delete an archived blob before its retention ends.</summary>
public sealed class ArchiveRetentionException(string path, DateTimeOffset retainUntil)
    : Exception($"Archived blob '{path}' is retained until {retainUntil:O}; it cannot be overwritten or deleted before then.");

/// <summary>One file of a document's archive package: a name and its exact bytes.</summary>
public sealed record ArchiveEntry(string Name, byte[] Content);

/// <summary>
/// The 5-year archive of signed documents and their receipts (R-39, clause 5.1.6) in Blob storage, under
/// <c>{customerId}/{yyyy}/{MM}/{dd}/{documentId}/…</c> by the local date of receipt. A payment document ends with
/// <b>one</b> blob, <c>document.zip</c> (<see cref="Package"/>): the signed original, each signature as received when
/// several people signed, and the receipt, stored uncompressed so every file is its bytes as they were. Documents
/// archived before packages have one blob per file under the same folder, and are read from there. Every blob is written
/// once (<c>If-None-Match: *</c>); a second write of the same bytes is a no-op (W2), of other bytes is
/// refused, and nothing is deleted before its retain-until date. In Azure the container's locked
/// time-based immutability policy enforces the same below the app (infra); Azurite cannot, so the app
/// refuses on its own.
/// </summary>
public sealed partial class DocumentArchive(StorageResources storage, TimeProvider time, ILogger<DocumentArchive> logger)
{
    public const string ContainerName = "archive";
    public const string OriginalName = "original.p7s";
    public const string ReceiptName = "receipt.json";
    public const string PackageName = "document.zip";

    /// <summary>The n-th signature of a document several people signed, as received (the original is their merge).</summary>
    public static string SignatureName(int number) => string.Create(CultureInfo.InvariantCulture, $"signature-{number:D2}.p7s");
    public static readonly TimeSpan Retention = TimeSpan.FromDays((5 * 365) + 2); // 5 years, leap days included

    private readonly BlobContainerClient _container = storage.Container(ContainerName);

    public static string PathOf(Document document, string name)
    {
        ArgumentNullException.ThrowIfNull(document);
        var day = KazakhstanTime.LocalDate(document.ReceivedAt);
        return string.Create(CultureInfo.InvariantCulture, $"{document.CustomerId}/{day:yyyy}/{day:MM}/{day:dd}/{document.DocumentId}/{name}");
    }

    public static string Sha256(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Writes <paramref name="content"/> once; the bytes already archived there when an earlier attempt got in first.</summary>
    /// <returns>The SHA-256 of what is archived, and the archived bytes when they differ from <paramref name="content"/>.</returns>
    public async Task<(string Sha256, byte[]? Existing)> WriteOnceAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var hash = Sha256(content);
        var blob = _container.GetBlobClient(path);
        try
        {
            // Nothing but the bytes: their SHA-256 is kept in Tables, and the retention runs from the blob's own creation time.
            await blob.UploadAsync(new BinaryData(content), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
            return (hash, null);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            var existing = (await blob.DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
            return Sha256(existing) == hash ? (hash, null) : (Sha256(existing), existing);
        }
    }

    /// <summary>
    /// The package of <paramref name="entries"/>: a ZIP archive, every file stored (not compressed) under its name, in the
    /// order given, dated <paramref name="at"/> (local time of Kazakhstan) — the same entries and time give the same bytes.
    /// </summary>
    public static byte[] Package(IReadOnlyList<ArchiveEntry> entries, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(entries);
        using var buffer = new MemoryStream(entries.Sum(e => e.Content.Length + e.Name.Length + 128) + 64);
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                var file = zip.CreateEntry(entry.Name, CompressionLevel.NoCompression);
                file.LastWriteTime = at.ToOffset(KazakhstanTime.Offset);
                using var stream = file.Open();
                stream.Write(entry.Content);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>The files of a package by name; null when the bytes are not a package (a damaged or forged blob).</summary>
    public static IReadOnlyDictionary<string, byte[]>? Unpack(byte[] package)
    {
        ArgumentNullException.ThrowIfNull(package);
        try
        {
            using var zip = new ZipArchive(new MemoryStream(package, writable: false), ZipArchiveMode.Read);
            var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                using var stream = entry.Open();
                using var content = new MemoryStream((int)Math.Min(entry.Length, package.Length));
                stream.CopyTo(content);
                files[entry.FullName] = content.ToArray();
            }

            return files;
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the document's one package once. When an earlier attempt wrote its own first, its files are answered:
    /// that attempt's receipt is the decision that stands.
    /// </summary>
    public async Task<(IReadOnlyDictionary<string, string> Sha256, IReadOnlyDictionary<string, byte[]>? Existing)> WritePackageAsync(
        Document document, IReadOnlyList<ArchiveEntry> entries, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var path = PathOf(document, PackageName);
        var (_, existing) = await WriteOnceAsync(path, Package(entries, at), cancellationToken);
        if (existing is null)
        {
            return (entries.ToDictionary(e => e.Name, e => Sha256(e.Content), StringComparer.Ordinal), null);
        }

        var files = Unpack(existing) ?? throw new ArchiveIntegrityException(path);
        return (files.ToDictionary(f => f.Key, f => Sha256(f.Value), StringComparer.Ordinal), files);
    }

    /// <summary>
    /// One file of a document's archive, checked against the SHA-256 recorded for it: from its package, or from its own
    /// blob when the document was archived before packages. Null when neither holds it (not archived yet).
    /// </summary>
    public async Task<byte[]?> ReadFileAsync(Document document, string name, string expectedSha256, CancellationToken cancellationToken)
    {
        var path = PathOf(document, PackageName);
        if (await DownloadAsync(path, cancellationToken) is { } package)
        {
            var files = Unpack(package);
            if (files is null)
            {
                LogIntegrityFailure(logger, path);
                throw new ArchiveIntegrityException(path);
            }

            return files.TryGetValue(name, out var content) ? Checked(path + "#" + name, content, expectedSha256) : null;
        }

        return await ReadAsync(PathOf(document, name), expectedSha256, cancellationToken);
    }

    private async Task<byte[]?> DownloadAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return (await _container.GetBlobClient(path).DownloadContentAsync(cancellationToken)).Value.Content.ToArray();
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    /// <summary>A document's file from elsewhere than the archive (its rows, before it ends), held to the SHA-256 recorded for it.</summary>
    public byte[] Verified(Document document, string name, byte[] content, string expectedSha256) =>
        Checked(PathOf(document, name) + " (rows)", content, expectedSha256);

    private byte[] Checked(string path, byte[] content, string expectedSha256)
    {
        if (Sha256(content) == expectedSha256)
        {
            return content;
        }

        LogIntegrityFailure(logger, path);
        throw new ArchiveIntegrityException(path);
    }

    /// <summary>The archived bytes, checked against the SHA-256 recorded when they were written.</summary>
    public async Task<byte[]?> ReadAsync(string path, string expectedSha256, CancellationToken cancellationToken) =>
        await DownloadAsync(path, cancellationToken) is { } content ? Checked(path, content, expectedSha256) : null;

    /// <summary>Replacing an archived blob is never allowed through the app; this says so (and is what a misguided caller gets).</summary>
    public async Task OverwriteAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        var (_, existing) = await WriteOnceAsync(path, content, cancellationToken);
        if (existing is not null)
        {
            throw new ArchiveRetentionException(path, await RetainUntilAsync(path, cancellationToken));
        }
    }

    /// <summary>Deletes an archived blob once its retention has ended; before that, refuses.</summary>
    public async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        var until = await RetainUntilAsync(path, cancellationToken);
        if (time.GetUtcNow() < until)
        {
            throw new ArchiveRetentionException(path, until);
        }

        await _container.GetBlobClient(path).DeleteIfExistsAsync(cancellationToken: cancellationToken);
    }

    /// <summary>The blob's creation time (set by the service, never by the app) plus <see cref="Retention"/>.</summary>
    public async Task<DateTimeOffset> RetainUntilAsync(string path, CancellationToken cancellationToken) =>
        (await _container.GetBlobClient(path).GetPropertiesAsync(cancellationToken: cancellationToken)).Value.CreatedOn + Retention;

    [LoggerMessage(Level = LogLevel.Critical, Message = "Archived blob {Path} no longer matches its recorded SHA-256")]
    private static partial void LogIntegrityFailure(ILogger logger, string path);
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Documents.Signatures;

/// <summary>One certificate the bank stopped accepting, on the customer's call .</summary>
public sealed record CertificateBlock(
    string Issuer, string SerialNumber, string CustomerId, DateTimeOffset BlockedAt, string BlockedBy, string? Reference);

/// <summary>
/// Certificates blocked by the bank's operators, found by issuer and serial number (table <c>CertificateBlocks</c>,
/// partition: a hash of the issuer's canonical name, row: the serial in upper-case hex without leading zeros). Every
/// verification reads it afresh (one point read, in parallel with the signer's other reads), so a block registered
/// a moment ago on another instance refuses the next document.
/// </summary>
public sealed class CertificateBlocks(StorageResources storage)
{
    public const string TableName = "CertificateBlocks";

    private readonly TableClient _table = storage.Table(TableName);

    /// <summary>The issuer as <see cref="X500DistinguishedName"/> writes it, so spacing and case of the operator's input do not matter; null when unreadable.</summary>
    public static string? CanonicalIssuer(string issuer)
    {
        try
        {
            var name = new X500DistinguishedName(issuer.Trim()).Format(multiLine: false);
            return name.Length == 0 ? null : name.ToUpperInvariant();
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Hex digits only (colons and spaces dropped), upper case, no leading zeros; null when not hex.</summary>
    public static string? CanonicalSerial(string serial)
    {
        var digits = new string([.. serial.Where(c => c is not (':' or ' ' or '-'))]).ToUpperInvariant().TrimStart('0');
        return digits.Length is > 0 and <= 64 && digits.All(char.IsAsciiHexDigit) ? digits : null;
    }

    private static string Partition(string canonicalIssuer) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalIssuer)))[..32];

    /// <summary>Registers the block; an existing block of the same certificate stands (its first time counts).</summary>
    public async Task<(CertificateBlock Block, bool Created)> BlockAsync(CertificateBlock block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(block);
        var issuer = CanonicalIssuer(block.Issuer)!;
        var serial = CanonicalSerial(block.SerialNumber)!;
        var entity = new TableEntity(Partition(issuer), serial)
        {
            ["Issuer"] = issuer,
            ["CustomerId"] = block.CustomerId,
            ["BlockedAt"] = block.BlockedAt,
            ["BlockedBy"] = block.BlockedBy,
            ["Reference"] = block.Reference,
        };
        if (await _table.InsertIfAbsentAsync(entity, cancellationToken))
        {
            return (block with { Issuer = issuer, SerialNumber = serial }, true);
        }

        return (await FindAsync(issuer, serial, cancellationToken) ?? block, false);
    }

    /// <summary>The block of the certificate with this issuer and serial, if any.</summary>
    public async Task<CertificateBlock?> FindAsync(string issuer, string serialNumber, CancellationToken cancellationToken)
    {
        if (CanonicalIssuer(issuer) is not { } canonicalIssuer || CanonicalSerial(serialNumber) is not { } serial)
        {
            return null;
        }

        var found = await _table.GetEntityIfExistsAsync<TableEntity>(Partition(canonicalIssuer), serial, cancellationToken: cancellationToken);
        return found.HasValue ? From(found.Value!) : null;
    }

    /// <summary>The customer's blocked certificates (operators' view; the table is small).</summary>
    public async Task<IReadOnlyList<CertificateBlock>> ListAsync(string customerId, CancellationToken cancellationToken)
    {
        var blocks = new List<CertificateBlock>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"CustomerId eq {customerId}"), cancellationToken: cancellationToken))
        {
            blocks.Add(From(entity));
        }

        return [.. blocks.OrderBy(b => b.BlockedAt)];
    }

    private static CertificateBlock From(TableEntity entity) => new(
        entity.GetString("Issuer") ?? "",
        entity.RowKey,
        entity.GetString("CustomerId") ?? "",
        entity.GetDateTimeOffset("BlockedAt") ?? default,
        entity.GetString("BlockedBy") ?? "",
        entity.GetString("Reference"));
}

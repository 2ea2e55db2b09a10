using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Azure.Data.Tables;
using BusinessApi.Platform.Storage;
using BusinessApi.Platform.Workflows;

namespace BusinessApi.Documents.Signatures;

/// <summary>
/// One certificate no longer accepted: blocked by the bank's operators on the customer's call, or reported
/// compromised by its holder or their admin. A block names the certificate by issuer and serial; a
/// compromise report made by serial alone names it by serial and the holder's IIN (it reaches no one else's).
/// </summary>
public sealed record CertificateBlock(
    string Issuer, string SerialNumber, string CustomerId, DateTimeOffset BlockedAt, string BlockedBy, string? Reference)
{
    public const string BankBlock = "blocked";
    public const string Compromise = "compromised";

    /// <summary><see cref="BankBlock"/> or <see cref="Compromise"/>.</summary>
    public string Kind { get; init; } = BankBlock;

    /// <summary>The holder's IIN, when the block names the certificate by serial and holder instead of by issuer.</summary>
    public string? Iin { get; init; }

    public bool IsCompromise => Kind == Compromise;
}

/// <summary>
/// Certificates the bank no longer accepts (table <c>CertificateBlocks</c>): partition the serial in upper-case hex
/// without leading zeros, row <c>i-{hash of the issuer's canonical name}</c> or <c>h-{holder's IIN}</c>. Every
/// verification reads the serial's partition afresh (one query, in parallel with the signer's other reads), so a
/// block or report registered a moment ago on another instance refuses the next document.
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

    private static string IssuerRow(string canonicalIssuer) =>
        "i-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalIssuer)))[..32];

    /// <summary>Registers the block; an existing block of the same certificate and kind stands (its first time counts).</summary>
    public async Task<(CertificateBlock Block, bool Created)> BlockAsync(CertificateBlock block, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(block);
        var serial = CanonicalSerial(block.SerialNumber)!;
        var issuer = block.Iin is null ? CanonicalIssuer(block.Issuer)! : block.Issuer;
        var row = (block.Iin is null ? IssuerRow(issuer) : "h-" + block.Iin) + (block.IsCompromise ? "-c" : "");
        var entity = new TableEntity(serial, row)
        {
            ["Issuer"] = issuer,
            ["CustomerId"] = block.CustomerId,
            ["BlockedAt"] = block.BlockedAt,
            ["BlockedBy"] = block.BlockedBy,
            ["Reference"] = block.Reference,
            ["Kind"] = block.Kind,
            ["Iin"] = block.Iin,
        };
        if (await _table.InsertIfAbsentAsync(entity, cancellationToken))
        {
            return (block with { Issuer = issuer, SerialNumber = serial }, true);
        }

        var existing = await _table.GetEntityIfExistsAsync<TableEntity>(serial, row, cancellationToken: cancellationToken);
        return (existing.HasValue ? From(existing.Value!) : block, false);
    }

    /// <summary>
    /// The blocks and compromise reports that reach the certificate with this issuer and serial held by
    /// <paramref name="iin"/>: by issuer, or by serial and holder. Empty when none.
    /// </summary>
    public async Task<IReadOnlyList<CertificateBlock>> FindAsync(string issuer, string serialNumber, string? iin, CancellationToken cancellationToken)
    {
        if (CanonicalSerial(serialNumber) is not { } serial)
        {
            return [];
        }

        var issuerRow = CanonicalIssuer(issuer) is { } canonical ? IssuerRow(canonical) : null;
        var found = new List<CertificateBlock>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {serial}"), cancellationToken: cancellationToken))
        {
            var row = entity.RowKey.EndsWith("-c", StringComparison.Ordinal) ? entity.RowKey[..^2] : entity.RowKey;
            if (row == issuerRow || iin is not null && row == "h-" + iin)
            {
                found.Add(From(entity));
            }
        }

        return found;
    }

    /// <summary>The customer's blocked and compromised certificates (operators' view; the table is small).</summary>
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
        entity.PartitionKey,
        entity.GetString("CustomerId") ?? "",
        entity.GetDateTimeOffset("BlockedAt") ?? default,
        entity.GetString("BlockedBy") ?? "",
        entity.GetString("Reference"))
    {
        Kind = entity.GetString("Kind") ?? CertificateBlock.BankBlock,
        Iin = entity.GetString("Iin"),
    };
}

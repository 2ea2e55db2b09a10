using System.Collections.Frozen;
using System.Text.Json;

namespace BusinessApi.Documents;

/// <summary>
/// The National Bank's payment purpose codes (КНП), shipped as data (<c>Documents/Data/purpose-codes.json</c>)
/// or read from the file named by <c>Payments:PurposeCodesPath</c> in the same format.
/// </summary>
public sealed class PurposeCodes
{
    private readonly FrozenSet<string> _codes;

    public PurposeCodes(IEnumerable<string> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        _codes = codes.ToFrozenSet(StringComparer.Ordinal);
        if (_codes.Any(c => c.Length != 3 || !c.All(char.IsAsciiDigit)))
        {
            throw new InvalidOperationException("Payment purpose codes are three digits.");
        }
    }

    public int Count => _codes.Count;

    public bool Contains(string code) => _codes.Contains(code);

    public static PurposeCodes Load(string? path)
    {
        using var stream = string.IsNullOrWhiteSpace(path)
            ? typeof(PurposeCodes).Assembly.GetManifestResourceStream("BusinessApi.Documents.Data.purpose-codes.json")
                ?? throw new InvalidOperationException("The shipped purpose codes are missing from the assembly.")
            : File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        return new PurposeCodes(document.RootElement.GetProperty("codes").EnumerateArray()
            .Select(e => e.GetProperty("code").GetString()!));
    }
}

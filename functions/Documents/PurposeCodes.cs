using System.Collections.Frozen;
using System.Text.Json;

namespace BusinessApi.Documents;

/// <summary>
/// The National Bank's payment purpose codes (КНП), shipped as data (<c>Documents/Data/purpose-codes.json</c>)
/// or read from the file named by <c>Payments:PurposeCodesPath</c> in the same format.
/// </summary>
public sealed class PurposeCodes
{
    private readonly FrozenDictionary<string, string> _titles;

    public PurposeCodes(IEnumerable<KeyValuePair<string, string>> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        _titles = codes.ToFrozenDictionary(StringComparer.Ordinal);
        if (_titles.Keys.Any(c => c.Length != 3 || !c.All(char.IsAsciiDigit)))
        {
            throw new InvalidOperationException("Payment purpose codes are three digits.");
        }
    }

    public int Count => _titles.Count;

    public bool Contains(string code) => _titles.ContainsKey(code);

    public string? Title(string code) => _titles.GetValueOrDefault(code);

    public static PurposeCodes Load(string? path)
    {
        using var stream = string.IsNullOrWhiteSpace(path)
            ? typeof(PurposeCodes).Assembly.GetManifestResourceStream("BusinessApi.Documents.Data.purpose-codes.json")
                ?? throw new InvalidOperationException("The shipped purpose codes are missing from the assembly.")
            : File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        return new PurposeCodes(document.RootElement.GetProperty("codes").EnumerateArray()
            .Select(e => KeyValuePair.Create(e.GetProperty("code").GetString()!, e.GetProperty("title").GetString()!)));
    }
}

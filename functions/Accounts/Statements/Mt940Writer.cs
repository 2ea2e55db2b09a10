using System.Globalization;
using System.Text;
using BusinessApi.Accounts.Ledger;

namespace BusinessApi.Accounts.Statements;

/// <summary>
/// SWIFT MT940, one message per day with entries (<c>:20:</c> <c>:25:</c> <c>:28C:</c> <c>:60F:</c>, then <c>:61:</c>
/// and <c>:86:</c> per entry, <c>:62F:</c>, and a line <c>-</c>), in character set X (<see cref="SwiftCharacters"/>)
/// with CR LF line ends, as ASCII. A period without entries is one message whose opening equals its closing.
/// <para><c>:61:</c> is value date, entry date (MMDD), C or D, the amount with a decimal comma, the type (<c>NTRF</c> a
/// transfer, <c>NFEX</c> a conversion, <c>NCHG</c> a commission, <c>NMSC</c> anything else), the customer's reference (the
/// document number, else <c>NONREF</c>) and <c>//</c> the bank's reference (booking day and entry sequence).</para>
/// <para><c>:86:</c> carries tagged fields, at most 6 lines of 65: <c>/KNP/</c> the purpose code, <c>/DOC/</c> the document
/// number, <c>/NAME/</c>, <c>/IDN/</c> (IIN/BIN), <c>/IBAN/</c>, <c>/BIC/</c> of the counterparty, and <c>/PURP/</c> the
/// purpose, cut to fit; a <c>/</c> inside a value becomes <c>-</c> so the tags stay unambiguous.</para>
/// </summary>
public sealed class Mt940Writer : IStatementWriter
{
    private const int LineLength = 65;
    private const int NarrativeLines = 6;

    private readonly StringBuilder _narrative = new(LineLength * NarrativeLines + 64);
    private readonly Dictionary<string, string> _fields = new(StringComparer.Ordinal);
    private readonly char[] _line = new char[LineLength];

    public string ContentType => "text/plain; charset=us-ascii";

    public string FileExtension => "sta";

    public async Task WriteAsync(StatementHeader header, IAsyncEnumerable<LedgerEntry> entries, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(entries);
        await using var chunks = new StatementChunks(output);
        using var writer = new StreamWriter(chunks.Buffer, Encoding.ASCII, bufferSize: 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        DateOnly? day = null;
        var balance = 0m;
        var number = 0;
        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            if (entry.Day != day)
            {
                if (day is { } previous)
                {
                    Close(writer, header, previous, balance);
                }

                day = entry.Day;
                Open(writer, header, entry.Day, ++number, entry.BalanceBefore);
            }

            Entry(writer, new StatementLine(entry, header));
            balance = entry.BalanceAfter;
            if (entry.Sequence % StatementChunks.EntriesPerChunk == 0)
            {
                writer.Flush();
                await chunks.DrainAsync(cancellationToken);
            }
        }

        if (day is { } last)
        {
            Close(writer, header, last, balance);
        }
        else
        {
            Open(writer, header, header.To, 1, header.OpeningBalance);
            Close(writer, header, header.To, header.ClosingBalance);
        }

        writer.Flush();
        await chunks.DrainAsync(cancellationToken);
    }

    private static void Open(StreamWriter writer, StatementHeader header, DateOnly day, int number, decimal opening)
    {
        writer.WriteLine(":20:" + header.Reference);
        writer.WriteLine(":25:" + header.Iban);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $":28C:{number:D5}/1"));
        writer.WriteLine(":60F:" + Balance(opening, day, header.Currency));
    }

    private static void Close(StreamWriter writer, StatementHeader header, DateOnly day, decimal closing)
    {
        writer.WriteLine(":62F:" + Balance(closing, day, header.Currency));
        writer.WriteLine("-");
    }

    private void Entry(StreamWriter writer, StatementLine line)
    {
        var entry = line.Entry;
        var type = entry.Kind switch
        {
            "conversion" => "NFEX",
            _ when line.IsCommission || entry.Kind.Contains("fee", StringComparison.OrdinalIgnoreCase) => "NCHG",
            "payment" or "refund" => "NTRF",
            _ => "NMSC",
        };
        var reference = Reference(entry.DocumentNumber);
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $":61:{line.ValueDate:yyMMdd}{entry.Day:MMdd}{(line.IsCredit ? 'C' : 'D')}{Amount(line.Amount, line.Header.Currency)}{type}{reference}//{line.BankReference}"));
        var other = line.Other;
        var narrative = _narrative.Clear();
        void Tag(string tag, string? value)
        {
            var text = Field(value);
            if (text.Length > 0)
            {
                narrative.Append('/').Append(tag).Append('/').Append(text);
            }
        }

        Tag("KNP", entry.PurposeCode);
        Tag("DOC", entry.DocumentNumber);
        Tag("NAME", other.Name);
        Tag("IDN", other.Idn);
        Tag("IBAN", other.Iban);
        Tag("BIC", other.Bic);
        Tag("PURP", entry.Purpose);
        if (narrative.Length == 0)
        {
            narrative.Append("/PURP/").Append(entry.Kind);
        }

        var length = Math.Min(narrative.Length, LineLength * NarrativeLines);
        for (var at = 0; at < length; at += LineLength)
        {
            if (at == 0)
            {
                writer.Write(":86:");
            }
            else if (narrative[at] is ':' or '-')
            {
                narrative[at] = '.'; // a line may not begin like a tag or the end of the message
            }

            var count = Math.Min(LineLength, length - at);
            narrative.CopyTo(at, _line, count);
            writer.WriteLine(_line.AsSpan(0, count));
        }
    }

    /// <summary>A field's text in set X, with <c>/</c> as <c>-</c> so the tags stay unambiguous; names and purposes repeat, so they are kept.</summary>
    private string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (_fields.TryGetValue(value, out var known))
        {
            return known;
        }

        var text = SwiftCharacters.ToX(value).Replace('/', '-').Trim();
        if (_fields.Count < 4096)
        {
            _fields[value] = text;
        }

        return text;
    }

    private static string Reference(string? number)
    {
        var text = SwiftCharacters.ToX(number).Replace("/", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        return text.Length == 0 ? "NONREF" : text.Length > 16 ? text[..16] : text;
    }

    private static string Balance(decimal amount, DateOnly day, Currency currency) =>
        string.Create(CultureInfo.InvariantCulture, $"{(amount < 0 ? 'D' : 'C')}{day:yyMMdd}{currency}{Amount(amount, currency)}");

    private static string Amount(decimal amount, Currency currency) => AmountText.Format(Math.Abs(amount), currency).Replace('.', ',');
}

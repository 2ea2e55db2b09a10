using System.Globalization;
using System.Text;
using BusinessApi.Accounts.Ledger;

namespace BusinessApi.Accounts.Statements;

/// <summary>The formats a statement is given in: <c>json</c> (paged, the default) and the files ERPs import.</summary>
public static class StatementFormats
{
    public const string Json = "json";
    public const string Mt940 = "mt940";
    public const string Camt053 = "camt053";
    public const string OneC = "1c";

    public static readonly IReadOnlyList<string> All = [Json, Mt940, Camt053, OneC];

    /// <summary>The writer of a file format, or null for <c>json</c> (and unknown names).</summary>
    public static IStatementWriter? Writer(string? format) => format switch
    {
        Mt940 => new Mt940Writer(),
        Camt053 => new Camt053Writer(),
        OneC => new OneCWriter(),
        _ => null,
    };
}

/// <summary>Payment purpose codes (КНП) the bank itself puts on entries.</summary>
public static class KnownPurposeCodes
{
    /// <summary>A commission the bank takes for its services.</summary>
    public const string BankCommission = "840";
}

/// <summary>What every format says of the statement before its entries: whose account, the period, and its figures.</summary>
public sealed record StatementHeader(
    string Iban,
    Currency Currency,
    string OwnerName,
    string OwnerIdn,
    string BankBic,
    string BankName,
    DateOnly From,
    DateOnly To,
    decimal OpeningBalance,
    decimal ClosingBalance,
    decimal TotalDebits,
    decimal TotalCredits,
    int EntryCount,
    DateTimeOffset CreatedAt)
{
    /// <summary>A stable identifier of this statement (account and period), at most 16 characters: the MT940 <c>:20:</c> and camt's ids start with it.</summary>
    public string Reference => string.Create(CultureInfo.InvariantCulture, $"{From:yyMMdd}{To:MMdd}") + Iban[^6..];
}

/// <summary>One entry as statements show it: own side and the other side, whichever way the money went.</summary>
public readonly record struct StatementLine(LedgerEntry Entry, StatementHeader Header)
{
    public bool IsCredit => Entry.Amount > 0;

    /// <summary>The bank's commission (a memorial order, not the customer's document).</summary>
    public bool IsCommission => Entry.PurposeCode == KnownPurposeCodes.BankCommission;

    public decimal Amount => Math.Abs(Entry.Amount);

    public DateOnly ValueDate => Entry.ValueDate ?? Entry.Day;

    public Counterparty Other => Entry.Counterparty ?? new Counterparty(null, null, null, null);

    /// <summary>Who paid: the counterparty for a credit, the account's owner for a debit.</summary>
    public Counterparty Payer => IsCredit ? Other : Own;

    /// <summary>Who received: the account's owner for a credit, the counterparty for a debit.</summary>
    public Counterparty Payee => IsCredit ? Own : Other;

    public string BankReference => string.Create(CultureInfo.InvariantCulture, $"{Entry.Day:yyMMdd}{Entry.Sequence % 10_000_000_000L:D10}");

    private Counterparty Own => new(Header.OwnerName, Header.Iban, Header.OwnerIdn, Header.BankBic);
}

/// <summary>Writes a statement in one file format to a stream, entry by entry: memory stays flat however long the period.</summary>
public interface IStatementWriter
{
    string ContentType { get; }

    string FileExtension { get; }

    Task WriteAsync(StatementHeader header, IAsyncEnumerable<LedgerEntry> entries, Stream output, CancellationToken cancellationToken);
}

/// <summary>
/// SWIFT's character set X (what MT940 may carry): Latin letters, digits and <c>/ - ? : ( ) . , ' +</c> and space.
/// Cyrillic, Russian and Kazakh, is transliterated letter by letter (Russian per the passport rules' table, the Kazakh
/// letters ә ғ қ ң ө ұ ү һ і to a g q n o u u h i); anything else becomes a full stop; <c>№</c> becomes <c>N</c>.
/// </summary>
public static class SwiftCharacters
{
    private static readonly Dictionary<char, string> Cyrillic = Build();

    public static string ToX(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '/' or '-' or '?' or ':' or '(' or ')' or '.' or ',' or '\'' or '+' or ' ')
            {
                builder.Append(c);
            }
            else if (Cyrillic.TryGetValue(char.ToLowerInvariant(c), out var latin))
            {
                builder.Append(char.IsUpper(c) && latin.Length > 0 ? char.ToUpperInvariant(latin[0]) + latin[1..] : latin);
            }
            else
            {
                builder.Append(c switch
                {
                    '№' => "N",
                    '"' or '«' or '»' or '“' or '”' => "'",
                    '\r' or '\n' or '\t' => " ",
                    _ => ".",
                });
            }
        }

        return builder.ToString();
    }

    private static Dictionary<char, string> Build()
    {
        var map = new Dictionary<char, string>();
        var pairs = "а a|б b|в v|г g|д d|е e|ё e|ж zh|з z|и i|й i|к k|л l|м m|н n|о o|п p|р r|с s|т t|у u|ф f|х kh|ц ts|ч ch|ш sh|щ shch|ъ ie|ы y|ь |э e|ю iu|я ia"
            + "|ә a|ғ g|қ q|ң n|ө o|ұ u|ү u|һ h|і i";
        foreach (var pair in pairs.Split('|'))
        {
            map[pair[0]] = pair[2..];
        }

        return map;
    }
}

/// <summary>
/// Writers format synchronously into this buffer and hand it to the response a chunk at a time: one await per chunk
/// instead of one per line, and the response never sees synchronous I/O. The buffer is the only memory a file holds.
/// </summary>
internal sealed class StatementChunks(Stream output) : IAsyncDisposable
{
    /// <summary>Entries formatted between two hand-overs.</summary>
    public const int EntriesPerChunk = 128;

    public MemoryStream Buffer { get; } = new(64 * 1024);

    /// <summary>Hands what was formatted to the response (the caller flushed its writer into <see cref="Buffer"/>).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (Buffer.Length == 0)
        {
            return;
        }

        await output.WriteAsync(Buffer.GetBuffer().AsMemory(0, (int)Buffer.Length), cancellationToken);
        Buffer.SetLength(0);
    }

    public ValueTask DisposeAsync() => Buffer.DisposeAsync();
}

using System.Globalization;
using System.Text;
using BusinessApi.Accounts.Ledger;

namespace BusinessApi.Accounts.Statements;

/// <summary>
/// ISO 20022 <c>camt.053.001.08</c> (bank-to-customer statement), UTF-8, valid against the official schema: one
/// <c>Stmt</c> for the period with the opening (<c>OPBD</c>) and closing (<c>CLBD</c>) booked balances, the totals, and one
/// <c>Ntry</c> per entry: amount, direction, <c>BOOK</c>, booking and value dates, the bank's reference, a proprietary
/// bank transaction code (the entry's kind), and the transaction's details: the document number (<c>EndToEndId</c>), the
/// debtor and creditor (name, BIN or IIN as <c>Othr/Id</c> with scheme <c>BIN</c>, IBAN), their banks' BICs, the КНП as
/// <c>Purp/Prtry</c> and the purpose as unstructured remittance information.
/// </summary>
public sealed class Camt053Writer : IStatementWriter
{
    public const string Namespace = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";

    public string ContentType => "application/xml; charset=utf-8";

    public string FileExtension => "xml";

    public async Task WriteAsync(StatementHeader header, IAsyncEnumerable<LedgerEntry> entries, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(entries);
        await using var chunks = new StatementChunks(output);
        using var writer = new StreamWriter(chunks.Buffer, new UTF8Encoding(false), bufferSize: 16 * 1024, leaveOpen: true);
        var xml = new XmlText(writer);
        writer.Write("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        writer.Write("<Document xmlns=\"" + Namespace + "\">");
        xml.Open("BkToCstmrStmt");

        xml.Open("GrpHdr");
        Element(xml, "MsgId", Max(header.Reference + header.CreatedAt.ToString("HHmmss", CultureInfo.InvariantCulture), 35));
        Element(xml, "CreDtTm", DateTime(header.CreatedAt));
        xml.Close();

        xml.Open("Stmt");
        Element(xml, "Id", header.Reference);
        Element(xml, "CreDtTm", DateTime(header.CreatedAt));
        xml.Open("FrToDt");
        Element(xml, "FrDtTm", header.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T00:00:00+05:00" /* UTC+5, the bank's days */);
        Element(xml, "ToDtTm", header.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T23:59:59+05:00");
        xml.Close();
        xml.Open("Acct");
        xml.Open("Id");
        Element(xml, "IBAN", header.Iban);
        xml.Close();
        Element(xml, "Ccy", header.Currency.ToString());
        xml.Open("Ownr");
        Element(xml, "Nm", Max(header.OwnerName, 140));
        OrganisationId(xml, header.OwnerIdn);
        xml.Close();
        Agent(xml, "Svcr", header.BankBic, header.BankName);
        xml.Close();

        Balance(xml, "OPBD", header.OpeningBalance, header.From, header.Currency);
        Balance(xml, "CLBD", header.ClosingBalance, header.To, header.Currency);
        xml.Open("TxsSummry");
        xml.Open("TtlNtries");
        Element(xml, "NbOfNtries", header.EntryCount.ToString(CultureInfo.InvariantCulture));
        Element(xml, "Sum", AmountText.Format(header.TotalCredits + header.TotalDebits, header.Currency));
        xml.Open("TtlNetNtry");
        var net = header.TotalCredits - header.TotalDebits;
        Element(xml, "Amt", AmountText.Format(Math.Abs(net), header.Currency));
        Element(xml, "CdtDbtInd", net < 0 ? "DBIT" : "CRDT");
        xml.Close();
        xml.Close();
        Totals(xml, "TtlCdtNtries", header.TotalCredits, header.Currency);
        Totals(xml, "TtlDbtNtries", header.TotalDebits, header.Currency);
        xml.Close();

        var written = 0;
        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            Entry(xml, new StatementLine(entry, header));
            if (++written % StatementChunks.EntriesPerChunk == 0)
            {
                writer.Flush();
                await chunks.DrainAsync(cancellationToken);
            }
        }

        xml.Close(); // Stmt
        xml.Close(); // BkToCstmrStmt
        writer.Write("</Document>");
        writer.Flush();
        await chunks.DrainAsync(cancellationToken);
    }

    private static void Entry(XmlText xml, StatementLine line)
    {
        var entry = line.Entry;
        var currency = line.Header.Currency.ToString();
        var reference = line.BankReference;
        xml.Open("Ntry");
        Element(xml, "NtryRef", entry.Sequence.ToString(CultureInfo.InvariantCulture));
        Amount(xml, line.Amount, line.Header.Currency);
        Element(xml, "CdtDbtInd", line.IsCredit ? "CRDT" : "DBIT");
        xml.Open("Sts");
        Element(xml, "Cd", "BOOK");
        xml.Close();
        xml.Open("BookgDt");
        Element(xml, "DtTm", DateTime(entry.BookedAt));
        xml.Close();
        xml.Open("ValDt");
        Element(xml, "Dt", line.ValueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        xml.Close();
        Element(xml, "AcctSvcrRef", reference);
        xml.Open("BkTxCd");
        xml.Open("Prtry");
        Element(xml, "Cd", Max(entry.Kind, 35));
        Element(xml, "Issr", Max(line.Header.BankBic, 35));
        xml.Close();
        xml.Close();

        xml.Open("NtryDtls");
        xml.Open("TxDtls");
        xml.Open("Refs");
        Element(xml, "AcctSvcrRef", reference);
        Element(xml, "EndToEndId", Max(entry.DocumentNumber ?? "NOTPROVIDED", 35));
        Element(xml, "TxId", Max(entry.TransactionId, 35));
        xml.Close();
        Amount(xml, line.Amount, line.Header.Currency);
        Element(xml, "CdtDbtInd", line.IsCredit ? "CRDT" : "DBIT");

        var (payer, payee) = (line.Payer, line.Payee);
        xml.Open("RltdPties");
        Party(xml, "Dbtr", "DbtrAcct", payer, currency);
        Party(xml, "Cdtr", "CdtrAcct", payee, currency);
        xml.Close();
        if (payer.Bic is not null || payee.Bic is not null)
        {
            xml.Open("RltdAgts");
            if (payer.Bic is { } debtorBank)
            {
                Agent(xml, "DbtrAgt", debtorBank, null);
            }

            if (payee.Bic is { } creditorBank)
            {
                Agent(xml, "CdtrAgt", creditorBank, null);
            }

            xml.Close();
        }

        if (entry.PurposeCode is { } knp)
        {
            xml.Open("Purp");
            Element(xml, "Prtry", "KNP " + knp);
            xml.Close();
        }

        if (!string.IsNullOrWhiteSpace(entry.Purpose))
        {
            xml.Open("RmtInf");
            var purpose = entry.Purpose!;
            for (var at = 0; at < purpose.Length && at < 140 * 4; at += 140)
            {
                Element(xml, "Ustrd", purpose.Substring(at, Math.Min(140, purpose.Length - at)));
            }

            xml.Close();
        }

        xml.Close(); // TxDtls
        xml.Close(); // NtryDtls
        xml.Close(); // Ntry
    }

    private static void Party(XmlText xml, string party, string account, Counterparty who, string currency)
    {
        if (who.Name is null && who.Idn is null && who.Iban is null)
        {
            return;
        }

        xml.Open(party);
        xml.Open("Pty");
        if (who.Name is { } name)
        {
            Element(xml, "Nm", Max(name, 140));
        }

        OrganisationId(xml, who.Idn);
        xml.Close();
        xml.Close();
        if (who.Iban is { } iban)
        {
            xml.Open(account);
            xml.Open("Id");
            if (Iban.TryParse(iban, out _))
            {
                Element(xml, "IBAN", iban);
            }
            else
            {
                xml.Open("Othr");
                Element(xml, "Id", Max(iban, 34));
                xml.Close();
            }

            xml.Close();
            Element(xml, "Ccy", currency);
            xml.Close();
        }
    }

    private static void OrganisationId(XmlText xml, string? idn)
    {
        if (string.IsNullOrEmpty(idn))
        {
            return;
        }

        xml.Open("Id");
        xml.Open("OrgId");
        xml.Open("Othr");
        Element(xml, "Id", idn);
        xml.Open("SchmeNm");
        Element(xml, "Prtry", "BIN");
        xml.Close();
        xml.Close();
        xml.Close();
        xml.Close();
    }

    private static void Agent(XmlText xml, string name, string bic, string? bankName)
    {
        xml.Open(name);
        xml.Open("FinInstnId");
        Element(xml, "BICFI", bic);
        if (bankName is not null)
        {
            Element(xml, "Nm", Max(bankName, 140));
        }

        xml.Close();
        xml.Close();
    }

    private static void Balance(XmlText xml, string type, decimal amount, DateOnly day, Currency currency)
    {
        xml.Open("Bal");
        xml.Open("Tp");
        xml.Open("CdOrPrtry");
        Element(xml, "Cd", type);
        xml.Close();
        xml.Close();
        Amount(xml, amount, currency);
        Element(xml, "CdtDbtInd", amount < 0 ? "DBIT" : "CRDT");
        xml.Open("Dt");
        Element(xml, "Dt", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        xml.Close();
        xml.Close();
    }

    private static void Totals(XmlText xml, string name, decimal sum, Currency currency)
    {
        xml.Open(name);
        Element(xml, "Sum", AmountText.Format(sum, currency));
        xml.Close();
    }

    private static void Amount(XmlText xml, decimal amount, Currency currency)
    {
        xml.Open("Amt");
        xml.Attribute("Ccy", currency.ToString());
        xml.Text(AmountText.Format(Math.Abs(amount), currency));
        xml.Close();
    }

    private static void Element(XmlText xml, string name, string value) => xml.Leaf(name, value);

    /// <summary>ISO 8601 in the bank's offset (the round-trip form: seven fractional digits, which xs:dateTime allows).</summary>
    private static string DateTime(DateTimeOffset at) => at.ToOffset(Calendar.KazakhstanTime.Offset).ToString("O", CultureInfo.InvariantCulture);

    private static string Max(string text, int length) => text.Length <= length ? text : text[..length];
}

/// <summary>
/// Writes XML elements as text, for the statement's hot loop: names are the writer's own constants, values are escaped
/// (<c>&amp; &lt; &gt;</c>, and in attributes <c>"</c>), and characters XML 1.0 cannot carry (controls other than tab,
/// CR and LF; lone surrogates) become a space. The schema test validates what it produces.
/// </summary>
internal sealed class XmlText(StreamWriter writer)
{
    private readonly Stack<string> _open = new();
    private bool _openTag;

    public void Open(string name)
    {
        EndOpenTag();
        writer.Write('<');
        writer.Write(name);
        _open.Push(name);
        _openTag = true;
    }

    public void Attribute(string name, string value)
    {
        writer.Write(' ');
        writer.Write(name);
        writer.Write("=\"");
        Escape(value, attribute: true);
        writer.Write('"');
    }

    public void Text(string value)
    {
        EndOpenTag();
        Escape(value, attribute: false);
    }

    /// <summary>Closes the innermost open element.</summary>
    public void Close()
    {
        EndOpenTag();
        writer.Write("</");
        writer.Write(_open.Pop());
        writer.Write('>');
    }

    public void Leaf(string name, string value)
    {
        Open(name);
        Text(value);
        Close();
    }

    private void EndOpenTag()
    {
        if (_openTag)
        {
            writer.Write('>');
            _openTag = false;
        }
    }

    private void Escape(string value, bool attribute)
    {
        var start = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            string? replacement = c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' when attribute => "&quot;",
                < ' ' and not ('\t' or '\n' or '\r') => " ",
                '\uFFFE' or '\uFFFF' => " ",
                _ when char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(value[i - 1])) => " ",
                _ => null,
            };
            if (replacement is null)
            {
                continue;
            }

            writer.Write(value.AsSpan(start, i - start));
            writer.Write(replacement);
            start = i + 1;
        }

        writer.Write(value.AsSpan(start));
    }
}

using System.Globalization;
using System.Text;
using System.Xml;
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
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = false, CloseOutput = false };
        await using var chunks = new StatementChunks(output);
        using var xml = XmlWriter.Create(chunks.Buffer, settings);
        xml.WriteStartDocument();
        xml.WriteStartElement("Document", Namespace);
        xml.WriteStartElement("BkToCstmrStmt", Namespace);

        xml.WriteStartElement("GrpHdr", Namespace);
        Element(xml, "MsgId", Max(header.Reference + header.CreatedAt.ToString("HHmmss", CultureInfo.InvariantCulture), 35));
        Element(xml, "CreDtTm", DateTime(header.CreatedAt));
        xml.WriteEndElement();

        xml.WriteStartElement("Stmt", Namespace);
        Element(xml, "Id", header.Reference);
        Element(xml, "CreDtTm", DateTime(header.CreatedAt));
        xml.WriteStartElement("FrToDt", Namespace);
        Element(xml, "FrDtTm", header.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T00:00:00+05:00" /* UTC+5, the bank's days */);
        Element(xml, "ToDtTm", header.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T23:59:59+05:00");
        xml.WriteEndElement();
        xml.WriteStartElement("Acct", Namespace);
        xml.WriteStartElement("Id", Namespace);
        Element(xml, "IBAN", header.Iban);
        xml.WriteEndElement();
        Element(xml, "Ccy", header.Currency.ToString());
        xml.WriteStartElement("Ownr", Namespace);
        Element(xml, "Nm", Max(header.OwnerName, 140));
        OrganisationId(xml, header.OwnerIdn);
        xml.WriteEndElement();
        Agent(xml, "Svcr", header.BankBic, header.BankName);
        xml.WriteEndElement();

        Balance(xml, "OPBD", header.OpeningBalance, header.From, header.Currency);
        Balance(xml, "CLBD", header.ClosingBalance, header.To, header.Currency);
        xml.WriteStartElement("TxsSummry", Namespace);
        xml.WriteStartElement("TtlNtries", Namespace);
        Element(xml, "NbOfNtries", header.EntryCount.ToString(CultureInfo.InvariantCulture));
        Element(xml, "Sum", StatementText.Amount(header.TotalCredits + header.TotalDebits, header.Currency));
        xml.WriteStartElement("TtlNetNtry", Namespace);
        var net = header.TotalCredits - header.TotalDebits;
        Element(xml, "Amt", StatementText.Amount(net, header.Currency));
        Element(xml, "CdtDbtInd", net < 0 ? "DBIT" : "CRDT");
        xml.WriteEndElement();
        xml.WriteEndElement();
        Totals(xml, "TtlCdtNtries", header.TotalCredits, header.Currency);
        Totals(xml, "TtlDbtNtries", header.TotalDebits, header.Currency);
        xml.WriteEndElement();

        var written = 0;
        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            Entry(xml, new StatementLine(entry, header));
            if (++written % StatementChunks.EntriesPerChunk == 0)
            {
                xml.Flush();
                await chunks.DrainAsync(cancellationToken);
            }
        }

        xml.WriteEndElement(); // Stmt
        xml.WriteEndElement(); // BkToCstmrStmt
        xml.WriteEndElement(); // Document
        xml.WriteEndDocument();
        xml.Flush();
        await chunks.DrainAsync(cancellationToken);
    }

    private static void Entry(XmlWriter xml, StatementLine line)
    {
        var entry = line.Entry;
        var currency = line.Header.Currency.ToString();
        xml.WriteStartElement("Ntry", Namespace);
        Element(xml, "NtryRef", entry.Sequence.ToString(CultureInfo.InvariantCulture));
        Amount(xml, line.Amount, line.Header.Currency);
        Element(xml, "CdtDbtInd", line.IsCredit ? "CRDT" : "DBIT");
        xml.WriteStartElement("Sts", Namespace);
        Element(xml, "Cd", "BOOK");
        xml.WriteEndElement();
        xml.WriteStartElement("BookgDt", Namespace);
        Element(xml, "DtTm", DateTime(entry.BookedAt));
        xml.WriteEndElement();
        xml.WriteStartElement("ValDt", Namespace);
        Element(xml, "Dt", line.ValueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        xml.WriteEndElement();
        Element(xml, "AcctSvcrRef", line.BankReference);
        xml.WriteStartElement("BkTxCd", Namespace);
        xml.WriteStartElement("Prtry", Namespace);
        Element(xml, "Cd", Max(entry.Kind, 35));
        Element(xml, "Issr", Max(line.Header.BankBic, 35));
        xml.WriteEndElement();
        xml.WriteEndElement();

        xml.WriteStartElement("NtryDtls", Namespace);
        xml.WriteStartElement("TxDtls", Namespace);
        xml.WriteStartElement("Refs", Namespace);
        Element(xml, "AcctSvcrRef", line.BankReference);
        Element(xml, "EndToEndId", Max(entry.DocumentNumber ?? "NOTPROVIDED", 35));
        Element(xml, "TxId", Max(entry.TransactionId, 35));
        xml.WriteEndElement();
        Amount(xml, line.Amount, line.Header.Currency);
        Element(xml, "CdtDbtInd", line.IsCredit ? "CRDT" : "DBIT");

        var (payer, payee) = (line.Payer, line.Payee);
        xml.WriteStartElement("RltdPties", Namespace);
        Party(xml, "Dbtr", "DbtrAcct", payer, currency);
        Party(xml, "Cdtr", "CdtrAcct", payee, currency);
        xml.WriteEndElement();
        if (payer.Bic is not null || payee.Bic is not null)
        {
            xml.WriteStartElement("RltdAgts", Namespace);
            if (payer.Bic is { } debtorBank)
            {
                Agent(xml, "DbtrAgt", debtorBank, null);
            }

            if (payee.Bic is { } creditorBank)
            {
                Agent(xml, "CdtrAgt", creditorBank, null);
            }

            xml.WriteEndElement();
        }

        if (entry.PurposeCode is { } knp)
        {
            xml.WriteStartElement("Purp", Namespace);
            Element(xml, "Prtry", "KNP " + knp);
            xml.WriteEndElement();
        }

        if (!string.IsNullOrWhiteSpace(entry.Purpose))
        {
            xml.WriteStartElement("RmtInf", Namespace);
            var purpose = entry.Purpose!;
            for (var at = 0; at < purpose.Length && at < 140 * 4; at += 140)
            {
                Element(xml, "Ustrd", purpose.Substring(at, Math.Min(140, purpose.Length - at)));
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement(); // TxDtls
        xml.WriteEndElement(); // NtryDtls
        xml.WriteEndElement(); // Ntry
    }

    private static void Party(XmlWriter xml, string party, string account, Counterparty who, string currency)
    {
        if (who.Name is null && who.Idn is null && who.Iban is null)
        {
            return;
        }

        xml.WriteStartElement(party, Namespace);
        xml.WriteStartElement("Pty", Namespace);
        if (who.Name is { } name)
        {
            Element(xml, "Nm", Max(name, 140));
        }

        OrganisationId(xml, who.Idn);
        xml.WriteEndElement();
        xml.WriteEndElement();
        if (who.Iban is { } iban)
        {
            xml.WriteStartElement(account, Namespace);
            xml.WriteStartElement("Id", Namespace);
            if (Iban.TryParse(iban, out _))
            {
                Element(xml, "IBAN", iban);
            }
            else
            {
                xml.WriteStartElement("Othr", Namespace);
                Element(xml, "Id", Max(iban, 34));
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
            Element(xml, "Ccy", currency);
            xml.WriteEndElement();
        }
    }

    private static void OrganisationId(XmlWriter xml, string? idn)
    {
        if (string.IsNullOrEmpty(idn))
        {
            return;
        }

        xml.WriteStartElement("Id", Namespace);
        xml.WriteStartElement("OrgId", Namespace);
        xml.WriteStartElement("Othr", Namespace);
        Element(xml, "Id", idn);
        xml.WriteStartElement("SchmeNm", Namespace);
        Element(xml, "Prtry", "BIN");
        xml.WriteEndElement();
        xml.WriteEndElement();
        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static void Agent(XmlWriter xml, string name, string bic, string? bankName)
    {
        xml.WriteStartElement(name, Namespace);
        xml.WriteStartElement("FinInstnId", Namespace);
        Element(xml, "BICFI", bic);
        if (bankName is not null)
        {
            Element(xml, "Nm", Max(bankName, 140));
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static void Balance(XmlWriter xml, string type, decimal amount, DateOnly day, Currency currency)
    {
        xml.WriteStartElement("Bal", Namespace);
        xml.WriteStartElement("Tp", Namespace);
        xml.WriteStartElement("CdOrPrtry", Namespace);
        Element(xml, "Cd", type);
        xml.WriteEndElement();
        xml.WriteEndElement();
        Amount(xml, amount, currency);
        Element(xml, "CdtDbtInd", amount < 0 ? "DBIT" : "CRDT");
        xml.WriteStartElement("Dt", Namespace);
        Element(xml, "Dt", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static void Totals(XmlWriter xml, string name, decimal sum, Currency currency)
    {
        xml.WriteStartElement(name, Namespace);
        Element(xml, "Sum", StatementText.Amount(sum, currency));
        xml.WriteEndElement();
    }

    private static void Amount(XmlWriter xml, decimal amount, Currency currency)
    {
        xml.WriteStartElement("Amt", Namespace);
        xml.WriteAttributeString("Ccy", currency.ToString());
        xml.WriteString(StatementText.Amount(amount, currency));
        xml.WriteEndElement();
    }

    private static void Element(XmlWriter xml, string name, string value) => xml.WriteElementString(name, Namespace, value);

    private static string DateTime(DateTimeOffset at) => at.ToOffset(Calendar.KazakhstanTime.Offset).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    private static string Max(string text, int length) => text.Length <= length ? text : text[..length];
}

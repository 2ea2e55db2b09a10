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
        var settings = new XmlWriterSettings { Async = true, Encoding = new UTF8Encoding(false), Indent = false, CloseOutput = false };
        await using var xml = XmlWriter.Create(output, settings);
        await xml.WriteStartDocumentAsync();
        await xml.WriteStartElementAsync(null, "Document", Namespace);
        await xml.WriteStartElementAsync(null, "BkToCstmrStmt", Namespace);

        await xml.WriteStartElementAsync(null, "GrpHdr", Namespace);
        await Element(xml, "MsgId", Max(header.Reference + header.CreatedAt.ToString("HHmmss", CultureInfo.InvariantCulture), 35));
        await Element(xml, "CreDtTm", DateTime(header.CreatedAt));
        await xml.WriteEndElementAsync();

        await xml.WriteStartElementAsync(null, "Stmt", Namespace);
        await Element(xml, "Id", header.Reference);
        await Element(xml, "CreDtTm", DateTime(header.CreatedAt));
        await xml.WriteStartElementAsync(null, "FrToDt", Namespace);
        await Element(xml, "FrDtTm", header.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T00:00:00+05:00" /* UTC+5, the bank's days */);
        await Element(xml, "ToDtTm", header.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + "T23:59:59+05:00");
        await xml.WriteEndElementAsync();
        await xml.WriteStartElementAsync(null, "Acct", Namespace);
        await xml.WriteStartElementAsync(null, "Id", Namespace);
        await Element(xml, "IBAN", header.Iban);
        await xml.WriteEndElementAsync();
        await Element(xml, "Ccy", header.Currency.ToString());
        await xml.WriteStartElementAsync(null, "Ownr", Namespace);
        await Element(xml, "Nm", Max(header.OwnerName, 140));
        await OrganisationIdAsync(xml, header.OwnerIdn);
        await xml.WriteEndElementAsync();
        await AgentAsync(xml, "Svcr", header.BankBic, header.BankName);
        await xml.WriteEndElementAsync();

        await BalanceAsync(xml, "OPBD", header.OpeningBalance, header.From, header.Currency);
        await BalanceAsync(xml, "CLBD", header.ClosingBalance, header.To, header.Currency);
        await xml.WriteStartElementAsync(null, "TxsSummry", Namespace);
        await xml.WriteStartElementAsync(null, "TtlNtries", Namespace);
        await Element(xml, "NbOfNtries", header.EntryCount.ToString(CultureInfo.InvariantCulture));
        await Element(xml, "Sum", StatementText.Amount(header.TotalCredits + header.TotalDebits, header.Currency));
        await xml.WriteStartElementAsync(null, "TtlNetNtry", Namespace);
        var net = header.TotalCredits - header.TotalDebits;
        await Element(xml, "Amt", StatementText.Amount(net, header.Currency));
        await Element(xml, "CdtDbtInd", net < 0 ? "DBIT" : "CRDT");
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
        await Totals(xml, "TtlCdtNtries", header.TotalCredits, header.Currency);
        await Totals(xml, "TtlDbtNtries", header.TotalDebits, header.Currency);
        await xml.WriteEndElementAsync();

        var written = 0;
        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            await EntryAsync(xml, new StatementLine(entry, header));
            if (++written % 500 == 0)
            {
                await xml.FlushAsync();
            }
        }

        await xml.WriteEndElementAsync(); // Stmt
        await xml.WriteEndElementAsync(); // BkToCstmrStmt
        await xml.WriteEndElementAsync(); // Document
        await xml.WriteEndDocumentAsync();
        await xml.FlushAsync();
    }

    private static async Task EntryAsync(XmlWriter xml, StatementLine line)
    {
        var entry = line.Entry;
        var currency = line.Header.Currency.ToString();
        await xml.WriteStartElementAsync(null, "Ntry", Namespace);
        await Element(xml, "NtryRef", entry.Sequence.ToString(CultureInfo.InvariantCulture));
        await AmountAsync(xml, line.Amount, line.Header.Currency);
        await Element(xml, "CdtDbtInd", line.IsCredit ? "CRDT" : "DBIT");
        await xml.WriteStartElementAsync(null, "Sts", Namespace);
        await Element(xml, "Cd", "BOOK");
        await xml.WriteEndElementAsync();
        await xml.WriteStartElementAsync(null, "BookgDt", Namespace);
        await Element(xml, "DtTm", DateTime(entry.BookedAt));
        await xml.WriteEndElementAsync();
        await xml.WriteStartElementAsync(null, "ValDt", Namespace);
        await Element(xml, "Dt", line.ValueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await xml.WriteEndElementAsync();
        await Element(xml, "AcctSvcrRef", line.BankReference);
        await xml.WriteStartElementAsync(null, "BkTxCd", Namespace);
        await xml.WriteStartElementAsync(null, "Prtry", Namespace);
        await Element(xml, "Cd", Max(entry.Kind, 35));
        await Element(xml, "Issr", Max(line.Header.BankBic, 35));
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();

        await xml.WriteStartElementAsync(null, "NtryDtls", Namespace);
        await xml.WriteStartElementAsync(null, "TxDtls", Namespace);
        await xml.WriteStartElementAsync(null, "Refs", Namespace);
        await Element(xml, "AcctSvcrRef", line.BankReference);
        await Element(xml, "EndToEndId", Max(entry.DocumentNumber ?? "NOTPROVIDED", 35));
        await Element(xml, "TxId", Max(entry.TransactionId, 35));
        await xml.WriteEndElementAsync();
        await AmountAsync(xml, line.Amount, line.Header.Currency);
        await Element(xml, "CdtDbtInd", line.IsCredit ? "CRDT" : "DBIT");

        var (payer, payee) = (line.Payer, line.Payee);
        await xml.WriteStartElementAsync(null, "RltdPties", Namespace);
        await PartyAsync(xml, "Dbtr", "DbtrAcct", payer, currency);
        await PartyAsync(xml, "Cdtr", "CdtrAcct", payee, currency);
        await xml.WriteEndElementAsync();
        if (payer.Bic is not null || payee.Bic is not null)
        {
            await xml.WriteStartElementAsync(null, "RltdAgts", Namespace);
            if (payer.Bic is { } debtorBank)
            {
                await AgentAsync(xml, "DbtrAgt", debtorBank, null);
            }

            if (payee.Bic is { } creditorBank)
            {
                await AgentAsync(xml, "CdtrAgt", creditorBank, null);
            }

            await xml.WriteEndElementAsync();
        }

        if (entry.PurposeCode is { } knp)
        {
            await xml.WriteStartElementAsync(null, "Purp", Namespace);
            await Element(xml, "Prtry", "KNP " + knp);
            await xml.WriteEndElementAsync();
        }

        if (!string.IsNullOrWhiteSpace(entry.Purpose))
        {
            await xml.WriteStartElementAsync(null, "RmtInf", Namespace);
            var purpose = entry.Purpose!;
            for (var at = 0; at < purpose.Length && at < 140 * 4; at += 140)
            {
                await Element(xml, "Ustrd", purpose.Substring(at, Math.Min(140, purpose.Length - at)));
            }

            await xml.WriteEndElementAsync();
        }

        await xml.WriteEndElementAsync(); // TxDtls
        await xml.WriteEndElementAsync(); // NtryDtls
        await xml.WriteEndElementAsync(); // Ntry
    }

    private static async Task PartyAsync(XmlWriter xml, string party, string account, Counterparty who, string currency)
    {
        if (who.Name is null && who.Idn is null && who.Iban is null)
        {
            return;
        }

        await xml.WriteStartElementAsync(null, party, Namespace);
        await xml.WriteStartElementAsync(null, "Pty", Namespace);
        if (who.Name is { } name)
        {
            await Element(xml, "Nm", Max(name, 140));
        }

        await OrganisationIdAsync(xml, who.Idn);
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
        if (who.Iban is { } iban)
        {
            await xml.WriteStartElementAsync(null, account, Namespace);
            await xml.WriteStartElementAsync(null, "Id", Namespace);
            if (Iban.TryParse(iban, out _))
            {
                await Element(xml, "IBAN", iban);
            }
            else
            {
                await xml.WriteStartElementAsync(null, "Othr", Namespace);
                await Element(xml, "Id", Max(iban, 34));
                await xml.WriteEndElementAsync();
            }

            await xml.WriteEndElementAsync();
            await Element(xml, "Ccy", currency);
            await xml.WriteEndElementAsync();
        }
    }

    private static async Task OrganisationIdAsync(XmlWriter xml, string? idn)
    {
        if (string.IsNullOrEmpty(idn))
        {
            return;
        }

        await xml.WriteStartElementAsync(null, "Id", Namespace);
        await xml.WriteStartElementAsync(null, "OrgId", Namespace);
        await xml.WriteStartElementAsync(null, "Othr", Namespace);
        await Element(xml, "Id", idn);
        await xml.WriteStartElementAsync(null, "SchmeNm", Namespace);
        await Element(xml, "Prtry", "BIN");
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
    }

    private static async Task AgentAsync(XmlWriter xml, string name, string bic, string? bankName)
    {
        await xml.WriteStartElementAsync(null, name, Namespace);
        await xml.WriteStartElementAsync(null, "FinInstnId", Namespace);
        await Element(xml, "BICFI", bic);
        if (bankName is not null)
        {
            await Element(xml, "Nm", Max(bankName, 140));
        }

        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
    }

    private static async Task BalanceAsync(XmlWriter xml, string type, decimal amount, DateOnly day, Currency currency)
    {
        await xml.WriteStartElementAsync(null, "Bal", Namespace);
        await xml.WriteStartElementAsync(null, "Tp", Namespace);
        await xml.WriteStartElementAsync(null, "CdOrPrtry", Namespace);
        await Element(xml, "Cd", type);
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
        await AmountAsync(xml, amount, currency);
        await Element(xml, "CdtDbtInd", amount < 0 ? "DBIT" : "CRDT");
        await xml.WriteStartElementAsync(null, "Dt", Namespace);
        await Element(xml, "Dt", day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await xml.WriteEndElementAsync();
        await xml.WriteEndElementAsync();
    }

    private static async Task Totals(XmlWriter xml, string name, decimal sum, Currency currency)
    {
        await xml.WriteStartElementAsync(null, name, Namespace);
        await Element(xml, "Sum", StatementText.Amount(sum, currency));
        await xml.WriteEndElementAsync();
    }

    private static async Task AmountAsync(XmlWriter xml, decimal amount, Currency currency)
    {
        await xml.WriteStartElementAsync(null, "Amt", Namespace);
        await xml.WriteAttributeStringAsync(null, "Ccy", null, currency.ToString());
        await xml.WriteStringAsync(StatementText.Amount(amount, currency));
        await xml.WriteEndElementAsync();
    }

    private static Task Element(XmlWriter xml, string name, string value) => xml.WriteElementStringAsync(null, name, Namespace, value);

    private static string DateTime(DateTimeOffset at) => at.ToOffset(Calendar.KazakhstanTime.Offset).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);

    private static string Max(string text, int length) => text.Length <= length ? text : text[..length];
}

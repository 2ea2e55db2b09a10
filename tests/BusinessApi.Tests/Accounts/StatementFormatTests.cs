using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using BusinessApi.Accounts;
using BusinessApi.Accounts.Ledger;
using BusinessApi.Accounts.Statements;
using BusinessApi.Calendar;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Accounts;

/// <summary>
/// Statements in the formats ERPs import, each checked by what the tests did not write: MT940 by the mt940js parser,
/// camt.053 by the official XSD, 1C against a golden file reviewed field by field. All formats carry the same entries.
/// </summary>
public sealed class StatementFormatTests(PaymentAppFixture fixture) : IClassFixture<PaymentAppFixture>
{
    private static readonly XNamespace Camt = Camt053Writer.Namespace;

    static StatementFormatTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private TestApp App => fixture.App;

    private string Today => KazakhstanTime.LocalDate(App.Time.GetUtcNow()).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task EveryFormat_CarriesTheSameEntries_WithCounterpartyKnpAndNumber_AndBalancesThatAddUp()
    {
        using var payer = await App.PayerAsync(fixture.Pki, funds: 500_000m);
        using var other = await App.PayerAsync(fixture.Pki, funds: 300_000m);

        // Out: a payment to a colleague company at this bank; in: that company pays back without naming itself (the
        // statement names it as the bank knows it); out: a payment elsewhere with a Kazakh-letter purpose.
        var paid = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(12_345.67m, other.Iban)));
        Assert.Equal("executed", paid.GetProperty("status").GetString());
        var back = await other.FinishedAsync(await other.SubmitOrderAsync(other.Order(1_000m, payer.Iban, o => o["purpose"] = "Возврат / переплата «аванс»")));
        Assert.Equal("executed", back.GetProperty("status").GetString());
        var away = await payer.FinishedAsync(await payer.SubmitOrderAsync(payer.Order(2_000m, edit: o => o["purpose"] = "Төлем қызметтер үшін №7")));
        Assert.Equal("executed", away.GetProperty("status").GetString());

        var json = await payer.Software.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{payer.Iban}/statement?from={Today}&to={Today}");
        var entries = json.GetProperty("entries").EnumerateArray().ToList();
        Assert.Equal(4, entries.Count); // cash-in, payment out, payment in, payment away
        var incoming = entries.Single(e => e.GetProperty("direction").GetString() == "credit" && e.GetProperty("kind").GetString() == "payment");
        Assert.Equal(other.Bin, incoming.GetProperty("counterparty").GetProperty("idn").GetString());
        Assert.Equal("ТОО Тест", incoming.GetProperty("counterparty").GetProperty("name").GetString());
        Assert.Equal("710", incoming.GetProperty("purposeCode").GetString());
        Assert.NotNull(incoming.GetProperty("documentNumber").GetString());
        var opening = decimal.Parse(json.GetProperty("openingBalance").GetString()!, CultureInfo.InvariantCulture);
        var closing = decimal.Parse(json.GetProperty("closingBalance").GetString()!, CultureInfo.InvariantCulture);

        // MT940, parsed by mt940js: the balances add up (the parser checks), the same entries, the tags of :86:.
        var mt940 = await FileAsync(payer, "mt940", "text/plain", ".sta");
        Assert.All(Encoding.Latin1.GetString(mt940), c => Assert.True(c < 128, "MT940 is ASCII"));
        var statements = await ParseMt940Async(mt940);
        Assert.Equal(opening, statements[0].GetProperty("openingBalance").GetDecimal());
        Assert.Equal(closing, statements[^1].GetProperty("closingBalance").GetDecimal());
        var lines = statements.SelectMany(s => s.GetProperty("transactions").EnumerateArray()).ToList();
        Assert.Equal(entries.Count, lines.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var sign = entries[i].GetProperty("direction").GetString() == "credit" ? 1m : -1m;
            Assert.Equal(sign * decimal.Parse(entries[i].GetProperty("amount").GetString()!, CultureInfo.InvariantCulture), lines[i].GetProperty("amount").GetDecimal());
        }

        var inLine = lines[entries.IndexOf(incoming)];
        var details = inLine.GetProperty("structuredDetails");
        Assert.Equal("710", details.GetProperty("KNP").GetString());
        Assert.Equal(other.Bin, details.GetProperty("IDN").GetString());
        Assert.Equal(other.Iban, details.GetProperty("IBAN").GetString()!.Replace("\n", "", StringComparison.Ordinal));
        Assert.Equal("TOO Test", details.GetProperty("NAME").GetString());
        Assert.StartsWith("Vozvrat - pereplata 'avans'", details.GetProperty("PURP").GetString()!.Replace("\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(incoming.GetProperty("documentNumber").GetString(), inLine.GetProperty("reference").GetString());
        var awayLine = lines[3].GetProperty("structuredDetails").GetProperty("PURP").GetString()!.Replace("\n", "", StringComparison.Ordinal);
        Assert.Equal("Tolem qyzmetter ushin N7", awayLine);

        // camt.053.001.08, valid against the official schema, with the same entries and balances.
        var camt = await FileAsync(payer, "camt053", "application/xml", ".xml");
        var document = Validate(camt);
        var statement = document.Root!.Element(Camt + "BkToCstmrStmt")!.Element(Camt + "Stmt")!;
        Assert.Equal(payer.Iban, statement.Element(Camt + "Acct")!.Element(Camt + "Id")!.Element(Camt + "IBAN")!.Value);
        var balances = statement.Elements(Camt + "Bal").ToDictionary(b => b.Descendants(Camt + "Cd").First().Value, b => decimal.Parse(b.Element(Camt + "Amt")!.Value, CultureInfo.InvariantCulture));
        Assert.Equal(opening, balances["OPBD"]);
        Assert.Equal(closing, balances["CLBD"]);
        var ntries = statement.Elements(Camt + "Ntry").ToList();
        Assert.Equal(entries.Count, ntries.Count);
        var camtIn = ntries[entries.IndexOf(incoming)];
        Assert.Equal("CRDT", camtIn.Element(Camt + "CdtDbtInd")!.Value);
        var tx = camtIn.Descendants(Camt + "TxDtls").Single();
        Assert.Equal("KNP 710", tx.Element(Camt + "Purp")!.Element(Camt + "Prtry")!.Value);
        Assert.Equal(other.Bin, tx.Element(Camt + "RltdPties")!.Element(Camt + "Dbtr")!.Descendants(Camt + "Id").Last().Value);
        Assert.Equal(other.Iban, tx.Element(Camt + "RltdPties")!.Element(Camt + "DbtrAcct")!.Descendants(Camt + "IBAN").Single().Value);
        Assert.Equal(incoming.GetProperty("documentNumber").GetString(), tx.Element(Camt + "Refs")!.Element(Camt + "EndToEndId")!.Value);
        Assert.Equal("Возврат / переплата «аванс»", tx.Element(Camt + "RmtInf")!.Element(Camt + "Ustrd")!.Value);

        // 1C, Windows-1251: the account section's figures and one document section per entry.
        var oneC = await FileAsync(payer, "1c", "text/plain", ".txt");
        var sections = ParseOneC(oneC, out var account);
        Assert.Equal(opening, decimal.Parse(account["НачальныйОстаток"], CultureInfo.InvariantCulture));
        Assert.Equal(closing, decimal.Parse(account["КонечныйОстаток"], CultureInfo.InvariantCulture));
        Assert.Equal(entries.Count, sections.Count);
        var oneCIn = sections[entries.IndexOf(incoming)];
        Assert.Equal(other.Bin, oneCIn["ПлательщикБИН_ИИН"]);
        Assert.Equal(payer.Iban, oneCIn["ПолучательИИК"]);
        Assert.Equal("1000.00", oneCIn["СуммаПриход"]);
        Assert.Equal("710", oneCIn["КодНазначенияПлатежа"]);
        Assert.Equal("Толем кызметтер ушін №7", sections[3]["НазначениеПлатежа"]);
    }

    [Fact]
    public async Task AnEmptyPeriod_IsAWholeFile_InEveryFormat_AndAnUnknownFormatIsAProblem()
    {
        using var payer = await App.PayerAsync(fixture.Pki, funds: 0m);
        var statements = await ParseMt940Async(await FileAsync(payer, "mt940", "text/plain", ".sta", "2026-01-01", "2026-01-31"));
        Assert.Single(statements);
        Assert.Empty(statements[0].GetProperty("transactions").EnumerateArray());
        Validate(await FileAsync(payer, "camt053", "application/xml", ".xml", "2026-01-01", "2026-01-31"));
        Assert.Empty(ParseOneC(await FileAsync(payer, "1c", "text/plain", ".txt", "2026-01-01", "2026-01-31"), out _));

        var bad = await payer.Software.GetAsync($"/api/v1/accounts/{payer.Iban}/statement?from={Today}&to={Today}&format=pdf");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains((await Problem.ReadAsync(bad)).Errors, e => e.Field == "format" && e.Code == "statement_format_unknown");
        var stranger = await payer.Software.GetAsync($"/api/v1/accounts/{BankData.NewIban().Value}/statement?from={Today}&to={Today}&format=mt940");
        Assert.Equal(HttpStatusCode.NotFound, stranger.StatusCode);
    }

    /// <summary>
    /// The 1C file of fixed entries equals the reviewed golden file byte for byte (Windows-1251, CR LF): header fields,
    /// the account section's balances and turnovers, and per entry the payer and payee by name, БИН/ИИН, ИИК and bank БИК,
    /// СуммаРасход/СуммаПриход, the dates, the purpose and the КНП; Kazakh letters outside Windows-1251 as Russian ones.
    /// </summary>
    [Fact]
    public async Task OneC_OfFixedEntries_MatchesTheReviewedGoldenFile()
    {
        var header = new StatementHeader("KZ86998AB00000000001", Currency.KZT, "ТОО «Ромашка»", "180240000012", "TSESKZKA", "АО «Alatau City Bank»",
            new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 3), 10_000m, 58_766.50m, 1_233.50m, 50_000m, 3,
            new DateTimeOffset(2026, 11, 4, 9, 15, 0, KazakhstanTime.Offset));
        var at = new DateTimeOffset(2026, 11, 2, 11, 0, 0, KazakhstanTime.Offset);
        LedgerEntry[] entries =
        [
            new(41, new DateOnly(2026, 11, 2), at, 50_000m, 60_000m, 0m, 50_000m, "doc:doc_1", "payment")
            {
                Counterparty = new Counterparty("ИП Әлиев Қ.", "KZ56601A871001726091", "850312300456", "HSBKKZKX"),
                Purpose = "Оплата по счёту № 15\nза услуги", PurposeCode = "859", DocumentNumber = "15",
            },
            new(42, new DateOnly(2026, 11, 3), at.AddDays(1), -1_200m, 58_800m, 1_200m, 50_000m, "doc:doc_2", "payment")
            {
                Counterparty = new Counterparty("ТОО «Поставщик»", "KZ41998AB00000000777", "090140001234", "TSESKZKA"),
                Purpose = "Оплата за товары по договору 7", PurposeCode = "710", DocumentNumber = "88", ValueDate = new DateOnly(2026, 11, 3),
            },
            new(43, new DateOnly(2026, 11, 3), at.AddDays(1), -33.50m, 58_766.50m, 1_233.50m, 50_000m, "doc:doc_2", "payment")
            {
                Counterparty = new Counterparty("АО «Alatau City Bank»", null, null, "TSESKZKA"),
                Purpose = "Комиссия за платёжное поручение № 88", PurposeCode = "840", DocumentNumber = "88",
            },
        ];
        using var output = new MemoryStream();
        await new OneCWriter().WriteAsync(header, entries.ToAsyncEnumerable(), output, CancellationToken.None);
        var golden = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Accounts", "formats", "1c-statement.golden.txt"));
        Assert.Equal(Encoding.GetEncoding(1251).GetString(golden), Encoding.GetEncoding(1251).GetString(output.ToArray()));
        Assert.Equal(golden, output.ToArray());
    }

    /// <summary>Hostile text in purposes and names (markup, control characters, a lone surrogate, tags of :86:, a line that starts like a tag) leaves every file valid.</summary>
    [Fact]
    public async Task HostileText_LeavesEveryFormatValid()
    {
        var header = new StatementHeader("KZ86998AB00000000001", Currency.KZT, "ТОО <Ромашка> & \"Ко\"", "180240000012", "TSESKZKA", "АО «Alatau City Bank»",
            new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 2), 0m, 10m, 0m, 10m, 1, new DateTimeOffset(2026, 11, 4, 9, 15, 0, KazakhstanTime.Offset));
        var hostile = "</Ustrd><x>&amp;\u0001\u0007 \ud800 /KNP/999 " + new string('-', 64) + ":61:2601010101C1,00NTRF//1\r\n-}";
        LedgerEntry[] entries =
        [
            new(1, new DateOnly(2026, 11, 2), header.CreatedAt, 10m, 10m, 0m, 10m, "doc:doc_1", "payment")
            {
                Counterparty = new Counterparty(hostile, "KZ56601A871001726091", "850312300456", "HSBKKZKX"),
                Purpose = hostile, PurposeCode = "859", DocumentNumber = "15/<a>",
            },
        ];
        using var camt = new MemoryStream();
        await new Camt053Writer().WriteAsync(header, entries.ToAsyncEnumerable(), camt, CancellationToken.None);
        Validate(camt.ToArray());
        using var mt940 = new MemoryStream();
        await new Mt940Writer().WriteAsync(header, entries.ToAsyncEnumerable(), mt940, CancellationToken.None);
        var parsed = await ParseMt940Async(mt940.ToArray());
        Assert.Equal(10m, Assert.Single(Assert.Single(parsed).GetProperty("transactions").EnumerateArray()).GetProperty("amount").GetDecimal());
        using var oneC = new MemoryStream();
        await new OneCWriter().WriteAsync(header, entries.ToAsyncEnumerable(), oneC, CancellationToken.None);
        Assert.Single(ParseOneC(oneC.ToArray(), out _));
    }

    [Fact]
    public void SwiftCharacters_Transliterate_RussianAndKazakh_AndDropWhatXCannotCarry()
    {
        Assert.Equal("Oplata za uslugi N5", SwiftCharacters.ToX("Оплата за услуги №5"));
        Assert.Equal("Aq zhol, Ontustik Qazaqstan", SwiftCharacters.ToX("Ақ жол, Оңтүстік Қазақстан"));
        Assert.Equal("TOO 'Romashka' . 100.", SwiftCharacters.ToX("ТОО «Ромашка» & 100%"));
        Assert.Equal("Shchuchinsk", SwiftCharacters.ToX("Щучинск"));
    }

    private async Task<byte[]> FileAsync(Payer payer, string format, string mediaType, string extension, string? from = null, string? to = null)
    {
        var response = await payer.Software.GetAsync($"/api/v1/accounts/{payer.Iban}/statement?from={from ?? Today}&to={to ?? Today}&format={format}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith(extension, response.Content.Headers.ContentDisposition!.FileName!.Trim('"'), StringComparison.Ordinal);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static async Task<List<JsonElement>> ParseMt940Async(byte[] file)
    {
        var path = Path.Combine(Path.GetTempPath(), $"mt940-{Guid.NewGuid():N}.sta");
        await File.WriteAllBytesAsync(path, file);
        try
        {
            var parsed = await ChildProcess.RunAsync("node", [Path.Combine(Repository.Root, "scripts", "mt940-parse.js"), path], TimeSpan.FromSeconds(60),
                workingDirectory: Repository.Root);
            Assert.True(parsed.ExitCode == 0, $"mt940js refused the file: {parsed.Errors}\n{Encoding.ASCII.GetString(file)}");
            return [.. JsonDocument.Parse(parsed.Output).RootElement.Clone().EnumerateArray()];
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static XDocument Validate(byte[] file)
    {
        var schemas = new XmlSchemaSet();
        schemas.Add(Camt053Writer.Namespace, Path.Combine(AppContext.BaseDirectory, "Accounts", "formats", "camt.053.001.08.xsd"));
        var problems = new List<string>();
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema, Schemas = schemas };
        settings.ValidationEventHandler += (_, e) => problems.Add($"{e.Severity}: {e.Message}");
        using (var reader = XmlReader.Create(new MemoryStream(file), settings))
        {
            while (reader.Read())
            {
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        return XDocument.Load(new MemoryStream(file));
    }

    private static List<Dictionary<string, string>> ParseOneC(byte[] file, out Dictionary<string, string> account)
    {
        var text = Encoding.GetEncoding(1251).GetString(file);
        Assert.DoesNotContain('\uFFFD', text);
        var lines = text.Split("\r\n");
        Assert.Equal("1CClientBankExchange", lines[0]);
        Assert.Equal("КонецФайла", lines.Last(l => l.Length > 0));
        account = [];
        var documents = new List<Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (var line in lines)
        {
            if (line == "СекцияРасчСчет")
            {
                current = account;
            }
            else if (line.StartsWith("СекцияДокумент=", StringComparison.Ordinal))
            {
                documents.Add(current = []);
            }
            else if (line is "КонецРасчСчет" or "КонецДокумента")
            {
                current = null;
            }
            else if (current is not null && line.IndexOf('=', StringComparison.Ordinal) is var eq and > 0)
            {
                current[line[..eq]] = line[(eq + 1)..];
            }
        }

        return documents;
    }
}

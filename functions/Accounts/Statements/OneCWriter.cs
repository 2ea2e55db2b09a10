using System.Globalization;
using System.Text;
using BusinessApi.Accounts.Ledger;

namespace BusinessApi.Accounts.Statements;

/// <summary>
/// 1C:Enterprise's "Client–Bank" exchange file (<c>1CClientBankExchange</c>), as Kazakh banks give statements to
/// 1C:Accounting for Kazakhstan: <c>ВерсияФормата=1.01</c>, <c>Кодировка=Windows</c> (the file is Windows-1251),
/// CR LF line ends; a header, one <c>СекцияРасчСчет</c> with the period's balances and turnovers, one
/// <c>СекцияДокумент=Выписка</c> … <c>КонецДокумента</c> per entry, and <c>КонецФайла</c>.
/// <para>Per entry: <c>НомерДокумента</c>, <c>ДатаДокумента</c> and <c>ДатаОперации</c> (dd.MM.yyyy), <c>ВидДокумента</c>,
/// payer and payee by <c>…Наименование</c>, <c>…БИН_ИИН</c>, <c>…ИИК</c>, <c>…БанкБИК</c>, <c>СуммаРасход</c> or
/// <c>СуммаПриход</c> (a decimal point, two decimals), <c>НазначениеПлатежа</c> and <c>КодНазначенияПлатежа</c> (КНП).
/// Kazakh letters Windows-1251 lacks are written as the nearest Russian letter (ә→а, ғ→г, қ→к, ң→н, ө→о, ұ ү→у, һ→х);
/// line breaks inside a value become spaces.</para>
/// </summary>
public sealed class OneCWriter : IStatementWriter
{
    private static readonly Encoding Windows1251 = CreateEncoding();

    public string ContentType => "text/plain; charset=windows-1251";

    public string FileExtension => "txt";

    public async Task WriteAsync(StatementHeader header, IAsyncEnumerable<LedgerEntry> entries, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(entries);
        await using var chunks = new StatementChunks(output);
        using var writer = new StreamWriter(chunks.Buffer, Windows1251, bufferSize: 16 * 1024, leaveOpen: true) { NewLine = "\r\n" };
        var local = header.CreatedAt.ToOffset(Calendar.KazakhstanTime.Offset);
        writer.WriteLine("1CClientBankExchange");
        Field(writer, "ВерсияФормата", "1.01");
        Field(writer, "Кодировка", "Windows");
        Field(writer, "Отправитель", header.BankName);
        Field(writer, "Получатель", "1C");
        Field(writer, "ДатаСоздания", local.ToString("dd.MM.yyyy", CultureInfo.InvariantCulture));
        Field(writer, "ВремяСоздания", local.ToString("HH:mm:ss", CultureInfo.InvariantCulture));
        Field(writer, "ДатаНачала", Date(header.From));
        Field(writer, "ДатаКонца", Date(header.To));
        Field(writer, "РасчСчет", header.Iban);
        writer.WriteLine("СекцияРасчСчет");
        Field(writer, "ДатаНачала", Date(header.From));
        Field(writer, "ДатаКонца", Date(header.To));
        Field(writer, "РасчСчет", header.Iban);
        Field(writer, "Валюта", header.Currency.ToString());
        Field(writer, "НачальныйОстаток", AmountText.Format(header.OpeningBalance, header.Currency));
        Field(writer, "ВсегоПоступило", AmountText.Format(header.TotalCredits, header.Currency));
        Field(writer, "ВсегоСписано", AmountText.Format(header.TotalDebits, header.Currency));
        Field(writer, "КонечныйОстаток", AmountText.Format(header.ClosingBalance, header.Currency));
        writer.WriteLine("КонецРасчСчет");

        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            var line = new StatementLine(entry, header);
            var (payer, payee) = (line.Payer, line.Payee);
            writer.WriteLine("СекцияДокумент=Выписка");
            Field(writer, "НомерДокумента", entry.DocumentNumber ?? entry.Sequence.ToString(CultureInfo.InvariantCulture));
            Field(writer, "ДатаДокумента", Date(entry.Day));
            Field(writer, "ВидДокумента", entry.Kind switch
            {
                _ when line.IsCommission => "Мемориальный ордер",
                "payment" => "Платежное поручение",
                "conversion" => "Заявление на конвертацию",
                "cashIn" => "Приходный кассовый ордер",
                _ => "Мемориальный ордер",
            });
            Field(writer, "ПлательщикНаименование", payer.Name);
            Field(writer, "ПлательщикБИН_ИИН", payer.Idn);
            Field(writer, "ПлательщикИИК", payer.Iban);
            Field(writer, "ПлательщикБанкБИК", payer.Bic);
            Field(writer, "ПолучательНаименование", payee.Name);
            Field(writer, "ПолучательБИН_ИИН", payee.Idn);
            Field(writer, "ПолучательИИК", payee.Iban);
            Field(writer, "ПолучательБанкБИК", payee.Bic);
            Field(writer, line.IsCredit ? "СуммаПриход" : "СуммаРасход", AmountText.Format(line.Amount, header.Currency));
            Field(writer, "ДатаОперации", Date(line.ValueDate));
            Field(writer, "НазначениеПлатежа", entry.Purpose);
            Field(writer, "КодНазначенияПлатежа", entry.PurposeCode);
            writer.WriteLine("КонецДокумента");
            if (entry.Sequence % StatementChunks.EntriesPerChunk == 0)
            {
                writer.Flush();
                await chunks.DrainAsync(cancellationToken);
            }
        }

        writer.WriteLine("КонецФайла");
        writer.Flush();
        await chunks.DrainAsync(cancellationToken);
    }

    /// <summary>Text as Windows-1251 can carry it: the Kazakh letters it lacks as their nearest Russian ones.</summary>
    public static string ToWindows1251Text(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                'ә' => 'а', 'Ә' => 'А', 'ғ' => 'г', 'Ғ' => 'Г', 'қ' => 'к', 'Қ' => 'К', 'ң' => 'н', 'Ң' => 'Н',
                'ө' => 'о', 'Ө' => 'О', 'ұ' or 'ү' => 'у', 'Ұ' or 'Ү' => 'У', 'һ' => 'х', 'Һ' => 'Х',
                '\r' or '\n' or '\t' => ' ',
                _ => c,
            });
        }

        return builder.ToString();
    }

    private static void Field(StreamWriter writer, string name, string? value) =>
        writer.WriteLine(name + "=" + ToWindows1251Text(value));

    private static string Date(DateOnly day) => day.ToString("dd.MM.yyyy", CultureInfo.InvariantCulture);

    private static Encoding CreateEncoding()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(1251, new EncoderReplacementFallback("?"), DecoderFallback.ExceptionFallback);
    }
}

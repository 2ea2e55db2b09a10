using System.Globalization;
using BusinessApi.Accounts.Ledger;
using Microsoft.Net.Http.Headers;

namespace BusinessApi.Accounts.Statements;

/// <summary>
/// A statement file streamed to the client as its entries are read (a page of the ledger at a time), so a statement of
/// any length costs the memory of one page. The figures of the header are read first; entries booked after them are
/// left for the next statement, so the file always adds up. A storage failure once the file has started cuts the
/// response short (the client sees an incomplete body, never a file that looks whole).
/// </summary>
public sealed class StatementFileResult(IStatementWriter writer, StatementHeader header, LedgerAccountId account, long lastSequence, LedgerReports reports) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = writer.ContentType;
        var name = string.Create(CultureInfo.InvariantCulture, $"statement-{header.Iban}-{header.From:yyyyMMdd}-{header.To:yyyyMMdd}.{writer.FileExtension}");
        response.Headers[HeaderNames.ContentDisposition] = new ContentDispositionHeaderValue("attachment") { FileName = name }.ToString();
        response.Headers[HeaderNames.CacheControl] = "no-store";
        var entries = reports.StreamEntriesAsync(account, header.From, header.To, httpContext.RequestAborted)
            .TakeWhile(e => e.Sequence <= lastSequence);
        await writer.WriteAsync(header, entries, response.Body, httpContext.RequestAborted);
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using BusinessApi.Platform.Http;
using BusinessApi.Platform.Storage;

namespace BusinessApi.Notifications;

/// <summary>One notice the bank owes a customer, with its text in each of the terms' languages (ru prevails).</summary>
public sealed record Notice(string NoticeId, string CustomerId, string Kind, DateTimeOffset CreatedAt, string? Subject, IReadOnlyDictionary<string, string> Texts)
{
    /// <summary>The feed position: creation time, then id, so the order is total and a cursor is stable.</summary>
    public string Cursor => CreatedAt.UtcTicks.ToString("D19", CultureInfo.InvariantCulture) + "-" + NoticeId;
}

/// <summary>
/// Table <c>Notices</c>, one partition per customer, ordered by creation time. A notice's id is derived
/// from what it is about, and a marker row keyed by that id is added in the same transaction, so a notice
/// about one thing is added once, however often (or whenever) the step that adds it runs. This is the record the notification channel
/// (feed, webhooks, deadlines) is built on.
/// </summary>
public sealed class NoticeStore(StorageResources storage, TransactionBatcher batcher, ProblemTexts texts)
{
    public const string TableName = "Notices";

    private const string MarkerPrefix = "k|";
    private const string FeedEnd = ":"; // cursors start with digits; ':' sorts right after '9', before the markers

    private static readonly string[] Languages = ["ru", "kk", "en"];
    private readonly TableClient _table = storage.Table(TableName);

    /// <summary>A stable id for the notice about <paramref name="about"/>.</summary>
    public static string NoticeId(string about) =>
        "ntc_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(about)))[..24];

    /// <summary>
    /// Adds the notice <paramref name="kind"/> (texts <c>notice.{kind}</c> from the resources, formatted with
    /// <paramref name="arguments"/>) unless a notice about <paramref name="about"/> exists already.
    /// </summary>
    public async Task<Notice> AddAsync(string customerId, string kind, string about, DateTimeOffset createdAt, string? subject, object[] arguments, CancellationToken cancellationToken)
    {
        var notice = new Notice(NoticeId(about), customerId, kind, createdAt, subject,
            Languages.ToDictionary(l => l, l => texts.Format("notice." + kind, CultureInfo.GetCultureInfo(l), arguments, kind)!));
        var entity = new TableEntity(customerId, notice.Cursor)
        {
            ["NoticeId"] = notice.NoticeId,
            ["Kind"] = kind,
            ["CreatedAt"] = createdAt,
            ["Subject"] = subject,
        };
        foreach (var (language, text) in notice.Texts)
        {
            entity["Text_" + language] = text;
        }

        // The marker row makes the notice's id unique whatever its time; both rows go in one transaction.
        var marker = new TableEntity(customerId, MarkerPrefix + notice.NoticeId) { ["Cursor"] = notice.Cursor };
        try
        {
            await batcher.SubmitAsync(_table,
                [new TableTransactionAction(TableTransactionActionType.Add, marker), new TableTransactionAction(TableTransactionActionType.Add, entity)],
                cancellationToken);
        }
        catch (TableTransactionFailedException ex) when (ex.Status == 409)
        {
            // a notice about the same thing exists already (an earlier attempt, or an earlier occasion)
        }

        return notice;
    }

    /// <summary>The customer's notices after <paramref name="after"/> (a cursor), oldest first.</summary>
    public async Task<IReadOnlyList<Notice>> ReadAsync(string customerId, string? after, int pageSize, CancellationToken cancellationToken)
    {
        var filter = after is null
            ? TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey lt {FeedEnd}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {customerId} and RowKey gt {after} and RowKey lt {FeedEnd}");
        var result = new List<Notice>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, maxPerPage: pageSize, cancellationToken: cancellationToken))
        {
            result.Add(new Notice(
                entity.GetString("NoticeId") ?? "",
                customerId,
                entity.GetString("Kind") ?? "",
                entity.GetDateTimeOffset("CreatedAt") ?? default,
                entity.GetString("Subject"),
                Languages.Where(l => entity.ContainsKey("Text_" + l)).ToDictionary(l => l, l => entity.GetString("Text_" + l) ?? "")));
            if (result.Count == pageSize)
            {
                break;
            }
        }

        return result;
    }

    public static bool IsWellFormedCursor(string? cursor) =>
        cursor is { Length: 48 } && cursor[19] == '-' && cursor[..19].All(char.IsAsciiDigit)
        && cursor[20..].StartsWith("ntc_", StringComparison.Ordinal) && cursor[24..].All(char.IsAsciiHexDigitLower);
}

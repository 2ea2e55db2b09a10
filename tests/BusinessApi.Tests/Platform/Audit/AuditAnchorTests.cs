using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Platform.Audit;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform.Audit;

/// <summary>
/// The trail survives its own writer: whoever can write the journal's table can rewrite and re-hash a day, but
/// not the daily anchor in the WORM archive. These tests tamper with Azurite behind the app's back, as a
/// holder of the app's identity could, and read what verification reports.
/// </summary>
public sealed class AuditAnchorTests : IAsyncLifetime
{
    private const string Subject = "cus_anchor_test";
    private static readonly DateOnly Day1 = new(2026, 11, 25);
    private static readonly DateOnly Day2 = Day1.AddDays(1);
    private static readonly DateOnly Day3 = Day1.AddDays(2);

    private TestApp _app = null!;
    private AuditJournal _journal = null!;
    private TableClient _table = null!;
    private HttpClient _ops = null!;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync(); // 2026-11-25 10:00 in Kazakhstan
        _journal = _app.Services.GetRequiredService<AuditJournal>();
        _table = Azurite.Table(_app.TablePrefix, AuditJournal.TableName);
        _ops = _app.OperatorClient();
        foreach (var _ in new[] { Day1, Day2, Day3 })
        {
            for (var i = 1; i <= 3; i++)
            {
                await _journal.AppendAsync(new AuditRecord(Subject, "staff:oid-x", $"test.action{i}", AuditOutcome.Success)
                {
                    Details = new Dictionary<string, string> { ["amount"] = (i * 100).ToString(CultureInfo.InvariantCulture) },
                }, CancellationToken.None);
            }

            _app.Time.Advance(TimeSpan.FromDays(1));
        }

        // Day 4: the three closed days are anchored.
        var run = await _ops.PostAsync("/api/v1/ops/audit/anchors", null);
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
    }

    public async Task DisposeAsync()
    {
        _ops.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task UntouchedDays_VerifyAgainstTheirAnchors_AndLinkToThePreviousDay()
    {
        foreach (var day in new[] { Day1, Day2, Day3 })
        {
            var verification = await VerifyAsync(day);
            Assert.True(verification.GetProperty("intact").GetBoolean(), verification.ToString());
            Assert.Equal("matches", verification.GetProperty("anchor").GetString());
            Assert.Equal(3, verification.GetProperty("anchoredSequence").GetInt64());
        }

        var page = await _ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject={Subject}&date={Day2:yyyy-MM-dd}");
        Assert.Equal($"{Day1:yyyy-MM-dd}:3", page.GetProperty("entries")[0].GetProperty("link").GetString());
        var anchor = await _ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit/anchors/{Day2:yyyy-MM-dd}");
        Assert.True(anchor.GetProperty("intact").GetBoolean());
        Assert.True(anchor.GetProperty("linkedToPrevious").GetBoolean());
        Assert.Equal($"{Day1:yyyy-MM-dd}", anchor.GetProperty("anchor").GetProperty("previousDay").GetString());

        // Anchors are written once: a second run finds nothing to anchor, and today is not anchored yet.
        var again = await (await _ops.PostAsync("/api/v1/ops/audit/anchors", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Empty(again.GetProperty("anchored").EnumerateArray());
        var today = await _ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit/verification?subject=system&date={Day3.AddDays(1):yyyy-MM-dd}");
        Assert.Equal("notAnchored", today.GetProperty("anchor").GetString());
    }

    [Fact]
    public async Task RewrittenAndReHashedEntry_IsFound()
    {
        // The attacker changes an amount and re-computes the rest of the day's chain and its head: the day alone looks intact.
        await RewriteAsync(Day2, 2, entity => entity["Details"] = "{\"amount\":\"999999\"}");
        Assert.True((await _journal.VerifyAsync(Subject, Day2, CancellationToken.None)).Intact);

        var day2 = await VerifyAsync(Day2);
        var day3 = await VerifyAsync(Day3);

        Assert.False(day2.GetProperty("intact").GetBoolean());
        Assert.Equal(("entry_rewritten", "anchorMismatch"), (day2.GetProperty("finding").GetString(), day2.GetProperty("break").GetString()));
        Assert.Equal(("day_deleted_or_rewritten", "linkBroken"), (day3.GetProperty("finding").GetString(), day3.GetProperty("break").GetString()));
    }

    [Fact]
    public async Task DeletedEntry_IsFound_EvenWithTheHeadMovedBack()
    {
        var second = (await _table.GetEntityAsync<TableEntity>(Partition(Day1), AuditJournal.RowKey(2))).Value;
        await _table.DeleteEntityAsync(Partition(Day1), AuditJournal.RowKey(3));
        await _table.UpdateEntityAsync(new TableEntity(Partition(Day1), "~head") { ["Sequence"] = 2L, ["Hash"] = second.GetString("Hash") }, ETag.All, TableUpdateMode.Replace);
        Assert.True((await _journal.VerifyAsync(Subject, Day1, CancellationToken.None)).Intact);

        var day1 = await VerifyAsync(Day1);

        Assert.False(day1.GetProperty("intact").GetBoolean());
        Assert.Equal(("entry_deleted", "entriesMissing"), (day1.GetProperty("finding").GetString(), day1.GetProperty("break").GetString()));
        Assert.Equal("linkBroken", (await VerifyAsync(Day2)).GetProperty("break").GetString());
    }

    [Fact]
    public async Task DeletedDay_IsFound_EvenWithItsIndexRowGone()
    {
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition(Day3)}")))
        {
            await _table.DeleteEntityAsync(entity.PartitionKey, entity.RowKey);
        }

        await _table.DeleteEntityAsync($"~days|{Day3:yyyy-MM-dd}", Subject);

        var day3 = await VerifyAsync(Day3);
        var anchor = await _ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit/anchors/{Day3:yyyy-MM-dd}");

        Assert.Equal(("day_deleted_or_rewritten", "dayMissing"), (day3.GetProperty("finding").GetString(), day3.GetProperty("break").GetString()));
        Assert.False(anchor.GetProperty("intact").GetBoolean());
        var partition = anchor.GetProperty("partitions").EnumerateArray().Single(p => p.GetProperty("subject").GetString() == Subject);
        Assert.Equal(("dayMissing", 0), (partition.GetProperty("break").GetString(), partition.GetProperty("entries").GetInt32()));
    }

    [Fact]
    public async Task BadDate_Is400_AndAnUnanchoredDay_Is404()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await _ops.GetAsync("/api/v1/ops/audit/anchors/2026-13-01")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _ops.GetAsync("/api/v1/ops/audit/anchors/2020-01-01")).StatusCode);
    }

    private static string Partition(DateOnly day) => AuditJournal.PartitionKey(Subject, day);

    private Task<JsonElement> VerifyAsync(DateOnly day) =>
        _ops.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit/verification?subject={Subject}&date={day:yyyy-MM-dd}");

    /// <summary>Changes one entry, then re-hashes it and every later entry of the day and moves the head, as an attacker with write access would.</summary>
    private async Task RewriteAsync(DateOnly day, long sequence, Action<TableEntity> change)
    {
        var entries = new List<TableEntity>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Partition(day)} and RowKey lt {"~"}")))
        {
            entries.Add(entity);
        }

        string? previous = null;
        foreach (var entry in entries.OrderBy(e => e.RowKey, StringComparer.Ordinal))
        {
            var number = long.Parse(entry.RowKey, CultureInfo.InvariantCulture);
            if (number == sequence)
            {
                change(entry);
            }

            if (number >= sequence)
            {
                entry["PreviousHash"] = previous ?? entry.GetString("PreviousHash");
                entry["Hash"] = AuditChain.ComputeHash(entry.PartitionKey, number, entry.GetString("At"), entry.GetString("Actor"), entry.GetString("Action"),
                    entry.GetString("Outcome"), entry.GetString("Target"), entry.GetString("CorrelationId"), entry.GetString("Details"),
                    entry.GetString("PreviousHash"), entry.GetString("ActorName"), entry.GetString("Link"));
                await _table.UpdateEntityAsync(entry, ETag.All, TableUpdateMode.Replace);
            }

            previous = entry.GetString("Hash");
        }

        await _table.UpdateEntityAsync(new TableEntity(Partition(day), "~head") { ["Sequence"] = (long)entries.Count, ["Hash"] = previous }, ETag.All, TableUpdateMode.Replace);
    }
}

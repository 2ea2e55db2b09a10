using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using BusinessApi.Calendar;
using BusinessApi.Platform.Audit;
using BusinessApi.Platform.Configuration;
using BusinessApi.Platform.Storage;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace BusinessApi.Tests.Platform.Audit;

/// <summary>The journal is append-only in effect: any change to what was written is detected.</summary>
public sealed class AuditJournalTests : IAsyncLifetime
{
    private const string Subject = "customer-42";
    private TestApp _app = null!;
    private AuditJournal _journal = null!;
    private TableClient _table = null!;
    private DateOnly _day;

    public async Task InitializeAsync()
    {
        _app = await TestApp.StartAsync();
        _journal = _app.Services.GetRequiredService<AuditJournal>();
        _table = Azurite.Table(_app.TablePrefix, AuditJournal.TableName);
        _day = _journal.LocalDay(_app.Time.GetUtcNow());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Appends_FormAnIntactChain_ReadableInOrderThroughTheApi()
    {
        await AppendAsync(5);

        var verification = await _journal.VerifyAsync(Subject, _day, CancellationToken.None);
        using var client = _app.OperatorClient();
        var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject={Subject}&date={_day:yyyy-MM-dd}");
        var apiVerification = await client.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit/verification?subject={Subject}&date={_day:yyyy-MM-dd}");

        Assert.True(verification.Intact);
        Assert.Equal(5, verification.Entries);
        Assert.Equal([1L, 2, 3, 4, 5], page.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
        Assert.Equal("action.3", page.GetProperty("entries")[2].GetProperty("action").GetString());
        Assert.Equal("3", page.GetProperty("entries")[2].GetProperty("details").GetProperty("n").GetString());
        Assert.True(apiVerification.GetProperty("intact").GetBoolean());
    }

    [Fact]
    public async Task AlteredEntry_IsDetectedAtItsSequence()
    {
        await AppendAsync(5);
        var entity = (await _table.GetEntityAsync<TableEntity>(Partition, AuditJournal.RowKey(3))).Value;
        entity["Outcome"] = "success-after-all";
        await _table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Replace);

        var verification = await _journal.VerifyAsync(Subject, _day, CancellationToken.None);

        Assert.False(verification.Intact);
        Assert.Equal(AuditBreak.HashMismatch, verification.Break);
        Assert.Equal(3, verification.BrokenAtSequence);
    }

    [Fact]
    public async Task AlteredEntryWithRecomputedHash_BreaksTheNextLink()
    {
        await AppendAsync(5);
        var entity = (await _table.GetEntityAsync<TableEntity>(Partition, AuditJournal.RowKey(3))).Value;
        entity["Actor"] = "someone-else";
        entity["Hash"] = AuditChain.ComputeHash(Partition, 3, entity.GetString("At"), "someone-else", entity.GetString("Action"),
            entity.GetString("Outcome"), entity.GetString("Target"), entity.GetString("CorrelationId"), entity.GetString("Details"), entity.GetString("PreviousHash"));
        await _table.UpdateEntityAsync(entity, ETag.All, TableUpdateMode.Replace);

        var verification = await _journal.VerifyAsync(Subject, _day, CancellationToken.None);

        Assert.Equal(AuditBreak.ChainBroken, verification.Break);
        Assert.Equal(4, verification.BrokenAtSequence);
    }

    [Fact]
    public async Task RemovedEntry_IsDetectedAsAGap()
    {
        await AppendAsync(5);
        await _table.DeleteEntityAsync(Partition, AuditJournal.RowKey(2));

        var verification = await _journal.VerifyAsync(Subject, _day, CancellationToken.None);

        Assert.Equal(AuditBreak.SequenceGap, verification.Break);
        Assert.Equal(2, verification.BrokenAtSequence);
    }

    [Fact]
    public async Task RemovedLastEntry_IsDetectedAgainstTheHead()
    {
        await AppendAsync(5);
        await _table.DeleteEntityAsync(Partition, AuditJournal.RowKey(5));

        var verification = await _journal.VerifyAsync(Subject, _day, CancellationToken.None);

        Assert.Equal(AuditBreak.HeadMismatch, verification.Break);
    }

    [Fact]
    public async Task ConcurrentWritersInTwoProcesses_KeepOneUnbrokenChain()
    {
        // A second journal over the same table stands for another app instance with its own head cache.
        var other = new AuditJournal(
            _app.Services.GetRequiredService<StorageResources>(),
            _app.Time,
            Options.Create(new PlatformOptions { LocalOffset = KazakhstanTime.Offset }),
            new Microsoft.AspNetCore.Http.HttpContextAccessor(),
            NullLogger<AuditJournal>.Instance);

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => (i % 2 == 0 ? _journal : other)
            .AppendAsync(new AuditRecord(Subject, "system", $"concurrent.{i}", AuditOutcome.Success), CancellationToken.None)));

        var verification = await _journal.VerifyAsync(Subject, _day, CancellationToken.None);
        Assert.True(verification.Intact);
        Assert.Equal(60, verification.Entries);
    }

    [Fact]
    public async Task EntriesAreFiledUnderTheLocalDay()
    {
        _app.Time.SetUtcNow(new DateTimeOffset(2026, 11, 25, 20, 30, 0, TimeSpan.Zero)); // 01:30 on the 26th in Almaty

        var entry = await _journal.AppendAsync(new AuditRecord(Subject, "system", "late", AuditOutcome.Success), CancellationToken.None);

        Assert.Equal(new DateOnly(2026, 11, 26), entry.Day);
    }

    [Theory]
    [InlineData("clientSecret")]
    [InlineData("password")]
    [InlineData("accessToken")]
    [InlineData("signature")]
    public async Task DetailsNamedLikeSecrets_AreRefused(string key)
    {
        var record = new AuditRecord(Subject, "system", "x", AuditOutcome.Success) { Details = new Dictionary<string, string> { [key] = "v" } };

        await Assert.ThrowsAsync<ArgumentException>(() => _journal.AppendAsync(record, CancellationToken.None));
    }

    [Fact]
    public async Task ReadingPagesWithContinuation_ReturnsEveryEntryOnce()
    {
        await AppendAsync(5);
        using var client = _app.OperatorClient();
        var seen = new List<long>();
        string? continuation = null;
        do
        {
            var url = $"/api/v1/ops/audit?subject={Subject}&date={_day:yyyy-MM-dd}&pageSize=2" + (continuation is null ? "" : $"&continuation={continuation}");
            var page = await client.GetFromJsonAsync<JsonElement>(url);
            seen.AddRange(page.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
            continuation = page.TryGetProperty("continuation", out var next) ? next.GetString() : null;
        }
        while (continuation is not null);

        Assert.Equal([1L, 2, 3, 4, 5], seen);
    }

    [Fact]
    public async Task ReadingWithBadQuery_Is400ListingEachField()
    {
        using var client = _app.OperatorClient("en");

        var problem = await Problem.ReadAsync(await client.GetAsync("/api/v1/ops/audit?date=25.11.2026&pageSize=0"));

        Assert.Equal(HttpStatusCode.BadRequest, problem.Status);
        Assert.Equal(["date", "pageSize", "subject"], problem.Errors.Select(e => e.Field).Order());
    }

    [Fact]
    public async Task CalendarChange_IsJournaledWithTheOperator()
    {
        using var client = _app.OperatorClient();

        await client.PutAsJsonAsync("/api/v1/ops/calendar/2027", new { transferredWorkingDays = new[] { new { date = "2027-01-09", name = "Decree" } } });

        var page = await client.GetFromJsonAsync<JsonElement>($"/api/v1/ops/audit?subject=system&date={_day:yyyy-MM-dd}");
        var entry = Assert.Single(page.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "calendar.updated");
        Assert.StartsWith("break-glass:", entry.GetProperty("actor").GetString(), StringComparison.Ordinal);
        Assert.Equal("calendar/2027", entry.GetProperty("target").GetString());
        Assert.False(string.IsNullOrEmpty(entry.GetProperty("correlationId").GetString()));
    }

    private string Partition => AuditJournal.PartitionKey(Subject, _day);

    private async Task AppendAsync(int count)
    {
        for (var i = 1; i <= count; i++)
        {
            await _journal.AppendAsync(new AuditRecord(Subject, "operator:test", $"action.{i}", AuditOutcome.Success)
            {
                Target = $"object/{i}",
                CorrelationId = $"req-{i}",
                Details = new Dictionary<string, string> { ["n"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            }, CancellationToken.None);
        }
    }
}

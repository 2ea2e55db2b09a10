using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BusinessApi.Tests.Infrastructure;

namespace BusinessApi.Tests.Calendar;

/// <summary>The operational day and calendar publication over HTTP, with a fake clock in Almaty time.</summary>
public sealed class CalendarApiTests
{
    [Fact]
    public async Task OperationalDay_DuringHours_IsOpenToday()
    {
        await using var app = await TestApp.StartAsync(now: At("2026-11-25T10:00:00"));

        var day = await GetOperationalDayAsync(app);

        Assert.Equal("2026-11-25", day.GetProperty("date").GetString());
        Assert.True(day.GetProperty("isWorkingDay").GetBoolean());
        Assert.True(day.GetProperty("isOpen").GetBoolean());
        Assert.Equal("09:00", day.GetProperty("hours").GetProperty("open").GetString());
        Assert.Equal("18:00", day.GetProperty("hours").GetProperty("close").GetString());
        Assert.Equal("2026-11-25", day.GetProperty("operationalDate").GetString());
        Assert.Equal("2026-11-26", day.GetProperty("nextOperationalDay").GetProperty("date").GetString());
        Assert.Equal("2026-11-25T18:00:00+05:00", day.GetProperty("closesAt").GetString());
    }

    [Fact]
    public async Task OperationalDay_FridayEvening_IsClosed_AndDocumentsGoToMonday()
    {
        await using var app = await TestApp.StartAsync(now: At("2026-11-27T19:00:00"));

        var day = await GetOperationalDayAsync(app);

        Assert.False(day.GetProperty("isOpen").GetBoolean());
        Assert.Equal("2026-11-30", day.GetProperty("operationalDate").GetString());
        Assert.Equal("2026-11-30", day.GetProperty("nextOperationalDay").GetProperty("date").GetString());
    }

    [Fact]
    public async Task OperationalDay_OnAHoliday_NamesIt()
    {
        await using var app = await TestApp.StartAsync(now: At("2026-12-16T12:00:00"));

        var day = await GetOperationalDayAsync(app);

        Assert.False(day.GetProperty("isWorkingDay").GetBoolean());
        Assert.Equal("День Независимости", day.GetProperty("holiday").GetString());
        Assert.Equal("2026-12-17", day.GetProperty("operationalDate").GetString());
        Assert.False(day.TryGetProperty("hours", out _));
    }

    [Theory]
    [InlineData("ru", "Слишком ранний срок изменения графика")]
    [InlineData("kk", "Кесте өзгерісінің мерзімі тым ерте")]
    [InlineData("en", "Schedule change too soon")]
    public async Task HoursChange_LessThanThreeWorkingDaysAhead_Is422WithTheEarliestDate(string language, string title)
    {
        await using var app = await TestApp.StartAsync(now: At("2026-11-25T10:00:00"));
        using var client = app.OperatorClient(language);

        var response = await client.PutAsJsonAsync("/api/v1/ops/calendar/2026",
            new { operationalHours = new { open = "08:00", close = "17:00", effectiveFrom = "2026-11-27" } });

        var problem = await Problem.ReadAsync(response);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, problem.Status);
        Assert.Equal("schedule_change_too_soon", problem.Code);
        Assert.Equal(title, problem.Title);
        Assert.Equal("2026-11-30", problem.Body.GetProperty("earliestEffectiveFrom").GetString());
        Assert.Empty((await GetOperationalDayAsync(app)).GetProperty("scheduleChanges").EnumerateArray());
    }

    [Fact]
    public async Task HoursChange_IsAnnounced_ThenTakesEffectOnItsDate()
    {
        await using var app = await TestApp.StartAsync(now: At("2026-11-25T10:00:00"));
        using var client = app.OperatorClient();

        var response = await client.PutAsJsonAsync("/api/v1/ops/calendar/2026", new { operationalHours = new { open = "08:00", close = "17:00" } });
        var published = await response.Content.ReadFromJsonAsync<JsonElement>();
        var announced = await GetOperationalDayAsync(app);
        app.Time.SetUtcNow(At("2026-11-30T08:30:00"));
        var onTheDay = await GetOperationalDayAsync(app);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2026-11-30", published.GetProperty("published").GetProperty("effectiveFrom").GetString());
        var change = Assert.Single(announced.GetProperty("scheduleChanges").EnumerateArray());
        Assert.Equal("2026-11-30", change.GetProperty("effectiveFrom").GetString());
        Assert.EndsWith("+05:00", change.GetProperty("publishedAt").GetString(), StringComparison.Ordinal);
        Assert.Equal("09:00", announced.GetProperty("hours").GetProperty("open").GetString());
        Assert.True(onTheDay.GetProperty("isOpen").GetBoolean());
        Assert.Equal("08:00", onTheDay.GetProperty("hours").GetProperty("open").GetString());
    }

    [Fact]
    public async Task NewHoliday_MovesTheOperationalDay_AndAnotherInstanceSeesItAfterRefresh()
    {
        await using var first = await TestApp.StartAsync(now: At("2026-11-26T19:00:00"));
        await using var second = await TestApp.StartAsync(new Dictionary<string, string> { ["Storage:TablePrefix"] = first.TablePrefix }, now: At("2026-11-26T19:00:00"));
        var before = await GetOperationalDayAsync(second);
        var defaults = await first.OperatorClient().GetFromJsonAsync<JsonElement>("/api/v1/ops/calendar/2026");
        var holidays = defaults.GetProperty("holidays").EnumerateArray()
            .Select(h => new { date = h.GetProperty("date").GetString(), name = h.GetProperty("name").GetString(), kind = h.GetProperty("kind").GetString() })
            .Append(new { date = (string?)"2026-11-27", name = (string?)"Decree: extra day off", kind = (string?)"transferredDayOff" })
            .ToList();

        var put = await first.OperatorClient().PutAsJsonAsync("/api/v1/ops/calendar/2026", new { holidays });
        var onFirst = await GetOperationalDayAsync(first);
        second.Time.Advance(TimeSpan.FromSeconds(31));
        var onSecond = await GetOperationalDayAsync(second);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal("2026-11-27", before.GetProperty("operationalDate").GetString());
        Assert.Equal("2026-11-30", onFirst.GetProperty("operationalDate").GetString());
        Assert.Equal("2026-11-30", onSecond.GetProperty("operationalDate").GetString());
    }

    [Fact]
    public async Task TransferredWorkingSaturday_IsOpen()
    {
        await using var app = await TestApp.StartAsync(now: At("2026-11-28T10:00:00"));

        var put = await app.OperatorClient().PutAsJsonAsync("/api/v1/ops/calendar/2026",
            new { transferredWorkingDays = new[] { new { date = "2026-11-28", name = "Decree" } } });
        var day = await GetOperationalDayAsync(app);
        var year = await app.OperatorClient().GetFromJsonAsync<JsonElement>("/api/v1/ops/calendar/2026");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True(day.GetProperty("isOpen").GetBoolean());
        Assert.Equal("published by the bank", year.GetProperty("source").GetString());
        Assert.StartsWith("break-glass:", year.GetProperty("updatedBy").GetString(), StringComparison.Ordinal);
        Assert.Equal(21, year.GetProperty("holidays").GetArrayLength()); // holidays kept when only working days change
    }

    [Fact]
    public async Task RoundTheClockConfiguration_IsOpenOnAHolidayNight()
    {
        await using var app = await TestApp.StartAsync(new Dictionary<string, string>
        {
            ["Calendar:OperationalHours"] = "00:00-24:00",
            ["Calendar:Weekend"] = "",
            ["Calendar:ApplyPublicHolidays"] = "false",
        }, now: At("2026-12-16T03:00:00"));

        var day = await GetOperationalDayAsync(app);

        Assert.True(day.GetProperty("isOpen").GetBoolean());
        Assert.Equal("2026-12-16", day.GetProperty("operationalDate").GetString());
        Assert.Equal("24:00", day.GetProperty("hours").GetProperty("close").GetString());
    }

    [Fact]
    public async Task InvalidCalendarConfiguration_StopsStartUp()
    {
        await Assert.ThrowsAnyAsync<Exception>(() => TestApp.StartAsync(new Dictionary<string, string> { ["Calendar:OperationalHours"] = "18:00-09:00" }));
    }

    [Fact]
    public async Task YearOutOfRange_Is404()
    {
        await using var app = await TestApp.StartAsync();

        var problem = await Problem.ReadAsync(await app.OperatorClient().GetAsync("/api/v1/ops/calendar/1999"));

        Assert.Equal("not_found", problem.Code);
    }

    [Fact]
    public async Task EmptyChange_Is400()
    {
        await using var app = await TestApp.StartAsync();

        var problem = await Problem.ReadAsync(await app.OperatorClient("en").PutAsJsonAsync("/api/v1/ops/calendar/2026", new { }));

        Assert.Equal("validation_failed", problem.Code);
        Assert.Equal("calendar_change_empty", Assert.Single(problem.Errors).Code);
    }

    [Fact]
    public async Task DuplicateAndConflictingDays_AreEachReported()
    {
        await using var app = await TestApp.StartAsync();
        var body = new
        {
            holidays = new[] { new { date = "2026-11-28", name = "a" }, new { date = "2026-11-28", name = "b" } },
            transferredWorkingDays = new[] { new { date = "2026-11-28", name = "c" } },
        };

        var problem = await Problem.ReadAsync(await app.OperatorClient().PutAsJsonAsync("/api/v1/ops/calendar/2026", body));

        Assert.Contains(problem.Errors, e => e is { Field: "holidays[1].date", Code: "duplicate" });
        Assert.Contains(problem.Errors, e => e is { Field: "transferredWorkingDays[0].date", Code: "conflicting_day" });
    }

    [Fact]
    public async Task WorkingDayOnAStoredHoliday_IsAConflict()
    {
        await using var app = await TestApp.StartAsync();

        var problem = await Problem.ReadAsync(await app.OperatorClient().PutAsJsonAsync("/api/v1/ops/calendar/2026",
            new { transferredWorkingDays = new[] { new { date = "2026-03-21", name = "Saturday in Nauryz" } } }));

        Assert.Equal("conflicting_day", Assert.Single(problem.Errors).Code);
    }

    private static DateTimeOffset At(string localTime) =>
        DateTimeOffset.Parse(localTime + "+05:00", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<JsonElement> GetOperationalDayAsync(TestApp app) =>
        await app.Client.GetFromJsonAsync<JsonElement>("/api/v1/operational-day");
}

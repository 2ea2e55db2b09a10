using Azure.Storage.Queues;
using BusinessApi.Calendar;
using BusinessApi.Platform.Timers;
using BusinessApi.Tests.Documents;
using BusinessApi.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace BusinessApi.Tests.Platform.Timers;

/// <summary>
/// The wake-up queue that starts a scaled-to-zero app (the Container App's scale rule counts its
/// visible messages): a due time is one invisible message until then, a burst costs one message, a
/// running instance takes what came due, and a message that surfaces early (the 7-day cap) goes back.
/// </summary>
public sealed class WakeupAlarmTests : IDisposable
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;
    private readonly TestPki _pki = new();

    public void Dispose() => _pki.Dispose();

    private static QueueClient QueueOf(TestApp app) =>
        new QueueServiceClient(Azurite.ConnectionString).GetQueueClient((app.TablePrefix + WakeupAlarm.QueueName).ToLowerInvariant());

    private static async Task<(int All, int Visible)> CountAsync(QueueClient queue) =>
        ((await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount, (await queue.PeekMessagesAsync(32)).Value.Length);

    [Fact]
    public async Task A_due_time_is_one_invisible_message_however_many_waits_share_its_minute()
    {
        await using var app = await TestApp.StartAsync();
        var alarm = app.Services.GetRequiredService<WakeupAlarm>();
        var queue = QueueOf(app);
        var now = app.Time.GetUtcNow();
        var (before, _) = await CountAsync(queue); // whatever the app armed at start

        var minute = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddHours(now.UtcDateTime.Hour + 2).AddMinutes(now.UtcDateTime.Minute);
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => alarm.ArmAsync(minute + TimeSpan.FromSeconds(1 + i)))); // all within one minute
        await alarm.ArmAsync(now + TimeSpan.FromSeconds(30)); // the running instance's own timer covers that: no message

        Assert.Equal((before + 1, 0), await CountAsync(queue)); // there, but invisible: the scale rule does not wake anyone yet
        var message = (await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1))).Value;
        Assert.Empty(message); // not receivable either until its time
    }

    [Fact]
    public async Task A_running_instance_takes_the_wakeups_that_came_due_and_puts_back_one_that_surfaced_early()
    {
        await using var app = await TestApp.StartAsync();
        var alarm = app.Services.GetRequiredService<WakeupAlarm>();
        var queue = QueueOf(app);
        var now = app.Time.GetUtcNow();

        // Came due: the app is up, its sweeps do the work, the message goes.
        await queue.SendMessageAsync(now.AddMinutes(-1).ToString("O"), TimeSpan.Zero);
        await alarm.TakeDueAsync(CancellationToken.None);
        await Eventually.GetAsync(() => CountAsync(queue), c => c == (0, 0), what: "the due wake-up taken");

        // A 10-day wait surfaces after the 7-day cap: it is put back, invisible, for the rest.
        var later = now.AddDays(10).ToString("O");
        await queue.SendMessageAsync(later, TimeSpan.Zero);
        await alarm.TakeDueAsync(CancellationToken.None);
        await Eventually.GetAsync(() => CountAsync(queue), c => c == (1, 0), what: "the early wake-up re-armed");
    }

    [Fact]
    public async Task A_document_waiting_over_the_weekend_arms_a_wakeup_for_Mondays_opening()
    {
        var app = await TestApp.StartAsync(now: new DateTimeOffset(2026, 11, 27, 19, 30, 0, Kazakhstan)); // Friday evening
        await using var _ = app;
        await app.TrustAsync(_pki);
        using var payer = await app.PayerAsync(_pki);
        var id = await payer.SubmitOrderAsync(payer.Order(100m));
        await Eventually.GetAsync(() => payer.DocumentAsync(id), d => d.GetProperty("status").GetString() == "processing");

        var queue = QueueOf(app);
        var monday = new DateTimeOffset(2026, 11, 30, 9, 0, 0, Kazakhstan).ToUniversalTime().ToString("O");
        await Eventually.GetAsync(async () => (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount, n => n > 0, what: "a wake-up armed");

        // The messages stay invisible until their time, so their text cannot be read here; that the engine armed
        // Monday 09:00 shows in the alarm's own bookkeeping: arming that minute again sends nothing more.
        var before = (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount;
        await app.Services.GetRequiredService<WakeupAlarm>().ArmAsync(DateTimeOffset.Parse(monday, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(before, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount);
        await app.Services.GetRequiredService<WakeupAlarm>().ArmAsync(DateTimeOffset.Parse(monday, System.Globalization.CultureInfo.InvariantCulture).AddMinutes(1));
        Assert.Equal(before + 1, (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount); // a minute not armed yet does
        Assert.Empty((await queue.PeekMessagesAsync(32)).Value);
    }
}

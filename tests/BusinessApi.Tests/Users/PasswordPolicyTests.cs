using BusinessApi.Calendar;
using BusinessApi.Users;
using Microsoft.Extensions.Options;

namespace BusinessApi.Tests.Users;

/// <summary>The bank's password rules (clause 3.5.1) at their edges, as pure functions.</summary>
public sealed class PasswordPolicyTests
{
    private static readonly TimeSpan Kazakhstan = KazakhstanTime.Offset;

    [Theory]
    [InlineData("Aa1!aaa", new[] { "password_too_short" })] // 7 characters
    [InlineData("Aa1!aaaa", new string[0])] // 8
    [InlineData("aaaaBBBB", new[] { "password_too_simple" })] // 2 groups
    [InlineData("aaaaBBB1", new string[0])] // 3 groups
    [InlineData("aaaa####", new[] { "password_too_simple" })]
    [InlineData("пароль1!", new string[0])] // Cyrillic lower case, digit, special: 3 groups
    [InlineData("aaaaaaa", new[] { "password_too_short", "password_too_simple" })] // every broken rule at once
    public void Composition_LengthAtLeast8_AndThreeOfFourGroups(string password, string[] broken) =>
        Assert.Equal(broken, PasswordPolicy.CheckComposition(password));

    [Fact]
    public void VeryLongPasswords_AreRefused_SoHashingStaysBounded() =>
        Assert.Equal(["password_too_long"], PasswordPolicy.CheckComposition("Aa1!" + new string('x', 200)));

    [Theory]
    // Set on Thursday 10:00: changeable from Friday 10:00; 23 hours later is too early.
    [InlineData("2026-11-26T10:00:00", "2026-11-27T09:00:00", false)]
    [InlineData("2026-11-26T10:00:00", "2026-11-27T10:00:00", true)]
    // Set on Friday: the weekend does not count; Saturday 09:00 (23 h) and Monday 09:00 are too early, Monday 10:00 is not.
    [InlineData("2026-11-27T10:00:00", "2026-11-28T09:00:00", false)]
    [InlineData("2026-11-27T10:00:00", "2026-11-30T09:59:59", false)]
    [InlineData("2026-11-27T10:00:00", "2026-11-30T10:00:00", true)]
    // Set on Tuesday 15 December: the 16th is Independence Day, so the next working day is the 17th.
    [InlineData("2026-12-15T10:00:00", "2026-12-16T09:00:00", false)]
    [InlineData("2026-12-15T10:00:00", "2026-12-16T11:00:00", false)]
    [InlineData("2026-12-15T10:00:00", "2026-12-17T10:00:00", true)]
    public void MinimumAge_IsOneWorkingDay_OnTheBankCalendar(string setAt, string changeAt, bool allowed)
    {
        var calendar = DefaultCalendar();
        var set = new DateTimeOffset(DateTime.Parse(setAt, System.Globalization.CultureInfo.InvariantCulture), Kazakhstan);
        var change = new DateTimeOffset(DateTime.Parse(changeAt, System.Globalization.CultureInfo.InvariantCulture), Kazakhstan);

        Assert.Equal(allowed, change >= PasswordPolicy.EarliestChange(set, calendar));
    }

    [Theory]
    [InlineData(52, null, false)]
    [InlineData(53, 7, false)]
    [InlineData(59, 1, false)]
    [InlineData(60, null, true)]
    [InlineData(61, null, true)]
    public void MaximumAge_Is60CalendarDays_WithAWarningFrom7DaysBefore(int day, int? warnDaysLeft, bool expired)
    {
        var set = new DateTimeOffset(2026, 11, 25, 16, 30, 0, Kazakhstan);
        var at = new DateTimeOffset(2026, 11, 25, 0, 0, 0, Kazakhstan).AddDays(day);

        Assert.Equal(warnDaysLeft, PasswordPolicy.DaysLeftToWarn(set, at));
        Assert.Equal(expired, PasswordPolicy.IsExpired(set, at));
        Assert.False(PasswordPolicy.IsExpired(set, at.AddDays(-1).AddHours(23).AddMinutes(59)) && day == 60, "the last minute of day 59 is still valid");
    }

    [Fact]
    public void TemporaryPasswords_MeetThePolicy_AndDiffer()
    {
        var passwords = Enumerable.Range(0, 200).Select(_ => PasswordPolicy.NewTemporaryPassword()).ToList();
        Assert.All(passwords, p => Assert.Empty(PasswordPolicy.CheckComposition(p)));
        Assert.All(passwords, p => Assert.Equal(4, PasswordPolicy.Groups(p)));
        Assert.Equal(200, passwords.Distinct().Count());
    }

    [Fact]
    public void Hashes_UseOwaspStrengthByDefault_AndVerify_WithADecoyForUnknownLogins()
    {
        var hasher = new PasswordHasher(Options.Create(new UserOptions()));
        var hash = hasher.Hash("Correct-Horse-1");

        Assert.Equal(600_000, hasher.Iterations);
        Assert.StartsWith("pbkdf2-sha256$600000$", hash, StringComparison.Ordinal);
        Assert.True(hasher.Verify("Correct-Horse-1", hash));
        Assert.False(hasher.Verify("correct-horse-1", hash));
        Assert.False(hasher.Verify("Correct-Horse-1", null));
        Assert.NotEqual(hash, hasher.Hash("Correct-Horse-1")); // salted
    }

    private static BankCalendar DefaultCalendar() => new(CalendarRules.Default, DefaultCalendars.All, []);
}

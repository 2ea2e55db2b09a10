using System.Security.Cryptography;
using BusinessApi.Calendar;

namespace BusinessApi.Users;

/// <summary>
/// The bank's password rules, clause 3.5.1 (2), exactly (R-21..R-27). They are stricter than NIST SP
/// 800-63B in places (composition, history, expiry) because they are contractual.
/// <list type="bullet">
/// <item>at least 8 characters, at most 128 (so hashing stays bounded);</item>
/// <item>at least three of four groups: lower-case letters, upper-case letters, digits, other characters ;</item>
/// <item>none of the last 7 passwords, the current one included ;</item>
/// <item>changeable once one working day has passed: from the same time on the next working day ;</item>
/// <item>valid for 60 calendar days: from 00:00 of the 60th day after it was set, only a change is allowed;
///   a warning from 7 days before ;</item>
/// <item>a first or admin-set password must be changed at sign-in, whatever its age .</item>
/// </list>
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 8;
    public const int MaxLength = 128;
    public const int HistoryDepth = 7;
    public const int MaxAgeDays = 60;
    public const int WarningDays = 7;
    public const int InactivityDays = 30;
    public const int MaxConsecutiveFailures = 5;

    /// <summary>How many of the four groups the password uses.</summary>
    public static int Groups(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        bool lower = false, upper = false, digit = false, other = false;
        foreach (var c in password)
        {
            if (char.IsLower(c))
            {
                lower = true;
            }
            else if (char.IsUpper(c))
            {
                upper = true;
            }
            else if (char.IsDigit(c))
            {
                digit = true;
            }
            else
            {
                other = true;
            }
        }

        return (lower ? 1 : 0) + (upper ? 1 : 0) + (digit ? 1 : 0) + (other ? 1 : 0);
    }

    /// <summary>The rules a new password breaks that need no history or clock: each by its own code.</summary>
    public static IReadOnlyList<string> CheckComposition(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var broken = new List<string>();
        var length = new System.Globalization.StringInfo(password).LengthInTextElements;
        if (length < MinLength)
        {
            broken.Add("password_too_short");
        }

        if (password.Length > MaxLength)
        {
            broken.Add("password_too_long");
        }

        if (Groups(password) < 3)
        {
            broken.Add("password_too_simple");
        }

        return broken;
    }

    /// <summary>The earliest instant the password set at <paramref name="setAt"/> may be changed by its user: the same local time on the next working day.</summary>
    public static DateTimeOffset EarliestChange(DateTimeOffset setAt, BankCalendar calendar)
    {
        ArgumentNullException.ThrowIfNull(calendar);
        var local = KazakhstanTime.ToLocal(setAt);
        return KazakhstanTime.At(calendar.NextWorkingDay(DateOnly.FromDateTime(local.DateTime)), local.TimeOfDay);
    }

    /// <summary>The first local day on which the password is expired: 60 calendar days after the day it was set.</summary>
    public static DateOnly ExpiryDay(DateTimeOffset setAt) => KazakhstanTime.LocalDate(setAt).AddDays(MaxAgeDays);

    public static DateTimeOffset ExpiresAt(DateTimeOffset setAt) => KazakhstanTime.At(ExpiryDay(setAt), TimeSpan.Zero);

    public static bool IsExpired(DateTimeOffset setAt, DateTimeOffset now) => now >= ExpiresAt(setAt);

    /// <summary>Calendar days left before expiry when 7 or fewer remain (the warning), else null.</summary>
    public static int? DaysLeftToWarn(DateTimeOffset setAt, DateTimeOffset now)
    {
        var left = ExpiryDay(setAt).DayNumber - KazakhstanTime.LocalDate(now).DayNumber;
        return left is > 0 and <= WarningDays ? left : null;
    }

    /// <summary>A temporary password (16 characters from all four groups) for a new user or an admin reset.</summary>
    public static string NewTemporaryPassword()
    {
        const string lower = "abcdefghijkmnopqrstuvwxyz";
        const string upper = "ABCDEFGHJKLMNPQRSTUVWXYZ";
        const string digits = "23456789";
        const string other = "!#%+-=?@_";
        string[] groups = [lower, upper, digits, other];
        var chars = new char[16];
        for (var i = 0; i < chars.Length; i++)
        {
            var group = i < groups.Length ? groups[i] : groups[RandomNumberGenerator.GetInt32(groups.Length)];
            chars[i] = group[RandomNumberGenerator.GetInt32(group.Length)];
        }

        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }
}

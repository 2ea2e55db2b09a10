using System.Globalization;

namespace BusinessApi.Calendar;

/// <summary>The bank's hours on a working day, local time: from <see cref="Open"/> up to (not including) <see cref="Close"/>; 24:00 closes at midnight.</summary>
public readonly record struct OperationalHours
{
    public OperationalHours(TimeSpan open, TimeSpan close)
    {
        if (open < TimeSpan.Zero || close > TimeSpan.FromHours(24) || open >= close)
        {
            throw new ArgumentOutOfRangeException(nameof(close), "Operational hours need 00:00 <= open < close <= 24:00.");
        }

        Open = open;
        Close = close;
    }

    public TimeSpan Open { get; }

    public TimeSpan Close { get; }

    public static readonly OperationalHours Default = new(TimeSpan.FromHours(9), TimeSpan.FromHours(18));

    /// <summary>Parses <c>HH:mm-HH:mm</c>, e.g. <c>09:00-18:00</c> or <c>00:00-24:00</c>.</summary>
    public static bool TryParse(string? text, out OperationalHours hours)
    {
        hours = default;
        var parts = text?.Split('-', StringSplitOptions.TrimEntries);
        return parts is { Length: 2 } && TryCreate(parts[0], parts[1], out hours);
    }

    public static bool TryCreate(string? open, string? close, out OperationalHours hours)
    {
        hours = default;
        if (!TryParseTime(open, out var from) || !TryParseTime(close, out var to) || from >= to || to > TimeSpan.FromHours(24))
        {
            return false;
        }

        hours = new OperationalHours(from, to);
        return true;
    }

    public static string Format(TimeSpan time) =>
        $"{(int)time.TotalHours:00}:{time.Minutes:00}";

    public override string ToString() => $"{Format(Open)}-{Format(Close)}";

    private static bool TryParseTime(string? text, out TimeSpan time)
    {
        time = default;
        if (text is "24:00")
        {
            time = TimeSpan.FromHours(24);
            return true;
        }

        if (text is not { Length: 5 } || !TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        time = parsed.ToTimeSpan();
        return true;
    }
}

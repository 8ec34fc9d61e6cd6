using System.Globalization;
using System.Text.RegularExpressions;

namespace Bidder.LoadTest.Options;

/// <summary>Durations as people type them: <c>30s</c>, <c>2m</c>, <c>1h30m</c>, <c>500ms</c>, a number of seconds, or <c>00:01:00</c>.</summary>
internal static partial class TimeText
{
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TryFromSeconds(seconds, out value);
        }

        if (text.Contains(':'))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        var parts = Part().Matches(text);
        if (parts.Count == 0 || parts.Sum(p => p.Length) != text.Length)
        {
            return false;
        }

        var total = 0.0;
        foreach (Match part in parts)
        {
            var amount = double.Parse(part.Groups["amount"].Value, CultureInfo.InvariantCulture);
            total += part.Groups["unit"].Value switch
            {
                "ms" => amount / 1000,
                "s" => amount,
                "m" => amount * 60,
                _ => amount * 3600,
            };
        }

        return TryFromSeconds(total, out value);
    }

    public static string Format(TimeSpan value) => value switch
    {
        { TotalSeconds: < 1 } => $"{value.TotalMilliseconds:0}ms",
        { TotalMinutes: < 1 } => $"{value.TotalSeconds:0.#}s",
        { TotalHours: < 1 } => value.Seconds == 0 ? $"{value.Minutes}m" : $"{value.Minutes}m{value.Seconds}s",
        _ => $"{(int)value.TotalHours}h{(value.Minutes == 0 ? "" : $"{value.Minutes}m")}",
    };

    private static bool TryFromSeconds(double seconds, out TimeSpan value)
    {
        var valid = double.IsFinite(seconds) && seconds >= 0 && seconds <= TimeSpan.MaxValue.TotalSeconds / 2;
        value = valid ? TimeSpan.FromSeconds(seconds) : TimeSpan.Zero;
        return valid;
    }

    [GeneratedRegex(@"(?<amount>\d+(?:\.\d+)?)(?<unit>ms|s|m|h)")]
    private static partial Regex Part();
}

namespace Bidder.Domain;

/// <summary>
/// Money has at most 2 fraction digits, so the stores keep it as a whole number of cents: exact,
/// compact, and compared as integers.
/// </summary>
public static class Money
{
    public const int FractionDigits = 2;

    /// <summary>The largest amount any store can hold: cents must fit in a 64-bit integer.</summary>
    public const decimal MaxValue = 90_000_000_000_000_000m;

    /// <summary><see cref="MaxValue"/> and the smallest positive amount, as attribute arguments (a unit test holds them equal).</summary>
    public const string MaxValueText = "90000000000000000";
    public const string MinValueText = "0.01";

    public static bool HasAtMostTwoDecimals(decimal value) => decimal.Round(value, FractionDigits) == value;

    public static long ToCents(decimal value) => checked((long)(value * 100m));

    /// <summary>
    /// The amount in cents when it fits a 64-bit integer. A bid read from the topic may carry any decimal
    /// (the API refuses such values, other producers may not): it is rejected as too high and recorded
    /// as it came, so the stores keep an amount that does not fit in another form.
    /// </summary>
    public static bool TryToCents(decimal value, out long cents)
    {
        if (value is > MaxValue or < -MaxValue)
        {
            cents = 0;
            return false;
        }

        cents = (long)(value * 100m);
        return true;
    }

    public static decimal FromCents(long cents) => decimal.Round(cents / 100m, FractionDigits);
}

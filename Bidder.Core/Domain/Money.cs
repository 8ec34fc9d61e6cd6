namespace Bidder.Core.Domain;

/// <summary>
/// Money has at most 2 fraction digits, so the stores keep it as a whole number of cents: exact,
/// compact, and compared as integers.
/// </summary>
public static class Money
{
    public const int FractionDigits = 2;

    /// <summary>The largest amount any store can hold: cents must fit in a 64-bit integer.</summary>
    public const decimal MaxValue = 90_000_000_000_000_000m;

    public static bool HasAtMostTwoDecimals(decimal value) => decimal.Round(value, FractionDigits) == value;

    public static long ToCents(decimal value) => checked((long)(value * 100m));

    public static decimal FromCents(long cents) => decimal.Round(cents / 100m, FractionDigits);
}

namespace Bidder.Domain;

public static class Clock
{
    /// <summary>
    /// Now, to the millisecond: the precision every store keeps (BSON dates, SQLite Unix milliseconds), so
    /// what a create answers is exactly what a later read returns.
    /// </summary>
    public static DateTimeOffset GetUtcNowMilliseconds(this TimeProvider time) =>
        DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());
}

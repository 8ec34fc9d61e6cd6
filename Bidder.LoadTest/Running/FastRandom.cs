namespace Bidder.LoadTest.Running;

/// <summary>
/// SplitMix64: a tiny deterministic generator made afresh for every request from the seed and the request's
/// number. The same seed therefore makes the same choices for request N at any concurrency, and no Random
/// object is allocated or shared between threads.
/// </summary>
internal struct FastRandom
{
    private ulong _state;

    private FastRandom(ulong state) => _state = state;

    public static FastRandom For(long seed, long sequence) => new(Mix((ulong)seed ^ Mix((ulong)sequence)));

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15;
        return Mix(_state);
    }

    /// <summary>A number in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A number in [0, maxExclusive); the modulo bias is far below what a load mix can notice.</summary>
    public int Next(int maxExclusive) => maxExclusive <= 1 ? 0 : (int)(NextUInt64() % (ulong)maxExclusive);

    /// <summary>A number in [min, maxInclusive].</summary>
    public long NextInt64(long min, long maxInclusive) =>
        maxInclusive <= min ? min : min + (long)(NextUInt64() % (ulong)(maxInclusive - min + 1));

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}

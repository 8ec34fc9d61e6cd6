using System.Numerics;

namespace Bidder.LoadTest.Running;

/// <summary>Latency percentiles in milliseconds.</summary>
internal readonly record struct LatencySummary(long Count, double MeanMs, double P50Ms, double P95Ms, double P99Ms, double MaxMs)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0, 0);
}

/// <summary>
/// A fixed-size, lock-free latency histogram in microseconds, bucketed log-linearly like HdrHistogram: exact
/// below 64 µs, then 32 buckets per power of two, so a percentile is within about 2 % of the true value. It
/// takes 10 KB whatever the number of requests, and recording is two interlocked increments.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int ExactBelow = SubBuckets * 2;
    private const int HighestBit = 40; // 2^40 µs is 12 days: nothing a request can reach.
    public const int BucketCount = ExactBelow + (HighestBit - SubBucketBits) * SubBuckets;

    private readonly long[] _counts = new long[BucketCount];
    private long _totalMicros;
    private long _maxMicros;

    public void Record(TimeSpan elapsed)
    {
        var micros = Math.Clamp(elapsed.Ticks / TimeSpan.TicksPerMicrosecond, 0, (1L << HighestBit) - 1);
        Interlocked.Increment(ref _counts[IndexOf(micros)]);
        Interlocked.Add(ref _totalMicros, micros);
        var max = Volatile.Read(ref _maxMicros);
        while (micros > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxMicros, micros, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }
    }

    /// <summary>A copy of the counts, to subtract from a later copy for the percentiles of an interval.</summary>
    public long[] Snapshot()
    {
        var copy = new long[BucketCount];
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = Volatile.Read(ref _counts[i]);
        }

        return copy;
    }

    public LatencySummary Summarize()
    {
        var counts = Snapshot();
        var count = counts.Sum();
        return count == 0
            ? LatencySummary.Empty
            : Summarize(counts, Volatile.Read(ref _totalMicros) / 1000.0 / count, Volatile.Read(ref _maxMicros));
    }

    /// <summary>The percentiles of what was recorded between two snapshots.</summary>
    public static LatencySummary Between(long[] earlier, long[] later)
    {
        var counts = new long[BucketCount];
        for (var i = 0; i < counts.Length; i++)
        {
            counts[i] = later[i] - earlier[i];
        }

        return Summarize(counts, meanMs: double.NaN, maxMicros: null);
    }

    private static LatencySummary Summarize(long[] counts, double meanMs, long? maxMicros)
    {
        var count = counts.Sum();
        if (count == 0)
        {
            return LatencySummary.Empty;
        }

        var max = maxMicros ?? ValueOf(Array.FindLastIndex(counts, c => c > 0));
        double Percentile(double fraction)
        {
            var rank = (long)Math.Ceiling(fraction * count);
            long seen = 0;
            for (var i = 0; i < counts.Length; i++)
            {
                seen += counts[i];
                if (seen >= rank)
                {
                    return Math.Min(ValueOf(i), max) / 1000.0;
                }
            }

            return max / 1000.0;
        }

        var mean = double.IsNaN(meanMs) ? MeanOf(counts, count) : meanMs;
        return new LatencySummary(count, mean, Percentile(0.50), Percentile(0.95), Percentile(0.99), max / 1000.0);
    }

    private static double MeanOf(long[] counts, long count)
    {
        double total = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            total += counts[i] * (double)ValueOf(i);
        }

        return total / count / 1000.0;
    }

    private static int IndexOf(long micros)
    {
        if (micros < ExactBelow)
        {
            return (int)micros;
        }

        var highestBit = 63 - BitOperations.LeadingZeroCount((ulong)micros);
        var shift = highestBit - SubBucketBits;
        var subBucket = (int)(micros >> shift) - SubBuckets;
        return ExactBelow + (highestBit - SubBucketBits - 1) * SubBuckets + subBucket;
    }

    /// <summary>The middle of the bucket: half its width off at most.</summary>
    private static long ValueOf(int index)
    {
        if (index < ExactBelow)
        {
            return index;
        }

        var offset = index - ExactBelow;
        var highestBit = offset / SubBuckets + SubBucketBits + 1;
        var shift = highestBit - SubBucketBits;
        var low = (long)(offset % SubBuckets + SubBuckets) << shift;
        return low + (1L << shift) / 2;
    }
}

namespace Bidder.Benchmarks.Harness;

internal static class Percentiles
{
    /// <summary>The nearest-rank percentile of <paramref name="samples"/> (sorted in place), or NaN when empty.</summary>
    public static double Of(List<double> samples, double percentile)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        samples.Sort();
        var rank = (int)Math.Ceiling(percentile / 100 * samples.Count) - 1;
        return samples[Math.Clamp(rank, 0, samples.Count - 1)];
    }
}

using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

public static class BenchmarkSuite
{
    public static IEnumerable<IBenchmark> All(BenchOptions options)
    {
        var sizes = options.Quick ? BenchSizes.Quick : BenchSizes.Full;
        yield return new IngestBenchmark(sizes);
        yield return new PipelineBenchmark(sizes);
        yield return new FreshnessBenchmark(sizes);
        yield return new LiveFreshnessBenchmark(sizes);
        yield return new ScaleBenchmark(sizes);
    }
}

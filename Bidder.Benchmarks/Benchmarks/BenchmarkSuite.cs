using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

public static class BenchmarkSuite
{
    public static IEnumerable<IBenchmark> All(BenchOptions options)
    {
        var sizes = options.Quick ? BenchSizes.Quick : BenchSizes.Full;
        yield return new IngestBenchmark(sizes);
        var pipeline = new PipelineBenchmark(sizes);
        yield return pipeline;
        // Right after the pipeline, against its figure: the store alone, then a minimal writer against the store.
        var store = new StoreBenchmark(sizes, pipeline, options.Mode);
        yield return store;
        yield return new MinimalWriterBenchmark(store);
        yield return new FreshnessBenchmark(sizes);
        yield return new LiveFreshnessBenchmark(sizes);
        yield return new ScaleBenchmark(sizes);
        yield return new TailBenchmark(sizes);
    }
}

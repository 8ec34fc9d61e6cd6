using System.Diagnostics;
using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>
/// The store alone against the least code that writes the same rows (<see cref="MinimalWriter"/>), on a copy of the
/// same seeded file, right after it: so the store's own limit cannot fall unseen behind its adapter. Both files are
/// compared afterwards; the benchmark fails if they do not hold the same rows. The minimal writer is SQLite's: in
/// containers mode, where the store benchmark writes MongoDB, the line is a reference without a goal, saying so.
/// </summary>
public sealed class MinimalWriterBenchmark(StoreBenchmark store) : IBenchmark
{
    public string Name => BenchmarkNames.Store;

    public string Description => store.OnMongoDB
        ? "the minimal writer is SQLite's: not compared with the MongoDB store"
        : "the same rows by a minimal writer (prepared statements, one transaction per batch), vs the adapter";

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var workload = store.Workload ?? throw new InvalidOperationException("The minimal writer writes what the store benchmark wrote, which did not run.");
        if (store.OnMongoDB)
        {
            return BenchResult.Reference("store-vs-minimal", double.NaN, new Dictionary<string, double>
            {
                ["store_bids_per_s"] = store.StorePerSecond!.Value,
            }, app.TakeStageReports());
        }

        try
        {
            // Warmed up as the store was: the first batches on a copy of their own.
            var warmUp = Path.Combine(store.Folder!, "warm-up-minimal.db");
            File.Copy(store.SeededFile, warmUp);
            await using (var writer = await MinimalWriter.OpenAsync(warmUp))
            {
                foreach (var batch in workload.Batches.Take(StoreWorkload.WarmUpBatches))
                {
                    writer.Write(batch);
                }
            }

            var file = Path.Combine(store.Folder!, "minimal.db");
            File.Copy(store.SeededFile, file);
            TimeSpan elapsed;
            await using (var writer = await MinimalWriter.OpenAsync(file))
            {
                var clock = Stopwatch.StartNew();
                foreach (var batch in workload.Batches)
                {
                    writer.Write(batch);
                }

                elapsed = clock.Elapsed;
            }

            var written = await StoreWorkload.SummarizeAsync(file);
            var expected = await StoreWorkload.SummarizeAsync(store.StoreFile);
            if (written != expected)
            {
                throw new InvalidOperationException($"The minimal writer did not write the adapter's rows: {written} against {expected}.");
            }

            Console.WriteLine($"   {Name}: minimal writer done in {elapsed.TotalSeconds:0.00} s; both files hold {written}");
            var minimalPerSecond = workload.Bids / elapsed.TotalSeconds;
            var ratio = store.StorePerSecond!.Value / minimalPerSecond;
            return new BenchResult("store-vs-minimal", ratio, ">=0.9", ratio >= 0.9, new Dictionary<string, double>
            {
                ["store_bids_per_s"] = store.StorePerSecond.Value,
                ["minimal_bids_per_s"] = minimalPerSecond,
            }, app.TakeStageReports());
        }
        finally
        {
            Directory.Delete(store.Folder!, recursive: true);
        }
    }
}

using Bidder.Benchmarks.Harness;
using Bidder.Core.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>
/// The store's own limit: the rows the pipeline benchmark's streamer writes (the same feed, decided by the streamer's
/// code beforehand, in batches of its size), written through the same adapter call, <c>RecordBatchAsync</c>, on a
/// fresh database set up as the streamer's is, with nothing else on the clock: no Kafka, no decoding, no lookups,
/// no rules. The pipeline's bids/s of the same run against it is how close the pipeline comes to its store. The
/// adapter is the one the streamer writes with: SQLite (a fresh file) in embedded mode, MongoDB (a database of its own
/// on the app's server, <see cref="MongoStoreWriter"/>) in containers mode.
/// </summary>
public sealed class StoreBenchmark(BenchSizes sizes, PipelineBenchmark pipeline, string mode) : IBenchmark
{
    public string Name => BenchmarkNames.Store;

    /// <summary>Its ratio is the pipeline's bids/s of this run against the store's.</summary>
    public IReadOnlyList<string> Uses => [BenchmarkNames.Pipeline];

    /// <summary>Containers mode: the streamer writes MongoDB, and so does this; the minimal writer is SQLite's only.</summary>
    public bool OnMongoDB => mode == "containers";

    public string Description =>
        $"the pipeline's {sizes.PipelineBids:N0} bids over {sizes.PipelineItems:N0} items through the {(OnMongoDB ? "MongoDB" : "SQLite")} adapter alone, vs the pipeline";

    /// <summary>What was written, for <see cref="MinimalWriterBenchmark"/> to write again.</summary>
    public StoreWorkload? Workload { get; private set; }

    /// <summary>The folder of the files: the seeded one (before the feed) and the adapter's (after it). The minimal writer removes it.</summary>
    public string? Folder { get; private set; }

    public string SeededFile => Path.Combine(Folder!, "seeded.db");

    public string StoreFile => Path.Combine(Folder!, "store.db");

    public double? StorePerSecond { get; private set; }

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var pipelinePerSecond = pipeline.StreamerPerSecond
            ?? throw new InvalidOperationException("The store's ratio is against the pipeline of the same run, which did not run.");

        var workload = StoreWorkload.Build(sizes.PipelineBids, sizes.PipelineItems, app.Partitions(BenchApp.BidsTopic).Count);
        Workload = workload;
        // The CPU time is this process's: with MongoDB, the server's own work (in its container) is not in it.
        var (elapsed, cpu) = OnMongoDB
            ? await MongoStoreWriter.WriteAsync(await app.DatabaseConnectionStringAsync(), workload)
            : await WriteSqliteAsync(workload);
        var storeCpuPerBid = cpu / workload.Bids;

        StorePerSecond = workload.Bids / elapsed.TotalSeconds;
        Console.WriteLine($"   {Name}: {workload.Bids:N0} bids in {workload.Batches.Count:N0} batches: {workload.Accepted:N0} accepted, "
            + $"{workload.ItemStates:N0} item states, written in {elapsed.TotalSeconds:0.00} s");
        var ratio = pipelinePerSecond / StorePerSecond.Value;
        return new BenchResult("pipeline-vs-store", ratio, ">=0.9", ratio >= 0.9, new Dictionary<string, double>
        {
            ["pipeline_bids_per_s"] = pipelinePerSecond,
            ["store_bids_per_s"] = StorePerSecond.Value,
            ["pipeline_streamer_cpu_us_per_bid"] = pipeline.StreamerCpuPerBid?.TotalMicroseconds ?? double.NaN,
            ["store_cpu_us_per_bid"] = storeCpuPerBid.TotalMicroseconds,
        }, app.TakeStageReports());
    }

    /// <summary>The SQLite adapter on a fresh copy of the seeded file, after a warm-up on another copy.</summary>
    private async Task<(TimeSpan Elapsed, TimeSpan Cpu)> WriteSqliteAsync(StoreWorkload workload)
    {
        Folder = StoreWorkload.NewFolder();
        await workload.CreateSeededFileAsync(SeededFile);
        File.Copy(SeededFile, StoreFile);

        var warmUp = Path.Combine(Folder, "warm-up.db");
        File.Copy(SeededFile, warmUp);
        var scratch = new SqliteBidderStore(StoreWorkload.ConnectionString(warmUp));
        await scratch.InitializeAsync(CancellationToken.None);
        await StoreWorkload.WarmUpAsync(scratch, workload.Batches);

        var store = new SqliteBidderStore(StoreWorkload.ConnectionString(StoreFile));
        // The streamer initializes its store at start-up, before its first batch (idempotent on a made file).
        await store.InitializeAsync(CancellationToken.None);
        var timed = await StoreWorkload.TimeWritesAsync(store, workload.Batches);
        SqliteConnection.ClearAllPools();
        return timed;
    }
}

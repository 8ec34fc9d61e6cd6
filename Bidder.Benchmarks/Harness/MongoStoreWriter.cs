using Bidder.Core.Storage;
using Bidder.Core.Storage.Mongo;
using MongoDB.Driver;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// The store benchmark's workload through the MongoDB adapter, for containers mode, where the streamer writes MongoDB:
/// the same batches and <c>RecordBatchAsync</c> calls, on a database of their own on the app's server (seeded with the
/// workload's users and items through the adapter, as the API creates them), after the same warm-up on another. Both
/// databases are dropped afterwards.
/// </summary>
public static class MongoStoreWriter
{
    private const int SeedConcurrency = 16;

    /// <summary>Writes every batch of <paramref name="workload"/>, timed (<see cref="StoreWorkload.TimeWritesAsync"/>).</summary>
    public static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> WriteAsync(string connectionString, StoreWorkload workload)
    {
        var url = MongoUrl.Create(connectionString);
        using var client = new MongoClient(MongoClientSettings.FromUrl(url));
        var name = $"bench_store_{DateTime.UtcNow:yyyyMMddHHmmss}_{Guid.NewGuid():N}"[..40];
        var names = new[] { $"{name}_warm", name };
        // This store cannot refuse a batch whole (IBatchRecorder.RefusesRecordedBids is false), so the streamer asks
        // which bids are recorded before deciding and never hands it a batch marked as new bids: nor does this.
        var batches = workload.Batches.Select(batch => batch with { BidsAreNew = false }).ToList();
        try
        {
            await StoreWorkload.WarmUpAsync(await SeededAsync(client.GetDatabase(names[0]), workload), batches);

            var store = await SeededAsync(client.GetDatabase(names[1]), workload);
            return await StoreWorkload.TimeWritesAsync(store, batches);
        }
        finally
        {
            foreach (var database in names)
            {
                try
                {
                    await client.DropDatabaseAsync(database);
                }
                catch (Exception ex) when (ex is MongoException or TimeoutException)
                {
                    // Not the run's failure (which this would hide): said, and the other one is still dropped.
                    Console.WriteLine($"   store: the scratch database {database} could not be dropped: {ex.Message}");
                }
            }
        }
    }

    /// <summary>The adapter on <paramref name="database"/>, its indexes made and the workload's users and items created.</summary>
    private static async Task<MongoBidderStore> SeededAsync(IMongoDatabase database, StoreWorkload workload)
    {
        var store = new MongoBidderStore(database);
        await store.InitializeAsync(CancellationToken.None);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = SeedConcurrency };
        await Parallel.ForEachAsync(workload.UserRows.Prepend(workload.Seller), parallel,
            async (user, cancellationToken) => await store.CreateUserAsync(user, cancellationToken));
        await Parallel.ForEachAsync(workload.ItemRows, parallel,
            async (item, cancellationToken) => await store.CreateItemAsync(item, cancellationToken));
        return store;
    }
}

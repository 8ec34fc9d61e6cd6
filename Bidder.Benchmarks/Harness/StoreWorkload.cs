using System.Diagnostics;
using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Bidder.Core.Storage.Sqlite;
using Bidder.Domain;
using Bidder.Streamer.Pipeline;
using Confluent.Kafka;
using Microsoft.Data.Sqlite;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// What the pipeline benchmark's streamer writes, made without Kafka or a database: the same users and items
/// (as many, the same starting prices), the same feed (<see cref="BidFeed"/>, the same seed), cut into batches of
/// the streamer's <see cref="StreamerOptions.MaxBatchSize"/> and decided by the streamer's own code (its decoder and
/// <see cref="BatchProcessor"/>, with the item table it keeps), so every <see cref="ProcessedBatch"/> holds the
/// accepted and rejected bids, the user counts and the item states the pipeline records. Built before any clock
/// starts: the store benchmarks time the writes only.
/// </summary>
public sealed class StoreWorkload
{
    /// <summary>As many users as the pipeline benchmark seeds.</summary>
    public const int Users = 1_000;

    /// <summary>How many of the batches the store and the minimal writer write on a scratch file before they are timed.</summary>
    public const int WarmUpBatches = 20;

    private StoreWorkload(User seller, IReadOnlyList<User> users, IReadOnlyList<Item> items, IReadOnlyList<ProcessedBatch> batches)
    {
        Seller = seller;
        UserRows = users;
        ItemRows = items;
        Batches = batches;
    }

    /// <summary>The items' seller (the pipeline benchmark's has an account of its own and never bids).</summary>
    public User Seller { get; }

    public IReadOnlyList<User> UserRows { get; }

    public IReadOnlyList<Item> ItemRows { get; }

    public IReadOnlyList<ProcessedBatch> Batches { get; }

    public int Bids => Batches.Sum(b => b.Bids.Count);

    public int Accepted => Batches.Sum(b => b.Bids.Count(bid => bid.Status == BidStatus.Accepted));

    public int ItemStates => Batches.Sum(b => b.Items.Count);

    /// <summary>Decides <paramref name="bids"/> bids over <paramref name="itemCount"/> items as the streamer would, over <paramref name="partitions"/> partitions.</summary>
    public static StoreWorkload Build(int bids, int itemCount, int partitions)
    {
        var now = TimeProvider.System.GetUtcNowMilliseconds();
        // As the API creates them (POST /users/, POST /items/ by a seller, Seeder's names, prices and end date).
        var seller = new User(TimeOrderedIds.Next(now), "store seller", 0, now);
        var users = Enumerable.Range(0, Users).Select(i => new User(TimeOrderedIds.Next(now), $"store user {i}", 0, now)).ToList();
        var items = Enumerable.Range(0, itemCount).Select(i => new Item(
            TimeOrderedIds.Next(now), $"store item {i}", 10m + (i % 50), 0m, null, null, "EUR", [], 0, now, now.AddDays(7), seller.Id)).ToList();

        var options = new StreamerOptions();
        var table = new ItemTable();
        for (var partition = 0; partition < partitions; partition++)
        {
            // What the streamer restores from the item-changelog topic for these new items: nothing yet.
            table.Load(partition, new Dictionary<Guid, ItemTableEntry>());
        }

        var processor = new BatchProcessor(new BidRules(BidRules.DefaultMaxBidValue), table);
        // Every user exists and no bid is recorded yet: what the streamer's three lookups find for a fresh feed. The
        // items lookup is the items as created: the rows the table keeps are newer, so the processor takes those (as
        // the streamer does once the database holds the states it wrote).
        var lookups = new BatchLookups(users.Select(u => u.Id).ToHashSet(), items.ToDictionary(i => i.Id), new Dictionary<Guid, Bid>(), new HashSet<Guid>());
        var offsets = new long[partitions];
        var decoded = BidFeed.Bids([.. users.Select(u => u.Id)], [.. items.Select(i => new SeededItem(i.Id, i.InitBid))], bids, seed: bids)
            .Select(message =>
            {
                // Keyed by item as the API produces them, so each item's bids keep their order in one partition.
                var partition = ItemPartitioner.Partition(Guid.Parse(message.Key), partitions);
                var source = new ConsumeResult<string, byte[]>
                {
                    Message = message,
                    TopicPartitionOffset = new TopicPartitionOffset(BenchApp.BidsTopic, partition, offsets[partition]++),
                };
                return BidDecoder.Decode(source, options.MaxClockSkew);
            });

        // The streamer's batches hold up to MaxBatchSize of whatever its poll fetched from its partitions; here they are
        // cut from the feed in order. Each item's bids come in the same order either way, so the same bids are accepted,
        // rejected and counted, and each batch writes one state per item it changed.
        var batches = new List<ProcessedBatch>();
        foreach (var chunk in decoded.Chunk(options.MaxBatchSize))
        {
            var outcome = processor.Process(chunk, lookups, TimeProvider.System.GetUtcNowMilliseconds());
            batches.Add(outcome.ToDatabaseBatch());
            processor.Keep(outcome);
        }

        return new StoreWorkload(seller, users, items, batches);
    }

    /// <summary>
    /// The first <see cref="WarmUpBatches"/> batches through <paramref name="store"/> (a scratch database of its own), as
    /// the streamer is warmed up before it is timed (PipelineRun): the timed writes are then not the adapter's and its
    /// driver's code being compiled.
    /// </summary>
    public static async Task WarmUpAsync(IBatchRecorder store, IEnumerable<ProcessedBatch> batches)
    {
        foreach (var batch in batches.Take(WarmUpBatches))
        {
            await store.RecordBatchAsync(batch, CancellationToken.None);
        }
    }

    /// <summary>The writes the store benchmark times: every batch through <paramref name="store"/>, one after the other.</summary>
    /// <returns>The wall time they took, and this process's CPU time meanwhile (the writes, and whatever the idle AppHost it hosts does: little).</returns>
    public static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> TimeWritesAsync(IBatchRecorder store, IEnumerable<ProcessedBatch> batches)
    {
        var cpu = ServiceProcesses.HarnessCpuTime();
        var clock = Stopwatch.StartNew();
        foreach (var batch in batches)
        {
            await store.RecordBatchAsync(batch, CancellationToken.None);
        }

        return (clock.Elapsed, ServiceProcesses.HarnessCpuTime() - cpu);
    }

    /// <summary>
    /// A fresh SQLite file with the users and items written, as the streamer and the API find it before the feed:
    /// made by the adapter (the streamer's initialization, then the API's creates), then closed, so it can be copied.
    /// </summary>
    public async Task CreateSeededFileAsync(string path)
    {
        var connectionString = ConnectionString(path);
        var store = new SqliteBidderStore(connectionString);
        // What the streamer's StorageInitializer runs at start-up, in this order.
        await store.InitializeAsync(CancellationToken.None);
        await new SqliteAccountStore(connectionString).InitializeAsync(CancellationToken.None);
        foreach (var user in UserRows.Prepend(Seller))
        {
            await store.CreateUserAsync(user, CancellationToken.None);
        }

        foreach (var item in ItemRows)
        {
            await store.CreateItemAsync(item, CancellationToken.None);
        }

        // Everything in the main file and the WAL emptied, every pooled handle closed: a copy is the whole database.
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            await checkpoint.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>The connection string the AppHost gives the services for the embedded database (EmbeddedSqliteResource).</summary>
    public static string ConnectionString(string path) => $"Data Source={path}";

    /// <summary>
    /// A few sums over what a file holds after the feed (bids by status, values, versions; users' counts; items'
    /// states), to check that two writers wrote the same rows.
    /// </summary>
    public static async Task<string> SummarizeAsync(string path)
    {
        await using var connection = new SqliteConnection(ConnectionString(path));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT count(*) || ' bids, ' || total(status = 1) || ' accepted, values ' || total(value) || ', maxima ' || total(max_value)
                           || ', reasons ' || count(reason) || ', versions ' || total(item_version) FROM events)
                || '; user bids ' || (SELECT total(bids) FROM users)
                || '; items: winning ' || (SELECT total(winning_bid) || ', bids ' || total(bids) || ', versions ' || total(version)
                           || ', leaders ' || count(winning_bid_id) || ', maxima ' || total(leader_max) FROM items)
            """;
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A folder of its own next to the embedded database's (the same file system), removed by the caller.</summary>
    public static string NewFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "bidder-bench-store", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(folder);
        return folder;
    }
}

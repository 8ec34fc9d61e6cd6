using System.Diagnostics;
using Confluent.Kafka;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// Feeds bids for seeded users and items to the bids topic and times the streamer until it has committed
/// all of them. Optionally times a bare consumer (no decoding, no database) draining the same kind of
/// messages from a topic of its own.
/// </summary>
public static class PipelineRun
{
    /// <summary>
    /// The most bids the feed lets the streamer lag behind. The embedded broker keeps only a few MB per partition
    /// and deletes older messages: about 7,000 of today's bids (issue 16's first measurement saw 80,000 over 8
    /// partitions lose some 60,000 bids in 2 runs of 7, and count them as processed). 4,000 per partition stays well
    /// inside it, and the streamer, which takes 1,000 per batch, still never waits for work.
    /// </summary>
    private const long MaxBacklog = 32_000;

    // Enough messages for a steady rate, few enough to fit the embedded broker's per-partition limit.
    private const int BareConsumerMessages = 100_000;

    /// <summary>
    /// The timed run's bids/s, and the CPU time each side used per bid: the streamer's processes, the API's (it reads
    /// the item changelog for live pages) and this process's (the bid feed, the embedded broker, the AppHost). On a
    /// shared machine CPU per bid holds where bids/s does not: it is the same whether a process waited for a core.
    /// </summary>
    public sealed record Outcome(int Bids, double StreamerPerSecond, double BareConsumerPerSecond, TimeSpan StreamerCpuPerBid, TimeSpan ApiCpuPerBid, TimeSpan HarnessCpuPerBid);

    /// <summary>
    /// Bids the streamer takes, on items of their own, before its first timed run: a fresh process spends its first
    /// seconds of bids compiling (some 2,500 methods taken to their optimized tiers over three to four seconds, a
    /// third of a core on the compiler's thread), which is the start-up of a service that then runs for days, not its
    /// rate. As BenchmarkDotNet warms up before it measures; the store and the minimal writer warm up too.
    /// </summary>
    private const int WarmUpBids = 50_000;

    private const int WarmUpItems = 500;

    public static async Task<Outcome> RunAsync(BenchApp app, IReadOnlyList<Guid> users, IReadOnlyList<SeededItem> items, int bids, bool withBareConsumer)
    {
        var bare = withBareConsumer ? await BareConsumerAsync(app, users, items) : double.NaN;

        await WarmUpAsync(app, users);
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
        app.TakeStageReports();

        var (streamerCpu, apiCpu, harnessCpu) = (app.CpuTime("streamer"), app.CpuTime("api"), ServiceProcesses.HarnessCpuTime());
        var clock = Stopwatch.StartNew();
        await BidFeed.ProduceAsync(app.BootstrapServers, BenchApp.BidsTopic, BidFeed.Bids(users, items, bids, seed: bids), () => HoldWhileBehindAsync(app));
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(30));
        var elapsed = clock.Elapsed;
        return new Outcome(bids, bids / elapsed.TotalSeconds, bare,
            (app.CpuTime("streamer") - streamerCpu) / bids, (app.CpuTime("api") - apiCpu) / bids, (ServiceProcesses.HarnessCpuTime() - harnessCpu) / bids);
    }

    private static async Task HoldWhileBehindAsync(BenchApp app)
    {
        while (app.EndOffsets(BenchApp.BidsTopic).Values.Sum() - app.CommittedOffsets().Values.Sum() > MaxBacklog)
        {
            await Task.Delay(20);
        }
    }

    /// <summary>Once per app: bids on items of their own (the timed runs' items and rows stay as they would be).</summary>
    private static async Task WarmUpAsync(BenchApp app, IReadOnlyList<Guid> users)
    {
        if (app.StreamerWarmedUp)
        {
            return;
        }

        var items = await Seeder.ItemsAsync(app, await Accounts.RegisterAsync(app, "warm-up seller"), WarmUpItems, "warm-up");
        await BidFeed.ProduceAsync(app.BootstrapServers, BenchApp.BidsTopic, BidFeed.Bids(users, items, WarmUpBids, seed: 7), () => HoldWhileBehindAsync(app));
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
        app.StreamerWarmedUp = true;
    }

    private static async Task<double> BareConsumerAsync(BenchApp app, IReadOnlyList<Guid> users, IReadOnlyList<SeededItem> items)
    {
        var topic = $"bench-bare-{Guid.NewGuid():N}";
        var partitions = app.Partitions(BenchApp.BidsTopic).Count;
        await app.CreateTopicAsync(topic, partitions);
        await BidFeed.ProduceAsync(app.BootstrapServers, topic, BidFeed.Bids(users, items, BareConsumerMessages, seed: 1));

        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = app.BootstrapServers,
            GroupId = $"bench-bare-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(app.Partitions(topic).Select(p => new TopicPartitionOffset(p, Offset.Beginning)));

        var clock = Stopwatch.StartNew();
        long bytes = 0;
        for (var read = 0; read < BareConsumerMessages; read++)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"The bare consumer read {read} of {BareConsumerMessages} messages.");
            bytes += result.Message.Value.Length;
        }

        GC.KeepAlive(bytes);
        return BareConsumerMessages / clock.Elapsed.TotalSeconds;
    }
}

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
    /// The most bids the feed lets the streamer's committed offsets lag behind on any one partition (checked every 5,000
    /// bids handed over, some 600 a partition). The embedded broker keeps 5 MB per partition and deletes the oldest message
    /// sets past it, whole (up to 1 MB each here): at least some 14,000 of the feed's bids per partition (17,600–18,200
    /// measured: 200,000 produced to 8 partitions; issue 16's first measurement, with no working limit, lost 60,000 bids
    /// in a run). Per partition, because the streamer does not read its partitions alike: with a limit on the sum (64,000
    /// over 8) one partition fell 20,000 behind and lost bids to the broker (a `scale` run, BENCHMARKS.md). The committed
    /// offsets are not the streamer's position: while lagging it commits once per its commit interval (1 s), so the lag
    /// counted here holds a second of written bids besides the unread ones; with 32,000 in all the feed was held, and the
    /// streamer went without work, from about 29,000 bids/s. 10,000 a partition holds the feed only past 80,000 in all
    /// where the partitions go alike. A bid deleted unread all the same is an error of the streamer's, which fails the line
    /// measured and every line made from its figures (Program).
    /// </summary>
    private const long MaxPartitionBacklog = 10_000;

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
    /// seconds of bids compiling its hot code, which is the start-up of a service that then runs for days, not its
    /// rate. The runtime takes a method to its optimized tier only after it has run a while at each lower one, and
    /// not while new methods are still being compiled, so a method called once per batch needs many batches: one
    /// round of 50,000 bids left the compiler busy through most of the timed run (`dotnet-counters`: 2.4 s of
    /// compiling in its 11 s; BENCHMARKS.md). So the streamer takes rounds of bids until its compiler thread is
    /// nearly idle through three in a row (where /proc cannot be read, three rounds), as BenchmarkDotNet warms up
    /// until its figures are steady.
    /// </summary>
    private const int WarmUpRoundBids = 25_000;

    private const int MaxWarmUpRounds = 20;

    /// <summary>The runtime's background compiler thread, as /proc names it (15 characters of ".NET Tiered Compilation Worker").</summary>
    private const string CompilerThread = ".NET Tiered Com";

    /// <summary>
    /// Warm once the compiler thread was busy for less than <see cref="QuietCompilerShare"/> of each of
    /// <see cref="QuietRounds"/> rounds in a row: it works in bursts, and one quiet round was followed by a busy one.
    /// </summary>
    private const double QuietCompilerShare = 0.03;

    private const int QuietRounds = 3;

    private const int WarmUpItems = 500;

    public static async Task<Outcome> RunAsync(BenchApp app, IReadOnlyList<Guid> users, IReadOnlyList<SeededItem> items, int bids, bool withBareConsumer)
    {
        var bare = withBareConsumer ? await BareConsumerAsync(app, users, items) : double.NaN;

        await WarmUpAsync(app, users);
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
        app.TakeStageReports();

        // Made before the clock starts, as the store benchmark's rows are: on the clock the harness only produces them,
        // rather than making each bid (its id, its JSON) on the cores the pipeline is measured on.
        List<Message<string, byte[]>> feed = [.. BidFeed.Bids(users, items, bids, seed: bids)];
        var (streamerCpu, apiCpu, harnessCpu) = (app.CpuTime("streamer"), app.CpuTime("api"), ServiceProcesses.HarnessCpuTime());
        var clock = Stopwatch.StartNew();
        await BidFeed.ProduceAsync(app.BootstrapServers, BenchApp.BidsTopic, feed, HoldWhileBehind(app));
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(30));
        var elapsed = clock.Elapsed;
        return new Outcome(bids, bids / elapsed.TotalSeconds, bare,
            (app.CpuTime("streamer") - streamerCpu) / bids, (app.CpuTime("api") - apiCpu) / bids, (ServiceProcesses.HarnessCpuTime() - harnessCpu) / bids);
    }

    /// <summary>
    /// The feed's throttle: holds it while more than <see cref="MaxPartitionBacklog"/> of the bids it handed to its producer
    /// for any one partition are not committed by the streamer. Counted from what was handed over, not from the topic's
    /// end: a feed made before the clock starts hands bids to its producer far faster than they reach the broker, and the
    /// producer's queue (up to a million) then reached the topic at once, past what the embedded broker keeps (seen:
    /// 60,000 bids deleted unread in one `scale` run, counted as processed).
    /// </summary>
    private static BidFeed.Throttle HoldWhileBehind(BenchApp app)
    {
        // Made before anything is produced (the streamer caught up): the offsets the handed-over counts start from.
        var partitions = app.Partitions(BenchApp.BidsTopic);
        var start = app.EndOffsets(BenchApp.BidsTopic);
        return new BidFeed.Throttle(partitions.Count, async handed =>
        {
            while (true)
            {
                var committed = app.CommittedOffsets();
                if (partitions.All(p => start[p] + handed[p.Partition.Value] - committed.GetValueOrDefault(p) <= MaxPartitionBacklog))
                {
                    return;
                }

                await Task.Delay(20);
            }
        });
    }

    /// <summary>
    /// Once per app: rounds of bids on items of their own (the timed runs' items and rows stay as they would be), until
    /// the streamer's compiler thread is nearly idle through three in a row. Every round continues the same feed, so each bid
    /// still beats its item's last one as in the timed runs (a new feed would start again at the starting prices).
    /// </summary>
    private static async Task WarmUpAsync(BenchApp app, IReadOnlyList<Guid> users)
    {
        if (app.StreamerWarmedUp)
        {
            return;
        }

        var items = await Seeder.ItemsAsync(app, await Accounts.RegisterAsync(app, "warm-up seller"), WarmUpItems, "warm-up");
        using var feed = BidFeed.Bids(users, items, WarmUpRoundBids * MaxWarmUpRounds, seed: 7).GetEnumerator();
        var quiet = 0;
        for (var round = 1; round <= MaxWarmUpRounds; round++)
        {
            var compiler = app.ThreadCpuTime("streamer", CompilerThread);
            var clock = Stopwatch.StartNew();
            await BidFeed.ProduceAsync(app.BootstrapServers, BenchApp.BidsTopic, Take(feed, WarmUpRoundBids), HoldWhileBehind(app));
            await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
            // The thread ends when idle a while and starts again when needed: a negative difference is a new one.
            var share = Math.Max(0, (app.ThreadCpuTime("streamer", CompilerThread) - compiler) / clock.Elapsed);
            app.WarmUpRounds.Add(share);
            Console.WriteLine($"   warm-up round {round}: {WarmUpRoundBids:N0} bids in {clock.Elapsed.TotalSeconds:0.0} s, the streamer's compiler busy {share:P0} of it");
            quiet = share < QuietCompilerShare ? quiet + 1 : 0;
            if (quiet == QuietRounds)
            {
                break;
            }
        }

        app.StreamerWarmedUp = true;
    }

    private static IEnumerable<T> Take<T>(IEnumerator<T> source, int count)
    {
        for (var taken = 0; taken < count && source.MoveNext(); taken++)
        {
            yield return source.Current;
        }
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

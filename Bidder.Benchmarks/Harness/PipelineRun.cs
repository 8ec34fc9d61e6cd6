using System.Diagnostics;
using Confluent.Kafka;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// Fills the bids topic with bids for seeded users and items and times the streamer until it has committed
/// all of them; then times a bare consumer (no decoding, no database) draining the very same messages.
/// </summary>
public static class PipelineRun
{
    public sealed record Outcome(int Bids, double StreamerPerSecond, double BareConsumerPerSecond, double ProduceSeconds);

    public static async Task<Outcome> RunAsync(BenchApp app, IReadOnlyList<Guid> users, IReadOnlyList<SeededItem> items, int bids, bool withBareConsumer)
    {
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
        var start = app.EndOffsets(BenchApp.BidsTopic);
        app.TakeStageReports();

        // The streamer starts on the first bids while the rest are still being written: the producer is
        // far faster than the pipeline, so nearly all of the run drains a full topic.
        var clock = Stopwatch.StartNew();
        var produce = await BidFeed.ProduceAsync(app.BootstrapServers, users, items, bids, seed: bids);
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(30));
        var streamer = bids / clock.Elapsed.TotalSeconds;

        var bare = withBareConsumer ? DrainWithBareConsumer(app, start, bids) : double.NaN;
        return new Outcome(bids, streamer, bare, produce.TotalSeconds);
    }

    private static double DrainWithBareConsumer(BenchApp app, Dictionary<TopicPartition, long> start, int expected)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = app.BootstrapServers,
            GroupId = $"bench-bare-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(start.Select(s => new TopicPartitionOffset(s.Key, s.Value)));

        var clock = Stopwatch.StartNew();
        long bytes = 0;
        for (var read = 0; read < expected;)
        {
            var result = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"The bare consumer read {read} of {expected} messages.");
            bytes += result.Message.Value.Length;
            read++;
        }

        GC.KeepAlive(bytes);
        return expected / clock.Elapsed.TotalSeconds;
    }
}

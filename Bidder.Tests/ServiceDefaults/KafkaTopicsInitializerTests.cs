using Bidder.Core.Kafka;

namespace Bidder.Tests.ServiceDefaults;

/// <summary>
/// The topics the services create on a real cluster (the embedded broker's are the AppHost's, and it serves no
/// topic creation, so what a broker is asked is checked here).
/// </summary>
public class KafkaTopicsInitializerTests
{
    /// <summary>
    /// Every topic keeps its producers' timestamps, which the streamer compares with bid dates; the compacted ones
    /// roll and clean often enough that a restore reads the latest states, not every state ever written (Kafka
    /// compacts no segment still being written, and by default one rolls at 1 GiB or after 7 days).
    /// </summary>
    [Fact]
    public void Topics_keep_the_producers_timestamps_and_compacted_ones_roll_hourly()
    {
        var topics = new KafkaTopicsOptions();

        var bids = KafkaTopicsInitializer.Specification(topics.Bids);
        var changelog = KafkaTopicsInitializer.Specification(topics.ItemChangelog);

        Assert.Equal(("bids", 8, (short)-1), (bids.Name, bids.NumPartitions, bids.ReplicationFactor));
        Assert.Equal(new Dictionary<string, string> { ["message.timestamp.type"] = "CreateTime" }, bids.Configs);
        Assert.Equal(new Dictionary<string, string>
        {
            ["message.timestamp.type"] = "CreateTime",
            ["cleanup.policy"] = "compact",
            ["segment.ms"] = "3600000",
            ["min.cleanable.dirty.ratio"] = "0.1",
        }, changelog.Configs);
        Assert.Equal("compact", KafkaTopicsInitializer.Specification(topics.Auctions).Configs["cleanup.policy"]);
    }

    /// <summary>
    /// Where a managed cluster refuses client topic settings (Azure Event Hubs takes them in its own API), the topics are
    /// made again with only what Bidder cannot do without: their partitions and, for a compacted one, the policy.
    /// </summary>
    [Fact]
    public void Refused_settings_leave_the_partitions_and_the_compaction()
    {
        var topics = new KafkaTopicsOptions();

        Assert.Null(KafkaTopicsInitializer.Essential(topics.Bids).Configs);
        var changelog = KafkaTopicsInitializer.Essential(topics.ItemChangelog);
        Assert.Equal(8, changelog.NumPartitions);
        Assert.Equal(new Dictionary<string, string> { ["cleanup.policy"] = "compact" }, changelog.Configs);
    }
}

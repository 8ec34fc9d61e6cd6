using Bidder.Core.Kafka;
using Bidder.EmbeddedKafka;
using Bidder.Streamer.Pipeline;
using Bidder.Tests.Support;
using Confluent.Kafka;
using Bidder.ServiceDefaults.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bidder.Tests.Streamer;

public class ChangelogRestorerTests
{
    // Two writers around a rebalance can leave an item's records out of order. Seen failing with the earlier
    // restore, which kept each item's last record: the table went back to 20 with 2 bids.
    [Fact]
    public async Task The_newest_state_of_each_item_wins_whatever_order_its_records_are_in()
    {
        using var cluster = new MockKafkaCluster();
        var topics = new KafkaTopicsOptions();
        cluster.CreateTopic(topics.ItemChangelog.Name, 1);
        var (lamp, clock) = (Guid.CreateVersion7(), Guid.CreateVersion7());
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            foreach (var record in new[]
            {
                new ItemChangelogMessage(lamp, 30m, Guid.CreateVersion7(), Guid.CreateVersion7(), 3, now, SourceOffset: 12, Version: 4, BiddingEnddate: now),
                new ItemChangelogMessage(lamp, 20m, Guid.CreateVersion7(), Guid.CreateVersion7(), 2, now, SourceOffset: 7, Version: 2, BiddingEnddate: now),
                new ItemChangelogMessage(clock, 15m, Guid.CreateVersion7(), Guid.CreateVersion7(), 1, now, SourceOffset: 9, Version: 1, BiddingEnddate: now),
                new ItemChangelogMessage(clock, 15m, Guid.CreateVersion7(), Guid.CreateVersion7(), 1, now, SourceOffset: 4, Version: 1, BiddingEnddate: now),
                // Written before versions: the database holds its state, so a restore skips it.
                new ItemChangelogMessage(lamp, 99m, Guid.CreateVersion7(), Guid.CreateVersion7(), 9, now, SourceOffset: 20),
            })
            {
                await producer.ProduceAsync(new TopicPartition(topics.ItemChangelog.Name, 0),
                    new Message<string, byte[]> { Key = record.ItemId.ToString(), Value = PipelineJson.Serialize(record) }, TestContext.Current.CancellationToken);
            }
        }

        var consumers = new KafkaConsumerFactory<string, byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "bids-streamer" }, NullLoggerFactory.Instance);
        var restorer = new ChangelogRestorer(consumers, Options.Create(topics), NullLogger<ChangelogRestorer>.Instance);

        var rows = restorer.Restore(0);

        Assert.Equal((30m, 3L, 4L), (rows[lamp].State.WinningBid, rows[lamp].State.Bids, rows[lamp].State.Version));
        Assert.Equal(9, rows[clock].SourceOffset);
    }

    // Seen failing before tombstones were read: the closed lamp came back into the table at every restore; and with a
    // tombstone only removing what came before it, a late open state after it (a replica that lost the partition)
    // brought it back; a closed state without a tombstone (sent before there were any) stayed.
    [Fact]
    public async Task Closed_items_are_not_restored_with_or_without_their_tombstone_nor_by_a_state_after_it()
    {
        using var cluster = new MockKafkaCluster();
        var topics = new KafkaTopicsOptions();
        cluster.CreateTopic(topics.ItemChangelog.Name, 1);
        var (lamp, clock, vase) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);
        var closed = new ItemChangelogMessage(lamp, 30m, Guid.CreateVersion7(), Guid.CreateVersion7(), 3, now, SourceOffset: 12, Version: 5, BiddingEnddate: now,
            ClosedAt: now, Result: "sold");
        var late = new ItemChangelogMessage(lamp, 35m, Guid.CreateVersion7(), Guid.CreateVersion7(), 4, now, SourceOffset: 14, Version: 6, BiddingEnddate: now);
        var closedBeforeTombstones = new ItemChangelogMessage(vase, 8m, Guid.CreateVersion7(), Guid.CreateVersion7(), 1, now, SourceOffset: 3, Version: 2, BiddingEnddate: now,
            ClosedAt: now, Result: "sold");
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            var records = new[]
                {
                    new ItemChangelogMessage(lamp, 30m, Guid.CreateVersion7(), Guid.CreateVersion7(), 3, now, SourceOffset: 12, Version: 4, BiddingEnddate: now),
                    new ItemChangelogMessage(clock, 15m, Guid.CreateVersion7(), Guid.CreateVersion7(), 1, now, SourceOffset: 9, Version: 1, BiddingEnddate: now),
                }
                .SelectMany(record => RecordSender.Changelog(topics.ItemChangelog.Name, new Headers(), record))
                .Concat(RecordSender.Changelog(topics.ItemChangelog.Name, new Headers(), closed))
                .ToList();
            Assert.Null(records[^1].Record.Value);
            records.AddRange(RecordSender.Changelog(topics.ItemChangelog.Name, new Headers(), late));
            records.Add((topics.ItemChangelog.Name, new Message<string, byte[]> { Key = vase.ToString(), Value = PipelineJson.Serialize(closedBeforeTombstones) }));
            foreach (var (topic, record) in records)
            {
                await producer.ProduceAsync(new TopicPartition(topic, 0), record, TestContext.Current.CancellationToken);
            }
        }

        var consumers = new KafkaConsumerFactory<string, byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "bids-streamer" }, NullLoggerFactory.Instance);
        var restorer = new ChangelogRestorer(consumers, Options.Create(topics), NullLogger<ChangelogRestorer>.Instance);

        var rows = restorer.Restore(0);

        Assert.Equal([clock], rows.Keys);
    }
}

using Bidder.Core.Kafka;
using Confluent.Kafka;

namespace Bidder.Tests.Streamer;

/// <summary>
/// The streamer closes the auctions of its own partitions by computing each item's partition: it must be the
/// partition librdkafka's producer, configured as the API's is, actually puts the item's messages on.
/// </summary>
public class ItemPartitionerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(13)]
    public async Task An_items_partition_is_where_the_producer_puts_its_messages(int partitions)
    {
        using var cluster = new Bidder.EmbeddedKafka.MockKafkaCluster();
        cluster.CreateTopic("bids", partitions);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            Partitioner = Partitioner.ConsistentRandom,
        }).Build();

        for (var i = 0; i < 200; i++)
        {
            var item = Guid.CreateVersion7();
            var delivered = await producer.ProduceAsync("bids", new Message<string, byte[]> { Key = item.ToString(), Value = [1] }, TestContext.Current.CancellationToken);
            Assert.Equal(delivered.Partition.Value, ItemPartitioner.Partition(item, partitions));
        }
    }
}

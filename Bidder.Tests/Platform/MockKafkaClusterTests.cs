using Bidder.EmbeddedKafka;
using Bidder.Tests.Support;
using Confluent.Kafka;

namespace Bidder.Tests.Platform;

public class MockKafkaClusterTests
{
    [Fact]
    public void Topics_are_created_with_their_partition_counts()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("bids", 8);
        cluster.CreateTopic("invalid-bids", 3);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var topics = admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.ToDictionary(t => t.Topic, t => t.Partitions.Count);

        Assert.Equal(8, topics["bids"]);
        Assert.Equal(3, topics["invalid-bids"]);
    }

    [Fact]
    public async Task A_produced_message_is_consumed_from_the_same_partition_by_key()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("bids", 8);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
        }).Build();

        var first = await producer.ProduceAsync("bids", new Message<string, string> { Key = "item-1", Value = "a" }, TestContext.Current.CancellationToken);
        var second = await producer.ProduceAsync("bids", new Message<string, string> { Key = "item-1", Value = "b" }, TestContext.Current.CancellationToken);

        Assert.Equal(PersistenceStatus.Persisted, second.Status);
        Assert.Equal(first.Partition, second.Partition);
        Assert.Equal(first.Offset + 1, second.Offset);
    }

    [Fact]
    public async Task A_broker_that_is_down_fails_produce_requests_until_it_is_up_again()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("bids", 1);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            MessageTimeoutMs = 1500,
            ReconnectBackoffMaxMs = 500,
        }).SetLogHandler((_, _) => { }).Build();
        await producer.ProduceAsync("bids", new Message<string, string> { Key = "k", Value = "warm-up" }, TestContext.Current.CancellationToken);

        cluster.SetBrokerDown();
        var failure = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync("bids", new Message<string, string> { Key = "k", Value = "lost?" }, TestContext.Current.CancellationToken));
        Assert.Equal(PersistenceStatus.NotPersisted, failure.DeliveryResult.Status);

        cluster.SetBrokerUp();
        // The client reconnects with its own backoff: wait for the first delivery rather than guess how long that takes.
        var deadline = HangGuard.Token;
        DeliveryResult<string, string>? delivered = null;
        while (delivered is null)
        {
            try
            {
                delivered = await producer.ProduceAsync("bids", new Message<string, string> { Key = "k", Value = "back" }, deadline);
            }
            catch (ProduceException<string, string>) when (!deadline.IsCancellationRequested)
            {
            }
        }

        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
    }

    [Fact]
    public void Creating_a_topic_after_disposal_is_refused()
    {
        var cluster = new MockKafkaCluster();
        cluster.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cluster.CreateTopic("bids", 1));
    }
}

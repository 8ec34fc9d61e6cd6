using Bidder.Core.Kafka;
using Bidder.EmbeddedKafka;
using Bidder.Streamer.Pipeline;
using Confluent.Kafka;
using Bidder.ServiceDefaults.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bidder.Tests.Streamer;

public class PartitionAssignmentsTests
{
    // Before this change a failed restore threw out of the rebalance handler, out of the poll, and stopped
    // the pipeline while /health stayed Healthy.
    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_restore_that_fails_is_reported_by_health_and_retried_until_it_succeeds()
    {
        using var cluster = new MockKafkaCluster();
        var topics = new KafkaTopicsOptions();
        cluster.CreateTopic(topics.ItemChangelog.Name, 2);
        var options = Options.Create(new StreamerOptions());
        var health = new PipelineHealth(TimeProvider.System, options);
        var table = new ItemTable();
        var consumers = new KafkaConsumerFactory<string, byte[]>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "bids-streamer" }, NullLoggerFactory.Instance);
        var assignments = new PartitionAssignments(table, new ChangelogRestorer(consumers, Options.Create(topics), NullLogger<ChangelogRestorer>.Instance),
            health, TimeProvider.System, options, NullLogger<PartitionAssignments>.Instance);

        cluster.SetBrokerDown();
        assignments.OnAssigned([new TopicPartition(topics.Bids.Name, 1)]);

        Assert.True(assignments.IsAssigned(1));
        Assert.False(table.Holds(1));
        var degraded = await health.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
        Assert.NotEqual(HealthStatus.Healthy, degraded.Status);
        Assert.Contains("restoring the item table", degraded.Description);

        cluster.SetBrokerUp();
        assignments.RestoreUnrestored(force: true);

        Assert.True(table.Holds(1));
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken)).Status);

        // Revoked, the partition leaves with its table and its loss-detection position; what was fetched under
        // the old generation is no longer this streamer's to process.
        assignments.SetNextOffset(1, 10);
        var generation = assignments.Generation(1);
        assignments.OnRevoked([new TopicPartition(topics.Bids.Name, 1)], lost: false);

        Assert.False(assignments.IsAssigned(1));
        Assert.False(table.Holds(1));
        Assert.False(assignments.TryGetNextOffset(1, out _));
        Assert.NotEqual(generation, assignments.Generation(1));
    }
}

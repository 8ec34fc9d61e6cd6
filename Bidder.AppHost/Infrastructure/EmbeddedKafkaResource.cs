using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Bidder.Core.Kafka;
using Bidder.EmbeddedKafka;
using Bidder.ServiceDefaults.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bidder.AppHost.Infrastructure;

/// <summary>
/// Kafka without a container engine: librdkafka's mock cluster, hosted inside the AppHost process.
/// Its connection string is the bootstrap server list, known once the cluster has started.
/// </summary>
public sealed class EmbeddedKafkaResource(string name, int brokerCount) : Resource(name), IResourceWithConnectionString
{
    private readonly DeferredValue _bootstrapServers = new($"{{{name}.bindings.tcp.host}}:{{{name}.bindings.tcp.port}}");

    public int BrokerCount { get; } = brokerCount;

    /// <summary>The running cluster, for fault injection in tests; null until the resource has started.</summary>
    public MockKafkaCluster? Cluster { get; private set; }

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{_bootstrapServers}");

    internal MockKafkaCluster Start(IEnumerable<TopicOptions> topics)
    {
        var cluster = new MockKafkaCluster(BrokerCount);
        foreach (var topic in topics)
        {
            cluster.CreateTopic(topic.Name, topic.Partitions);
        }

        Cluster = cluster;
        _bootstrapServers.Set(cluster.BootstrapServers);
        return cluster;
    }
}

public static class EmbeddedKafkaBuilderExtensions
{
    public static IResourceBuilder<EmbeddedKafkaResource> AddEmbeddedKafka(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, KafkaTopicsOptions topics, int brokerCount = 1)
    {
        var resource = new EmbeddedKafkaResource(name, brokerCount);

        var healthCheckKey = $"{name}_check";
        var healthCheck = new Lazy<KafkaHealthCheck>(() => new KafkaHealthCheck(
            resource.Cluster?.BootstrapServers ?? throw new InvalidOperationException("The embedded broker has not started.")));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheckKey, _ => healthCheck.Value, failureStatus: default, tags: default));

        builder.Eventing.Subscribe<InitializeResourceEvent>(resource, async (e, ct) =>
        {
            await e.Notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.Starting });
            MockKafkaCluster cluster;
            try
            {
                cluster = resource.Start(topics.All);
            }
            catch (Exception ex)
            {
                e.Logger.LogError(ex, "The embedded Kafka broker could not start.");
                await e.Notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.FailedToStart });
                return;
            }

            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(cluster.Dispose);
            var topicList = string.Join(", ", topics.All.Select(t => $"{t.Name} ({t.Partitions})"));
            e.Logger.LogInformation("Embedded Kafka (librdkafka mock cluster, {Brokers} broker(s)) listening on {BootstrapServers}; topics: {Topics}. Data lives in memory for this run only.",
                cluster.BrokerCount, cluster.BootstrapServers, topicList);

            await e.Notifications.PublishUpdateAsync(resource, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                Properties = [.. s.Properties,
                    new("kafka.bootstrap_servers", cluster.BootstrapServers),
                    new("kafka.brokers", cluster.BrokerCount),
                    new("kafka.topics", topicList)],
            });
        });

        return builder.AddResource(resource)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "EmbeddedKafka",
                State = KnownResourceStates.NotStarted,
                Properties = [new(CustomResourceKnownProperties.Source, "librdkafka mock cluster")],
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }
}

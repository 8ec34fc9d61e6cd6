using System.Diagnostics;
using Bidder.EmbeddedKafka;
using Bidder.ServiceDefaults.Kafka;
using Bidder.Tests.Support;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Bidder.Tests.ServiceDefaults;

public class KafkaClientRegistrationTests
{
    [Fact]
    public async Task A_registered_producer_reaches_the_connection_string_cluster_and_reports_healthy()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("bids", 2);
        using var host = Build(new()
        {
            ["ConnectionStrings:kafka"] = cluster.BootstrapServers,
            ["Aspire:Confluent:Kafka:Producer:Config:linger.ms"] = "1",
        }, builder => builder.AddKafkaProducer<string, string>("kafka"));

        var producer = host.Services.GetRequiredService<IProducer<string, string>>();
        var delivered = await producer.ProduceAsync("bids", new Message<string, string> { Key = "k", Value = "v" }, TestContext.Timeout);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Timeout);

        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
        Assert.Equal(HealthStatus.Healthy, health.Entries["kafka-producer-kafka"].Status);
    }

    [Fact]
    public async Task The_health_check_turns_unhealthy_when_the_broker_is_down()
    {
        using var cluster = new MockKafkaCluster();
        using var host = Build(new() { ["ConnectionStrings:kafka"] = cluster.BootstrapServers },
            builder => builder.AddKafkaProducer<string, string>("kafka", configureBuilder: (_, b) => b.SetLogHandler((_, _) => { })));
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(TestContext.Timeout)).Status);

        cluster.SetBrokerDown();

        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(TestContext.Timeout)).Status);
    }

    [Fact]
    public void A_producer_without_a_connection_string_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Build(new(), builder => builder.AddKafkaProducer<string, string>("kafka")));

        Assert.Contains("ConnectionStrings:kafka", error.Message);
    }

    [Fact]
    public void A_consumer_without_a_group_id_is_refused_naming_the_setting()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            Build(new() { ["ConnectionStrings:kafka"] = "localhost:9092" }, builder => builder.AddKafkaConsumer<string, string>("kafka")));

        Assert.Contains("Aspire:Confluent:Kafka:Consumer:Config:GroupId", error.Message);
    }

    [Fact]
    public async Task The_trace_context_travels_in_message_headers_from_producer_to_consumer()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == KafkaTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("bids", 1);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "trace-test" }).Build();

        var message = new Message<string, string> { Key = "k", Value = "v", Headers = [] };
        string traceId;
        using (var publish = KafkaTelemetry.StartPublish("bids", message.Headers))
        {
            Assert.NotNull(publish);
            traceId = publish.TraceId.ToString();
            await producer.ProduceAsync("bids", message, TestContext.Timeout);
        }

        consumer.Assign(new TopicPartitionOffset("bids", 0, Offset.Beginning));
        var consumed = consumer.Consume(TestContext.Timeout);
        using var process = KafkaTelemetry.StartProcess("bids", consumed.Message.Headers, consumed.Partition, consumed.Offset);

        Assert.NotNull(process);
        Assert.Equal(traceId, process.TraceId.ToString());
        Assert.Equal(ActivityKind.Consumer, process.Kind);
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        configure(builder);
        return builder.Build();
    }
}

using System.Diagnostics;
using Bidder.EmbeddedKafka;
using Bidder.ServiceDefaults.Kafka;
using Bidder.Tests.Support;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
        var delivered = await producer.ProduceAsync("bids", new Message<string, string> { Key = "k", Value = "v" }, TestContext.Current.CancellationToken);
        var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(TestContext.Current.CancellationToken);

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
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Status);

        cluster.SetBrokerDown();

        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync(TestContext.Current.CancellationToken)).Status);
    }

    /// <summary>
    /// The bootstrap connection answers metadata whatever the brokers advertise, so the check also connects to each
    /// advertised address: one that takes no connection (a container's own port advertised to the host) is named, and
    /// the check is unhealthy, where it said healthy while every produce failed.
    /// </summary>
    [Fact]
    public async Task An_advertised_broker_address_that_takes_no_connection_is_named()
    {
        using var listening = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listening.Start();
        var open = ((System.Net.IPEndPoint)listening.LocalEndpoint).Port;
        var closed = FreePort();

        var unreachable = await KafkaHealthCheck.UnreachableAsync([("127.0.0.1", open), ("127.0.0.1", closed)], TestContext.Current.CancellationToken);

        Assert.Equal([$"127.0.0.1:{closed}"], unreachable);
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
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
        using (var publish = KafkaTelemetry.StartSend("bids", message.Headers))
        {
            Assert.NotNull(publish);
            traceId = publish.TraceId.ToString();
            await producer.ProduceAsync("bids", message, TestContext.Current.CancellationToken);
        }

        consumer.Assign(new TopicPartitionOffset("bids", 0, Offset.Beginning));
        var consumed = consumer.Consume(HangGuard.Token);
        using var process = KafkaTelemetry.StartProcess("bids", consumed.Message.Headers, consumed.Partition, consumed.Offset);

        Assert.NotNull(process);
        Assert.Equal(traceId, process.TraceId.ToString());
        Assert.Equal(ActivityKind.Consumer, process.Kind);
    }

    // Seen failing before the fix: the second span was the first's child, in its trace.
    [Fact]
    public void A_message_without_trace_context_starts_a_trace_of_its_own_whatever_span_is_current()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == KafkaTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var unrelated = KafkaTelemetry.StartSend("elsewhere");
        Assert.NotNull(unrelated);

        // As a consumer processing a batch does: one span per message, each current from its start until the next starts.
        using var first = KafkaTelemetry.StartProcess("bids", [], new Partition(0), new Offset(1));
        using var second = KafkaTelemetry.StartProcess("bids", [], new Partition(0), new Offset(2));

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal(default, first.ParentSpanId);
        Assert.Equal(default, second.ParentSpanId);
        Assert.NotEqual(unrelated.TraceId, first.TraceId);
        Assert.NotEqual(first.TraceId, second.TraceId);
        Assert.Same(second, Activity.Current);
    }

    // Before this change the topic initializer's admin client and the changelog restorer's consumer were
    // built from the bare bootstrap address: a secured cluster's settings never reached them.
    [Fact]
    public void Security_settings_reach_every_client_of_the_streamer_and_the_connection_string_wins()
    {
        var sasl = new Dictionary<string, string>
        {
            ["security.protocol"] = "sasl_plaintext",
            ["sasl.mechanism"] = "PLAIN",
            ["sasl.username"] = "bidder",
            ["sasl.password"] = "from-configuration",
        };
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "broker-from-connection-string:9092",
            ["Aspire:Confluent:Kafka:Producer:ConnectionString"] = "ignored:9092",
            ["Aspire:Confluent:Kafka:Consumer:Config:BootstrapServers"] = "ignored:9092",
        };
        foreach (var (key, value) in sasl)
        {
            settings[$"Aspire:Confluent:Kafka:Producer:Config:{key}"] = value;
            settings[$"Aspire:Confluent:Kafka:Consumer:Config:{key}"] = value;
        }

        using var host = Build(settings, builder =>
        {
            builder.AddKafkaProducer<string, byte[]>("kafka");
            builder.AddKafkaConsumer<string, byte[]>("kafka", s => s.Config.GroupId = "bids-streamer");
        });

        // The producer (and so the topic initializer's admin client, which runs on the producer's handle), the
        // consumer, and a consumer the factory makes for a restore, with its own overrides.
        var restore = host.Services.GetRequiredService<KafkaConsumerFactory<string, byte[]>>().Config;
        restore.GroupId = "bids-streamer-restore";
        var configs = new Dictionary<string, IEnumerable<KeyValuePair<string, string>>>
        {
            ["producer"] = host.Services.GetRequiredKeyedService<KafkaProducerSettings>("kafka").Config,
            ["consumer"] = host.Services.GetRequiredKeyedService<KafkaConsumerSettings>("kafka").Config,
            ["restore consumer"] = restore,
        };
        foreach (var (client, config) in configs)
        {
            var entries = config.ToDictionary(e => e.Key, e => e.Value);
            Assert.All(sasl, expected => Assert.True(entries.GetValueOrDefault(expected.Key) == expected.Value, $"{client}: {expected.Key}"));
            Assert.Equal("broker-from-connection-string:9092", entries["bootstrap.servers"]);
        }
    }

    [Fact]
    public async Task Librdkafka_logs_go_to_the_services_logger()
    {
        var logs = new CapturedLogs();
        using var host = Build(new() { ["ConnectionStrings:kafka"] = "127.0.0.1:1" }, builder =>
        {
            builder.Logging.AddProvider(logs);
            builder.AddKafkaProducer<string, string>("kafka");
        });

        using var producer = host.Services.GetRequiredService<IProducer<string, string>>();
        producer.Produce("bids", new Message<string, string> { Key = "k", Value = "v" });

        var line = await Eventually.WaitAsync(() => Task.FromResult(logs.Entries.ToList()), lines => lines.Any(l => l.Category == "Confluent.Kafka"),
            "a librdkafka log line about the refused connection");
        Assert.Contains(line, l => l.Category == "Confluent.Kafka" && l.Message.Contains("127.0.0.1:1", StringComparison.Ordinal));
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        configure(builder);
        return builder.Build();
    }
}

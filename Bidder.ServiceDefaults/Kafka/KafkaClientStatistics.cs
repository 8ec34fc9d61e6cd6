using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>
/// Turns librdkafka's periodic statistics (statistics.interval.ms) into OpenTelemetry instruments:
/// messages sent and received, messages waiting in the client's queue, and consumer lag. One set of
/// instruments serves every client of the process; each client is a tag set.
/// </summary>
internal sealed class KafkaClientStatistics
{
    private static readonly ConcurrentBag<KafkaClientStatistics> Clients = [];

    private readonly KeyValuePair<string, object?>[] _tags;
    private long _sentMessages;
    private long _receivedMessages;
    private long _queuedMessages;
    private long _consumerLag;

    static KafkaClientStatistics()
    {
        var meter = KafkaTelemetry.Meter;
        meter.CreateObservableCounter("messaging.client.sent.messages", () => Observe(c => c._sentMessages), "{message}", "Messages sent to brokers.");
        meter.CreateObservableCounter("messaging.client.consumed.messages", () => Observe(c => c._receivedMessages), "{message}", "Messages received from brokers.");
        meter.CreateObservableGauge("messaging.kafka.client.queued_messages", () => Observe(c => c._queuedMessages), "{message}", "Messages waiting in the client's queues.");
        meter.CreateObservableGauge("messaging.kafka.consumer.lag", () => Observe(c => c._consumerLag), "{message}", "Messages behind the end of the assigned partitions.");
    }

    public KafkaClientStatistics(string connectionName, string clientKind)
    {
        _tags = [new("messaging.system", "kafka"), new("bidder.kafka.connection", connectionName), new("bidder.kafka.client", clientKind)];
        Clients.Add(this);
    }

    public void Update(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Interlocked.Exchange(ref _sentMessages, Read(root, "txmsgs"));
        Interlocked.Exchange(ref _receivedMessages, Read(root, "rxmsgs"));
        Interlocked.Exchange(ref _queuedMessages, Read(root, "msg_cnt"));
        Interlocked.Exchange(ref _consumerLag, SumConsumerLag(root));
    }

    private static IEnumerable<Measurement<long>> Observe(Func<KafkaClientStatistics, long> read) =>
        Clients.Select(client => new Measurement<long>(read(client), client._tags));

    private static long Read(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt64(out var number) ? number : 0;

    private static long SumConsumerLag(JsonElement root)
    {
        if (!root.TryGetProperty("topics", out var topics))
        {
            return 0;
        }

        long lag = 0;
        foreach (var topic in topics.EnumerateObject())
        {
            if (!topic.Value.TryGetProperty("partitions", out var partitions))
            {
                continue;
            }

            foreach (var partition in partitions.EnumerateObject())
            {
                // librdkafka lists an internal "-1" partition and reports -1 where the lag is unknown.
                var partitionLag = Read(partition.Value, "consumer_lag");
                if (partition.Name != "-1" && partitionLag > 0)
                {
                    lag += partitionLag;
                }
            }
        }

        return lag;
    }
}

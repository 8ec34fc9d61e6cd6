using System.Diagnostics;
using Confluent.Kafka;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// The limit the freshness benchmarks are measured against: a bare produce -> consume round trip on the app's
/// broker, at a steady rate, with the API's producer settings; a consumer in this process times each message's trip.
/// </summary>
public static class RoundTrip
{
    public static async Task<List<double>> MeasureAsync(BenchApp app, int perSecond, TimeSpan window)
    {
        var topic = $"bench-roundtrip-{Guid.NewGuid():N}";
        await app.CreateTopicAsync(topic, 8);

        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = app.BootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 2,
        }).Build();
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = app.BootstrapServers,
            GroupId = $"bench-roundtrip-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();

        var partitions = app.Partitions(topic);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var expected = (int)(perSecond * window.TotalSeconds);
        var latencies = new List<double>(expected);
        var reading = Task.Run(() =>
        {
            while (latencies.Count < expected)
            {
                var result = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException("The round-trip consumer stalled.");
                latencies.Add(Stopwatch.GetElapsedTime(BitConverter.ToInt64(result.Message.Value)).TotalMilliseconds);
            }
        });

        // A payload of a bid's size, led by the send time.
        var payload = new byte[200];
        await OpenLoop.RunAsync(perSecond, window, k =>
        {
            var value = (byte[])payload.Clone();
            BitConverter.TryWriteBytes(value, Stopwatch.GetTimestamp());
            producer.Produce(topic, new Message<string, byte[]> { Key = (k % 100).ToString(System.Globalization.CultureInfo.InvariantCulture), Value = value });
            return Task.CompletedTask;
        });
        producer.Flush(TimeSpan.FromSeconds(30));
        await reading;
        return latencies;
    }
}

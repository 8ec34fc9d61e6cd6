using Confluent.Kafka;

namespace Bidder.Tests.Support;

/// <summary>Reads a whole topic, every partition from its start to its current end, as a test consumer would.</summary>
internal static class TopicReader
{
    public static List<ConsumeResult<string, byte[]>> ReadAll(string bootstrapServers, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"test-reader-{Guid.NewGuid()}",
            EnableAutoCommit = false,
        }).Build();

        var records = new List<ConsumeResult<string, byte[]>>();
        var deadline = HangGuard.Token;
        foreach (var partition in admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions)
        {
            var topicPartition = new TopicPartition(topic, partition.PartitionId);
            var watermarks = consumer.QueryWatermarkOffsets(topicPartition, TimeSpan.FromSeconds(10));
            if (watermarks.High <= watermarks.Low)
            {
                continue;
            }

            consumer.Assign(new TopicPartitionOffset(topicPartition, watermarks.Low));
            ConsumeResult<string, byte[]> record;
            do
            {
                record = consumer.Consume(deadline);
                records.Add(record);
            }
            while (record.Offset.Value < watermarks.High.Value - 1);
        }

        return records;
    }
}

/// <summary>Waits for a condition a user would wait for, checking often, up to the suite's hang guard.</summary>
internal static class Eventually
{
    public static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, Func<T, string>? describe = null)
    {
        var deadline = HangGuard.Token;
        T value;
        while (!done(value = await read()))
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting for {what}; last seen: {(describe is null ? value : describe(value))}");
            }

            await Task.Delay(50, CancellationToken.None);
        }

        return value;
    }
}

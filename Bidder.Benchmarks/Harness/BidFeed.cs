using System.Diagnostics;
using Bidder.Core.Kafka;
using Bidder.Domain.Contracts;
using Bidder.Domain;
using Confluent.Kafka;

namespace Bidder.Benchmarks.Harness;

/// <summary>
/// Bids written straight to a topic in the API's format (the shared contract, keyed by item), so the
/// pipeline benchmarks fill the topic faster than any HTTP client could. Most bids beat the item's last
/// one (accepted: a database write and a changelog record each); one in ten is below the starting price
/// (rejected: an invalid-bids record); one in five carries an automatic maximum a little above its value, so
/// the next bids on its item are often outbid (rejected, and the item's price raised: both records).
/// </summary>
public static class BidFeed
{
    public static IEnumerable<Message<string, byte[]>> Bids(IReadOnlyList<Guid> users, IReadOnlyList<SeededItem> items, int count, int seed)
    {
        var random = new Random(seed);
        var next = new decimal[items.Count];
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < count; i++)
        {
            var index = random.Next(items.Count);
            var item = items[index];
            decimal value;
            if (i % 10 == 9)
            {
                value = item.InitBid - 1;
            }
            else
            {
                next[index] = next[index] == 0 ? item.InitBid : next[index] + 1;
                value = next[index];
            }

            decimal? max = i % 5 == 0 ? value + 2 : null;
            // Ids as the API makes them (TimeOrderedIds: rising). Guid.CreateVersion7(now), with the feed's one instant,
            // gave ids random past the millisecond: every bid landed at a random place in the bids table and its indexes,
            // which the API's bids never do (the store alone: 11,500 instead of 23,500 bids/s at 1,000,000 bids; BENCHMARKS.md).
            var bid = new PostedBid(TimeOrderedIds.Next(now), item.Id, users[random.Next(users.Count)], value, "bench", now, max);
            // Stamped with the bid's date, as the API does: the feed is produced over minutes, and the streamer
            // refuses a bid whose date is far from its message's timestamp.
            yield return new Message<string, byte[]> { Key = item.Id.ToString(), Value = BidMessage.From(bid).ToUtf8Json(), Timestamp = new Timestamp(bid.BidDate) };
        }
    }

    /// <summary>
    /// Holds a feed: every few thousand bids handed to the producer it is awaited with how many went to each of the topic's
    /// <see cref="Partitions"/> so far (by <see cref="ItemPartitioner"/>, the API's rule: the feed puts each bid there).
    /// </summary>
    public sealed record Throttle(int Partitions, Func<long[], Task> HoldAsync);

    /// <summary>
    /// Produces every message, awaiting <paramref name="throttle"/> every few thousand (it holds the feed while the
    /// consumer is too far behind), and returns once all are acknowledged.
    /// </summary>
    public static async Task<TimeSpan> ProduceAsync(string bootstrapServers, string topic, IEnumerable<Message<string, byte[]>> messages, Throttle? throttle = null)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 20,
            BatchSize = 1_000_000,
            QueueBufferingMaxMessages = 1_000_000,
        }).Build();

        Error? failure = null;
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var handed = new long[throttle?.Partitions ?? 0];
        foreach (var message in messages)
        {
            if (++sent % 5_000 == 0 && throttle is not null)
            {
                await throttle.HoldAsync(handed);
            }

            // Where the producer's own partitioner (CRC-32 of the key, as ItemPartitioner) would put it, named so that
            // the count per partition is exact.
            var destination = throttle is null
                ? new TopicPartition(topic, Partition.Any)
                : new TopicPartition(topic, ItemPartitioner.Partition(Guid.Parse(message.Key), throttle.Partitions));
            while (true)
            {
                try
                {
                    producer.Produce(destination, message, report => failure ??= report.Error.IsError ? report.Error : null);
                    break;
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }

            if (throttle is not null)
            {
                handed[destination.Partition.Value]++;
            }
        }

        await Task.Run(() => producer.Flush(TimeSpan.FromMinutes(5)));
        return failure is null ? clock.Elapsed : throw new InvalidOperationException($"A benchmark bid was not written: {failure}");
    }
}

using Bidder.Core.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

using Bidder.Core.Live;

namespace Bidder.Api.Live;

/// <summary>
/// Reads the item-changelog and auctions topics from their end, every partition by assignment (no consumer
/// group, no commits: each API replica reads everything, for its own subscribers), and publishes each record
/// to the <see cref="LiveHub"/>. When the broker is away, the consumer reconnects by itself and goes on from
/// where it was, so nothing in between is missed; a record that is not what the streamer writes is skipped.
/// </summary>
public sealed partial class LiveFeed(
    IConsumer<string, byte[]> consumer,
    LiveHub hub,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<LiveFeed> logger) : BackgroundService
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    // Consume blocks, so the loop has a thread of its own.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var (changelog, auctions) = (topics.Value.ItemChangelog, topics.Value.Auctions);
        consumer.Assign([.. Enumerable.Range(0, changelog.Partitions).Select(p => new TopicPartitionOffset(changelog.Name, p, Offset.End)),
            .. Enumerable.Range(0, auctions.Partitions).Select(p => new TopicPartitionOffset(auctions.Name, p, Offset.End))]);
        LogStarted(changelog.Name, auctions.Name);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (consumer.Consume(PollTimeout) is not { Message.Value: { } value } result)
                {
                    continue;
                }

                var item = result.Topic == auctions.Name ? ItemEvent.FromAuction(value) : ItemEvent.FromChangelog(value);
                if (item is not null)
                {
                    hub.Publish(item);
                }
                else
                {
                    LogSkipped(result.Topic, result.Partition.Value, result.Offset.Value);
                }
            }
            catch (ConsumeException ex) when (!ex.Error.IsFatal)
            {
                LogConsumeFailed(ex.Error.Code, ex.Error.Reason);
                stoppingToken.WaitHandle.WaitOne(RetryDelay);
            }
        }

        consumer.Close();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live feed reading {Changelog} and {Auctions} from their end.")]
    private partial void LogStarted(string changelog, string auctions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a record of {Topic} (partition {Partition}, offset {Offset}): not an item state.")]
    private partial void LogSkipped(string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the live topics failed ({Code}: {Reason}); trying again.")]
    private partial void LogConsumeFailed(ErrorCode code, string reason);
}

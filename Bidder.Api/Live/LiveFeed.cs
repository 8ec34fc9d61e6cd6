using System.Diagnostics;
using Bidder.Core.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

using Bidder.Core.Live;

namespace Bidder.Api.Live;

/// <summary>
/// Reads the item-changelog and auctions topics, every partition by assignment (no consumer group, no commits: each
/// API replica reads everything, for its own subscribers), and publishes each record to the <see cref="LiveHub"/>.
/// Only while someone follows a stream: with nobody subscribed for <see cref="LiveOptions.FeedIdleAfter"/> it lets
/// the partitions go, and when the next subscriber comes it takes each partition's end offset from the broker,
/// reads from there, and only then lets the subscriber go on (<see cref="LiveHub.Reading"/>), so whatever the
/// subscriber reads next (an item's state) is older than the first change it is sent. When the broker is away, the
/// consumer reconnects by itself and goes on from where it was, so nothing in between is missed; a record that is
/// not what the streamer writes is skipped.
/// </summary>
public sealed partial class LiveFeed(
    IConsumer<string, byte[]> consumer,
    LiveHub hub,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<LiveFeed> logger) : BackgroundService
{
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan OffsetsTimeout = TimeSpan.FromSeconds(5);

    // Consume blocks, so the loop has a thread of its own.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                hub.WhenWantedAsync(CancellationToken.None).Wait(stoppingToken);
                if (!TryAssignAtEnds())
                {
                    stoppingToken.WaitHandle.WaitOne(RetryDelay);
                    continue;
                }

                hub.Reading();
                LogReading(topics.Value.ItemChangelog.Name, topics.Value.Auctions.Name);
                if (ReadWhileWanted(stoppingToken))
                {
                    consumer.Unassign();
                    LogPaused(hub.FeedIdleAfter.TotalSeconds);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        consumer.Close();
    }

    /// <summary>Every partition assigned at the offset its next record will have, asked of the broker now (not "the end" whenever the fetch starts).</summary>
    private bool TryAssignAtEnds()
    {
        var (changelog, auctions) = (topics.Value.ItemChangelog, topics.Value.Auctions);
        try
        {
            consumer.Assign([.. Enumerable.Range(0, changelog.Partitions).Select(p => new TopicPartition(changelog.Name, p))
                .Concat(Enumerable.Range(0, auctions.Partitions).Select(p => new TopicPartition(auctions.Name, p)))
                .Select(partition => new TopicPartitionOffset(partition, consumer.QueryWatermarkOffsets(partition, OffsetsTimeout).High))]);
            return true;
        }
        catch (KafkaException ex)
        {
            LogConsumeFailed(ex.Error.Code, ex.Error.Reason);
            return false;
        }
    }

    /// <summary>
    /// Publishes what comes until nobody has wanted it for <see cref="LiveOptions.FeedIdleAfter"/> (asked once per poll
    /// timeout): true then, false when stopping.
    /// </summary>
    private bool ReadWhileWanted(CancellationToken stoppingToken)
    {
        var (changelog, auctions) = (topics.Value.ItemChangelog, topics.Value.Auctions);
        var asked = Stopwatch.StartNew();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (asked.Elapsed >= PollTimeout)
            {
                if (hub.TryPause())
                {
                    return true;
                }

                asked.Restart();
            }

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

        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Live feed paused: nobody has followed a live stream for {Seconds} s; it reads again when someone does.")]
    private partial void LogPaused(double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Live feed reading {Changelog} and {Auctions} from their ends for a subscriber.")]
    private partial void LogReading(string changelog, string auctions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped a record of {Topic} (partition {Partition}, offset {Offset}): not an item state.")]
    private partial void LogSkipped(string topic, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the live topics failed ({Code}: {Reason}); trying again.")]
    private partial void LogConsumeFailed(ErrorCode code, string reason);
}

using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Bidder.Domain;
using Bidder.Domain.Contracts;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// Closes the auctions of this streamer's partitions once they have ended, whether or not a bid ever came,
/// on the pipeline's own thread between batches, so a close and an item's bids never race: the partition's
/// owner is the item's single writer for both.
/// <para>
/// Which auctions: every <see cref="StreamerOptions.CloseInterval"/> the database is asked for the open items
/// that ended more than <see cref="StreamerOptions.CloseGrace"/> ago (an index on the end date answers, so
/// nothing about open items is held in memory), and for closed items whose record is not on the auctions
/// topic yet. An item's partition is computed from its id as the producer does (<see cref="ItemPartitioner"/>);
/// items of other partitions are left to their owners.
/// </para>
/// <para>
/// When: an auction closes only once its partition's clock is past its end plus the grace, so no bid the API
/// took before the end is still waiting on the topic. A partition's clock is the wall clock while the
/// partition is caught up (its position at its high watermark, both known locally without a round trip), and
/// the latest <c>bid_date</c> processed on it while it lags: a streamer that restarts after an end date first
/// works through the bids taken before it, then closes. An idle partition is caught up, so its auctions close
/// on time.
/// </para>
/// <para>
/// Exactly once: the close is written to the item first (only if the item is still open at an older version),
/// then the record, made from the item as stored, goes to the auctions topic with the item's new state on the
/// changelog, then the item is marked published. A crash before the mark sends the same record again (at least
/// once on the topic, one close in the database); a failure is retried at the next check.
/// </para>
/// </summary>
public sealed partial class AuctionCloser(
    IConsumer<string, byte[]> consumer,
    IProducer<string, byte[]> producer,
    IBatchRecorder store,
    ItemTable table,
    PartitionAssignments assignments,
    PipelineMonitor monitor,
    TimeProvider time,
    IOptions<StreamerOptions> options,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<AuctionCloser> logger)
{
    private static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(5);

    private readonly StreamerOptions _options = options.Value;
    private readonly KafkaTopicsOptions _topics = topics.Value;

    // The latest bid date processed per partition: the partition's clock while it lags.
    private readonly Dictionary<int, DateTimeOffset> _eventTimes = [];

    // Committed offsets asked of the broker, per partition and assignment generation (rare: see Position).
    private readonly Dictionary<(int Partition, long Generation), long> _committed = [];

    private DateTimeOffset _nextCheck;
    private int? _partitionCount;
    private long _countAtRebalance = -1;

    /// <summary>Takes a processed batch's bid dates into the partitions' clocks.</summary>
    public void Observe(IEnumerable<DecodedBid> batch)
    {
        foreach (var decoded in batch)
        {
            if (decoded.Bid is { } bid)
            {
                var partition = decoded.Source.Partition.Value;
                if (!_eventTimes.TryGetValue(partition, out var seen) || bid.BidDate > seen)
                {
                    _eventTimes[partition] = bid.BidDate;
                }
            }
        }
    }

    /// <summary>Closes and announces what is due, at most once per <see cref="StreamerOptions.CloseInterval"/>; never throws but for a fatal fault.</summary>
    public async Task CloseDueAsync(CancellationToken stoppingToken)
    {
        var now = time.GetUtcNowMilliseconds();
        if (now < _nextCheck || assignments.Assigned.Count == 0 || stoppingToken.IsCancellationRequested)
        {
            return;
        }

        _nextCheck = now + _options.CloseInterval;
        using var timer = monitor.Stages.Time(Stage.Close);
        try
        {
            await CloseAsync(now);
            monitor.Health.Succeeded(PipelineProblem.Close);
        }
        catch (Exception ex) when (ex is not StorageConfigurationException and not KafkaException { Error.IsFatal: true })
        {
            // Retried at the next check, while /health says so; the bids keep flowing meanwhile.
            monitor.Health.Failed(PipelineProblem.Close, ex.Message);
            LogCloseFailed(ex, _options.CloseInterval.TotalMilliseconds);
        }
    }

    private async Task CloseAsync(DateTimeOffset now)
    {
        var due = await store.FindItemsToCloseAsync(now - _options.CloseGrace, _options.MaxBatchSize, CancellationToken.None);
        if (due.Count == 0)
        {
            return;
        }

        var count = PartitionCount();
        var closing = new List<(int Partition, Item Item, ItemTableEntry Row)>();
        var unpublished = new List<Item>();
        foreach (var item in due)
        {
            var partition = ItemPartitioner.Partition(item.Id, count);
            if (!assignments.IsAssigned(partition))
            {
                continue;
            }

            if (item.ClosedAt is not null)
            {
                unpublished.Add(item);
                continue;
            }

            // The newer of the table's row and the database's (written first, so normally the same).
            var kept = table.Find(partition, item.Id);
            var state = kept is not null && kept.State.Version > item.State.Version ? kept.State : item.State;
            if (state.IsClosed || state.EndDate + _options.CloseGrace > Clock(partition, now))
            {
                continue;
            }

            var closed = BidRules.Close(item, state, now);
            closing.Add((partition, item, new ItemTableEntry(closed, now, kept?.SourceOffset ?? -1)));
        }

        if (closing.Count > 0)
        {
            await store.RecordBatchAsync(new ProcessedBatch([], [.. closing.Select(c => c.Row.ToState(c.Item.Id))]), CancellationToken.None);
            // The records are made from the items as stored, so whoever sends one (again) sends the same.
            var stored = await store.GetItemsAsync([.. closing.Select(c => c.Item.Id)], CancellationToken.None);
            unpublished.AddRange(stored.Values.Where(item => item.ClosedAt is not null));
        }

        if (unpublished.Count == 0)
        {
            return;
        }

        await ProduceAsync(unpublished, closing.Select(c => c.Row.ToChangelog(c.Item.Id)));
        await store.MarkClosesPublishedAsync([.. unpublished.Select(item => item.Id)], CancellationToken.None);
        table.Apply(closing.Select(c => (c.Partition, c.Item.Id, c.Row)));
        foreach (var (_, item, row) in closing)
        {
            monitor.Metrics.Closed(row.State.Result!);
            LogClosed(item.Id, row.State.Result!, row.State.WinningBid, row.State.Bids);
        }
    }

    private async Task ProduceAsync(IReadOnlyCollection<Item> closed, IEnumerable<ItemChangelogMessage> changelog)
    {
        var records = changelog.ToList();
        using var span = KafkaTelemetry.StartSend(_topics.Auctions.Name, messageCount: closed.Count);
        var sends = new List<Task<DeliveryResult<string, byte[]>>>(closed.Count + records.Count);
        foreach (var item in closed)
        {
            sends.Add(producer.ProduceAsync(_topics.Auctions.Name, BidPipeline.Traced(span, item.Id.ToString(), AuctionClosedMessage.From(item).ToUtf8Json())));
        }

        foreach (var record in records)
        {
            sends.Add(producer.ProduceAsync(_topics.ItemChangelog.Name, BidPipeline.Traced(span, record.ItemId.ToString(), PipelineJson.Serialize(record))));
        }

        try
        {
            await Task.WhenAll(sends);
        }
        catch (KafkaException ex)
        {
            KafkaTelemetry.SetError(span, ex.Error.Code.ToString(), ex.Error.Reason);
            throw;
        }
    }

    /// <summary>The wall clock while the partition is caught up; else the latest bid date processed on it.</summary>
    private DateTimeOffset Clock(int partition, DateTimeOffset now) =>
        IsCaughtUp(partition) ? now : _eventTimes.GetValueOrDefault(partition, DateTimeOffset.MinValue);

    /// <summary>
    /// Whether every message of the partition has been processed: its position (where the next message
    /// would come from) is at its high watermark, which the consumer knows from its last fetch. Unknown
    /// before the first fetch answered, so a fresh assignment is not caught up until the broker said so.
    /// </summary>
    private bool IsCaughtUp(int partition)
    {
        var topicPartition = new TopicPartition(_topics.Bids.Name, partition);
        var high = consumer.GetWatermarkOffsets(topicPartition).High;
        return high != Offset.Unset && Position(topicPartition) is { } position && position >= high.Value;
    }

    /// <summary>
    /// The consumer's position once it handed out a message of the partition; before that (an idle partition
    /// since its assignment) where the pipeline left it, else the group's committed offset, asked once per assignment.
    /// </summary>
    private long? Position(TopicPartition partition)
    {
        var position = consumer.Position(partition);
        if (position != Offset.Unset)
        {
            return position.Value;
        }

        if (assignments.TryGetNextOffset(partition.Partition.Value, out var next))
        {
            return next;
        }

        var key = (partition.Partition.Value, assignments.Generation(partition.Partition.Value));
        if (_committed.TryGetValue(key, out var committed))
        {
            return committed;
        }

        try
        {
            var offset = consumer.Committed([partition], BrokerTimeout).Single().Offset;
            // Nothing committed yet: the group starts from the partition's first bid, offset 0.
            committed = offset == Offset.Unset ? 0 : offset.Value;
            _committed[key] = committed;
            return committed;
        }
        catch (KafkaException ex)
        {
            LogPositionUnknown(partition.Partition.Value, ex.Error.Reason);
            return null;
        }
    }

    /// <summary>The bids topic's partition count as the broker has it (the configured one if it cannot say).</summary>
    private int PartitionCount()
    {
        // Partitions are added to a topic only with a rebalance: asked again after each.
        if (_countAtRebalance != assignments.Rebalances)
        {
            _partitionCount = null;
            _countAtRebalance = assignments.Rebalances;
        }

        if (_partitionCount is { } known)
        {
            return known;
        }

        try
        {
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var topic = admin.GetMetadata(_topics.Bids.Name, BrokerTimeout).Topics.SingleOrDefault();
            if (topic is { Error.IsError: false, Partitions.Count: > 0 })
            {
                if (topic.Partitions.Count != _topics.Bids.Partitions)
                {
                    LogPartitionCountDiffers(_topics.Bids.Name, topic.Partitions.Count, _topics.Bids.Partitions);
                }

                return (_partitionCount = topic.Partitions.Count).Value;
            }
        }
        catch (KafkaException ex)
        {
            LogPartitionCountUnknown(ex.Error.Reason, _topics.Bids.Partitions);
        }

        return _topics.Bids.Partitions;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closed auction {ItemId}: {Result} at {WinningBid} after {Bids} accepted bid(s).")]
    private partial void LogClosed(Guid itemId, string result, decimal winningBid, long bids);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing ended auctions failed; trying again in {DelayMs} ms.")]
    private partial void LogCloseFailed(Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The committed offset of partition {Partition} is unknown ({Reason}): its auctions close once it has processed a bid.")]
    private partial void LogPositionUnknown(int partition, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The broker has {Actual} partitions for {Topic}, the configuration says {Configured}: items are placed by the broker's count.")]
    private partial void LogPartitionCountDiffers(string topic, int actual, int configured);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The partition count of the bids topic is unknown ({Reason}); using the configured {Configured}.")]
    private partial void LogPartitionCountUnknown(string reason, int configured);
}

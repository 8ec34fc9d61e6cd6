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
/// items of other partitions are left to their owners. The answer is read in pages, earliest end first, for up to
/// <see cref="StreamerOptions.MaxBatchSize"/> items to act on per check: the items left (to other owners, or to a
/// lagging partition's clock) stay first in the answer, so the check reads on past them (<see cref="SelectDueAsync"/>),
/// up to <see cref="MaxPagesPerCheck"/> pages; only more pages of them than that would hold up the auctions ending later.
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

    /// <summary>The most pages of due items one check reads (<see cref="SelectDueAsync"/>).</summary>
    internal const int MaxPagesPerCheck = 10;

    private readonly StreamerOptions _options = options.Value;
    private readonly KafkaTopicsOptions _topics = topics.Value;

    // The latest bid date processed per partition: the partition's clock while it lags.
    private readonly Dictionary<int, DateTimeOffset> _eventTimes = [];

    // What the broker said of a partition when it was assigned, per assignment generation (see Start).
    private readonly Dictionary<(int Partition, long Generation), (long High, long Position)> _starts = [];

    private DateTimeOffset _nextCheck;

    /// <summary>How many checks changed items (or tried to): the pipeline then forgets the items it remembered.</summary>
    public long Changes { get; private set; }
    private int? _partitionCount;
    private long _countAtRebalance = -1;

    /// <summary>
    /// Takes a processed batch's bid dates into the partitions' clocks, never past now: a producer may date a
    /// message in the future (with its timestamp to match), and that must not make a lagging partition's clock run ahead.
    /// </summary>
    public void Observe(IEnumerable<DecodedBid> batch)
    {
        var now = time.GetUtcNow();
        foreach (var decoded in batch)
        {
            if (decoded.Bid is { } bid)
            {
                var partition = decoded.Source.Partition.Value;
                var date = bid.BidDate < now ? bid.BidDate : now;
                if (!_eventTimes.TryGetValue(partition, out var seen) || date > seen)
                {
                    _eventTimes[partition] = date;
                }
            }
        }
    }

    /// <summary>Closes and announces what is due, at most once per <see cref="StreamerOptions.CloseInterval"/>; never throws but for a fatal fault.</summary>
    /// <remarks>
    /// <paramref name="finishWrites"/>: the pipeline's batches still being written, finished before anything is
    /// closed (a close must not fall between a batch's decisions and its write, nor judge an item by a state a batch
    /// being written has changed); called only when something is due, after which the due items are read again.
    /// </remarks>
    public async Task CloseDueAsync(CancellationToken stoppingToken, Func<Task>? finishWrites = null)
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
            await CloseAsync(now, finishWrites);
            monitor.Health.Succeeded(PipelineProblem.Close);
        }
        catch (Exception ex) when (ex is not StorageConfigurationException and not KafkaException { Error.IsFatal: true }
            && !(ex is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            // Retried at the next check, while /health says so; the bids keep flowing meanwhile. (A stop during the
            // writes finished first, a failed batch being processed again, is the stop's: it goes on to the pipeline,
            // which leaves that batch and the ones after it uncommitted, rather than taken for a failed close.)
            monitor.Health.Failed(PipelineProblem.Close, ex.Message);
            LogCloseFailed(ex, _options.CloseInterval.TotalMilliseconds);
        }
    }

    private async Task CloseAsync(DateTimeOffset now, Func<Task>? finishWrites)
    {
        var due = await SelectDueAsync(now);
        if (due.Count > 0 && finishWrites is not null)
        {
            await finishWrites();
            now = time.GetUtcNowMilliseconds();
            due = await SelectDueAsync(now);
        }

        var closing = new List<(int Partition, Item Item, ItemTableEntry Row)>();
        var unpublished = new List<(int Partition, Item Item)>();
        foreach (var (partition, item, row) in due)
        {
            if (row is null)
            {
                unpublished.Add((partition, item));
            }
            else
            {
                closing.Add((partition, item, row));
            }
        }

        if (closing.Count > 0)
        {
            Changes++;
            await store.RecordBatchAsync(new ProcessedBatch([], [.. closing.Select(c => c.Row.ToState(c.Item.Id))]), CancellationToken.None);
            // The records are made from the items as stored, so whoever sends one (again) sends the same; a close
            // the store refused (a newer state got there first) goes neither to the changelog nor to the table.
            var stored = await store.GetItemsAsync([.. closing.Select(c => c.Item.Id)], CancellationToken.None);
            unpublished.AddRange(closing.Where(c => stored.GetValueOrDefault(c.Item.Id)?.ClosedAt is not null).Select(c => (c.Partition, stored[c.Item.Id])));
            closing.RemoveAll(c => !stored.TryGetValue(c.Item.Id, out var item) || item.State != c.Row.State);
        }

        if (unpublished.Count == 0)
        {
            return;
        }

        // Every announced item leaves the table, its closed state followed by a tombstone on the changelog: those this
        // check closed with their row, the others (closed before a crash, or by the partition's previous owner) as stored.
        var closed = closing.Select(c => c.Item.Id).ToHashSet();
        var rows = closing.Select(c => (c.Partition, c.Item.Id, c.Row))
            .Concat(unpublished.Where(u => !closed.Contains(u.Item.Id))
                .Select(u => (u.Partition, u.Item.Id, Row: new ItemTableEntry(u.Item.State, u.Item.ClosedAt!.Value, SourceOffset: -1))))
            .ToList();
        await ProduceAsync([.. unpublished.Select(u => u.Item)], rows.Select(r => r.Row.ToChangelog(r.Id)));
        await store.MarkClosesPublishedAsync([.. unpublished.Select(u => u.Item.Id)], CancellationToken.None);
        table.Apply(rows);
        foreach (var (_, item, row) in closing)
        {
            monitor.Metrics.Closed(row.State.Result!);
            LogClosed(item.Id, row.State.Result!, row.State.WinningBid, row.State.Bids);
        }
    }

    /// <summary>The items to announce or close now (those of this streamer's partitions, past their end on their partition's clock).</summary>
    private Task<List<Due>> SelectDueAsync(DateTimeOffset now)
    {
        var endedBy = now - _options.CloseGrace;
        // Asked at the first due item only: while the broker cannot say, each asking waits out its timeout.
        int? count = null;
        return SelectDueAsync(
            after => store.FindItemsToCloseAsync(endedBy, _options.MaxBatchSize, after, CancellationToken.None),
            _options.MaxBatchSize,
            item => Decide(item, count ??= PartitionCount(), now));
    }

    /// <summary>
    /// Reads the due items page by page (<paramref name="readPage"/>: at most <paramref name="pageSize"/> after a
    /// cursor, in end order) and keeps what <paramref name="select"/> makes of them, up to a page's worth. The items
    /// it passes over (of other replicas' partitions, or of a partition of ours still lagging) stay due, so they
    /// stay first in line: while a page comes back full and fewer were kept it reads on past them, else more than a
    /// page of them would hold up every auction ending later, on caught-up partitions too. At most
    /// <see cref="MaxPagesPerCheck"/> pages, so one check stays short.
    /// </summary>
    internal static async Task<List<T>> SelectDueAsync<T>(Func<Cursor?, Task<IReadOnlyList<Item>>> readPage, int pageSize, Func<Item, T?> select)
        where T : class
    {
        var kept = new List<T>();
        Cursor? after = null;
        for (var pages = 0; pages < MaxPagesPerCheck; pages++)
        {
            var page = await readPage(after);
            foreach (var item in page)
            {
                if (select(item) is { } selected)
                {
                    kept.Add(selected);
                    if (kept.Count == pageSize)
                    {
                        return kept;
                    }
                }
            }

            if (page.Count < pageSize)
            {
                break;
            }

            after = new Cursor(page[^1].BiddingEndDate.ToUnixTimeMilliseconds(), page[^1].Id);
        }

        return kept;
    }

    /// <summary>
    /// What this check does with a due item: announce it (closed, no row), close it (the row it takes), or nothing
    /// (null) when it belongs to another replica's partition or its partition's clock is not past its end yet.
    /// </summary>
    private Due? Decide(Item item, int partitionCount, DateTimeOffset now)
    {
        var partition = ItemPartitioner.Partition(item.Id, partitionCount);
        if (!assignments.IsAssigned(partition))
        {
            return null;
        }

        if (item.ClosedAt is not null)
        {
            return new Due(partition, item, null);
        }

        // The newer of the table's row and the database's (written first, so normally the same).
        var kept = table.Find(partition, item.Id);
        var state = kept is not null && kept.State.Version > item.State.Version ? kept.State : item.State;
        if (state.IsClosed || state.EndDate + _options.CloseGrace > Clock(partition, now))
        {
            return null;
        }

        var closed = BidRules.Close(item, state, now);
        return new Due(partition, item, new ItemTableEntry(closed, now, kept?.SourceOffset ?? -1));
    }

    private async Task ProduceAsync(IReadOnlyCollection<Item> closed, IEnumerable<ItemChangelogMessage> changelog)
    {
        using var span = KafkaTelemetry.StartSend(_topics.Auctions.Name, messageCount: closed.Count);
        var headers = RecordSender.TraceHeaders(span);
        try
        {
            await RecordSender.SendAsync(producer,
                closed.Select(item => (_topics.Auctions.Name, RecordSender.Record(headers, item.Id.ToString(), AuctionClosedMessage.From(item).ToUtf8Json())))
                    .Concat(changelog.SelectMany(r => RecordSender.Changelog(_topics.ItemChangelog.Name, headers, r))));
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
    /// Whether every message of the partition has been processed: its position (where the next message would
    /// come from) has reached its high watermark. The consumer caches the high watermark from each fetch, but
    /// keeps it across assignments (a partition that comes back carries its last one, older than the bids that
    /// came meanwhile), so the broker is asked once per assignment, and the later of the two counts.
    /// </summary>
    private bool IsCaughtUp(int partition)
    {
        var topicPartition = new TopicPartition(_topics.Bids.Name, partition);
        if (Start(topicPartition) is not { } start)
        {
            return false;
        }

        var cached = consumer.GetWatermarkOffsets(topicPartition).High;
        var high = cached == Offset.Unset ? start.High : Math.Max(cached.Value, start.High);
        var position = consumer.Position(topicPartition) is var consumed && consumed != Offset.Unset ? consumed.Value
            : assignments.TryGetNextOffset(partition, out var next) ? next
            : start.Position;
        return position >= high;
    }

    /// <summary>
    /// Asked of the broker once per assignment of the partition: its high watermark then, and where this group
    /// starts reading it (the committed offset; the log start when nothing is committed or retention deleted past
    /// it). Null when the broker does not answer: the partition then counts as lagging until it does.
    /// </summary>
    private (long High, long Position)? Start(TopicPartition partition)
    {
        var key = (partition.Partition.Value, assignments.Generation(partition.Partition.Value));
        if (_starts.TryGetValue(key, out var start))
        {
            return start;
        }

        try
        {
            var watermarks = consumer.QueryWatermarkOffsets(partition, BrokerTimeout);
            var committed = consumer.Committed([partition], BrokerTimeout).Single().Offset;
            start = (watermarks.High.Value, Math.Max(committed == Offset.Unset ? 0 : committed.Value, watermarks.Low.Value));
            _starts[key] = start;
            return start;
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

    /// <summary>A due item of this replica's: closed already, to announce (no row), or to close with the row it takes.</summary>
    private sealed record Due(int Partition, Item Item, ItemTableEntry? Row);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closed auction {ItemId}: {Result} at {WinningBid} after {Bids} accepted bid(s).")]
    private partial void LogClosed(Guid itemId, string result, decimal winningBid, long bids);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing ended auctions failed; trying again in {DelayMs} ms.")]
    private partial void LogCloseFailed(Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The offsets of partition {Partition} are unknown ({Reason}): its auctions close once it has processed bids past their end, or the broker answers.")]
    private partial void LogPositionUnknown(int partition, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The broker has {Actual} partitions for {Topic}, the configuration says {Configured}: items are placed by the broker's count.")]
    private partial void LogPartitionCountDiffers(string topic, int actual, int configured);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The partition count of the bids topic is unknown ({Reason}); using the configured {Configured}.")]
    private partial void LogPartitionCountUnknown(string reason, int configured);
}

using System.Diagnostics;
using Bidder.Core.Domain;
using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// The wiring of the stages, which knows nothing of the bidding rules:
/// consume a batch -> decode -> look up (one read each for users, items, recorded bids) -> validate and
/// route -> database (one transaction) -> invalid-bids and item-changelog (awaited) -> table -> commit.
/// The database is written first and the offsets committed last, so a crash anywhere replays the batch,
/// and replaying is harmless: recorded bids are recognized and not counted again.
/// </summary>
public sealed partial class BidPipeline(
    IConsumer<string, byte[]> consumer,
    IProducer<string, byte[]> producer,
    IBidderStore store,
    ItemTable table,
    BatchProcessor processor,
    PipelineHealth health,
    StreamerMetrics metrics,
    PipelineStages stages,
    TimeProvider time,
    IOptions<StreamerOptions> options,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<BidPipeline> logger) : BackgroundService
{
    private readonly StreamerOptions _options = options.Value;
    private readonly KafkaTopicsOptions _topics = topics.Value;

    // Per partition, the offset after the last processed bid: a batch starting beyond it skipped bids.
    private readonly Dictionary<int, long> _nextOffsets = [];

    // Consume blocks, so the loop has a thread of its own.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => RunAsync(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        consumer.Subscribe(_topics.Bids.Name);
        LogStarted(_topics.Bids.Name);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var start = Stopwatch.GetTimestamp();
                var batch = Poll(stoppingToken);
                stages.Measure(Stage.Poll, start);
                if (batch.Count > 0 && await ProcessUntilDoneAsync(batch, stoppingToken))
                {
                    start = Stopwatch.GetTimestamp();
                    CheckForDeletedBids(batch);
                    Commit(batch);
                    stages.Measure(Stage.Commit, start);
                    stages.Completed(batch.Count);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Leave the group now rather than when the session times out, so the partitions move at once.
            consumer.Close();
            LogStopped();
        }
    }

    private List<ConsumeResult<string, byte[]>> Poll(CancellationToken stoppingToken)
    {
        var batch = new List<ConsumeResult<string, byte[]>>();
        try
        {
            var first = consumer.Consume(_options.PollTimeout);
            while (first is not null)
            {
                batch.Add(first);
                if (batch.Count >= _options.MaxBatchSize || stoppingToken.IsCancellationRequested)
                {
                    break;
                }

                // Whatever is already fetched joins the batch; nothing waits for more.
                first = consumer.Consume(TimeSpan.Zero);
            }
        }
        catch (ConsumeException ex)
        {
            LogConsumeFailed(ex.Error.Code, ex.Error.Reason);
        }

        return batch;
    }

    /// <summary>Processes the batch, retrying with backoff until it is durable; false only when stopping first.</summary>
    private async Task<bool> ProcessUntilDoneAsync(List<ConsumeResult<string, byte[]>> batch, CancellationToken stoppingToken)
    {
        var start = Stopwatch.GetTimestamp();
        var decoded = batch.Select(BidDecoder.Decode).ToList();
        stages.Measure(Stage.Decode, start);
        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // A batch once started is finished even when stopping, so the offsets can be committed.
                await ProcessAsync(decoded, CancellationToken.None);
                health.Succeeded();
                return true;
            }
            catch (Exception ex) when (ex is StorageUnavailableException or KafkaException && !stoppingToken.IsCancellationRequested)
            {
                health.Failed(ex);
                LogBatchFailed(ex, batch.Count, attempt, delay.TotalMilliseconds);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }

    private async Task ProcessAsync(List<DecodedBid> batch, CancellationToken cancellationToken)
    {
        var spans = batch.Select(b => KafkaTelemetry.StartProcess(_topics.Bids.Name, b.Source.Message.Headers, b.Source.Partition, b.Source.Offset)).ToList();
        var start = Stopwatch.GetTimestamp();
        try
        {
            var bids = batch.Where(b => b.Bid is not null).Select(b => b.Bid!).ToList();
            var users = store.FindUsersAsync([.. bids.Select(b => b.UserId)], cancellationToken);
            var items = store.GetItemsAsync([.. bids.Select(b => b.ItemId)], cancellationToken);
            var recorded = store.GetBidsAsync([.. bids.Select(b => b.Id)], cancellationToken);
            var lookups = new BatchLookups(await users, await items, await recorded);
            start = stages.Measure(Stage.Lookup, start);

            var outcome = processor.Process(batch, lookups, time.GetUtcNowMilliseconds());
            LogRejects(outcome);
            start = stages.Measure(Stage.Decide, start);

            using (StartPersistSpan(spans, outcome))
            {
                await store.RecordBatchAsync(outcome.ToDatabaseBatch(), cancellationToken);
            }

            start = stages.Measure(Stage.Persist, start);
            await ProduceAsync(outcome, cancellationToken);
            start = stages.Measure(Stage.Produce, start);
            table.Apply(outcome.Rows.Select(r => (r.Key.Partition, r.Key.ItemId, r.Value)));
            stages.Measure(Stage.Table, start);
            metrics.Record(outcome, batch.Count, bids.Select(b => b.BidDate), time.GetUtcNow());
        }
        catch (Exception ex) when (ex is StorageUnavailableException or KafkaException)
        {
            foreach (var span in spans)
            {
                span?.SetStatus(ActivityStatusCode.Error, ex.Message);
            }

            throw;
        }
        finally
        {
            foreach (var span in spans)
            {
                span?.Dispose();
            }
        }
    }

    private async Task ProduceAsync(BatchOutcome outcome, CancellationToken cancellationToken)
    {
        var sends = new List<Task<DeliveryResult<string, byte[]>>>(outcome.Invalid.Count + outcome.Rows.Count);
        foreach (var (key, invalid) in outcome.Invalid)
        {
            sends.Add(producer.ProduceAsync(_topics.InvalidBids.Name, new Message<string, byte[]>
            {
                Key = key!,
                Value = PipelineJson.Serialize(invalid),
            }, cancellationToken));
        }

        foreach (var record in outcome.Changelog)
        {
            sends.Add(producer.ProduceAsync(_topics.ItemChangelog.Name, new Message<string, byte[]>
            {
                Key = record.ItemId.ToString(),
                Value = PipelineJson.Serialize(record),
            }, cancellationToken));
        }

        await Task.WhenAll(sends);
    }

    /// <summary>
    /// A broker deletes old messages by retention (the embedded broker keeps about 5 MB per partition): a
    /// streamer lagging further than that would skip bids when its position is reset to the log start.
    /// Such a loss is never silent: it is logged as an error and counted (bidder.bids.lost).
    /// </summary>
    private void CheckForDeletedBids(List<ConsumeResult<string, byte[]>> batch)
    {
        foreach (var partition in batch.GroupBy(r => r.TopicPartition))
        {
            var first = partition.Min(r => r.Offset.Value);
            var expected = _nextOffsets.TryGetValue(partition.Key.Partition.Value, out var next) ? next : CommittedOffset(partition.Key);
            if (expected >= 0 && first > expected)
            {
                // Not a loss when another replica processed them meanwhile; only when the broker no longer has them.
                var logStart = LogStartOffset(partition.Key);
                if (logStart > expected)
                {
                    var lost = Math.Min(first, logStart) - expected;
                    metrics.Lost(lost);
                    LogBidsDeleted(lost, partition.Key.Partition.Value, expected, logStart);
                }
            }

            _nextOffsets[partition.Key.Partition.Value] = partition.Max(r => r.Offset.Value) + 1;
        }
    }

    // Both asked of the broker only when a partition is first seen or its offsets jumped: rare, never per message.
    private long CommittedOffset(TopicPartition partition)
    {
        try
        {
            // Nothing committed yet: the group starts from the partition's first bid, offset 0.
            var committed = consumer.Committed([partition], TimeSpan.FromSeconds(5)).Single().Offset;
            return committed == Offset.Unset ? 0 : committed.Value;
        }
        catch (KafkaException)
        {
            return -1;
        }
    }

    private long LogStartOffset(TopicPartition partition)
    {
        try
        {
            return consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(5)).Low.Value;
        }
        catch (KafkaException)
        {
            return -1;
        }
    }

    private void Commit(List<ConsumeResult<string, byte[]>> batch)
    {
        var offsets = batch
            .GroupBy(r => r.TopicPartition)
            .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1))
            .ToList();
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException ex)
        {
            // The batch is durable and idempotent: if this commit is lost, the replay changes nothing.
            LogCommitFailed(ex.Error.Code, ex.Error.Reason);
        }
    }

    // The database write serves every bid of the batch; it continues the first one's trace and links the rest.
    private static Activity? StartPersistSpan(List<Activity?> spans, BatchOutcome outcome)
    {
        var first = spans.FirstOrDefault(s => s is not null);
        var links = spans.Skip(1).Where(s => s is not null).Select(s => new ActivityLink(s!.Context));
        var activity = KafkaTelemetry.Source.StartActivity("bidder record batch", ActivityKind.Internal, first?.Context ?? default, links: links);
        activity?.SetTag("db.operation.batch.size", outcome.Bids.Count);
        return activity;
    }

    private void LogRejects(BatchOutcome outcome)
    {
        if (!logger.IsEnabled(LogLevel.Debug))
        {
            return;
        }

        foreach (var (_, invalid) in outcome.Invalid)
        {
            LogRejected(invalid.Event?.Id, invalid.Reason, invalid.Detail);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bid pipeline consuming {Topic}.")]
    private partial void LogStarted(string topic);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bid pipeline stopped: batch finished, offsets committed, group left.")]
    private partial void LogStopped();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected bid {BidId}: {Reason} ({Detail})")]
    private partial void LogRejected(Guid? bidId, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} bid(s) failed (attempt {Attempt}); retrying in {DelayMs} ms.")]
    private partial void LogBatchFailed(Exception exception, int count, int attempt, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} bid(s) of partition {Partition} from offset {Offset} were deleted by the broker's retention before being processed (log start is now {LogStart}): they are lost. Keep the streamer's lag under the topic's retention.")]
    private partial void LogBidsDeleted(long count, int partition, long offset, long logStart);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consuming bids failed ({Code}: {Reason}); polling again.")]
    private partial void LogConsumeFailed(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing offsets failed ({Code}: {Reason}); the batch will be replayed harmlessly.")]
    private partial void LogCommitFailed(ErrorCode code, string reason);
}

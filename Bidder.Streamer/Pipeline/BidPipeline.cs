using System.Diagnostics;
using Bidder.Domain.Contracts;
using Bidder.Domain;
using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// The wiring of the stages, which knows nothing of the bidding rules:
/// consume a batch -> decode -> look up (one read each for users, items, recorded bids) -> validate and
/// route -> database (one transaction) -> invalid-bids and item-changelog (awaited) -> table -> commit;
/// between batches, and on an idle topic every poll, the <see cref="AuctionCloser"/> closes ended auctions.
/// The database is written first and the offsets committed last, so a crash anywhere replays the batch,
/// and replaying is harmless: recorded bids are recognized by id and not counted again.
/// Faults are of two kinds. The database or Kafka not answering is retried, the batch whole, with
/// backoff, while <c>/health</c> says so. Anything else thrown while processing (a message no store can
/// take, a bug that one message triggers) is narrowed down to the message that causes it by halving the
/// batch; that message is set aside on invalid-bids as <c>unprocessable</c> and the rest flows, so no
/// message can stop a partition or loop. What no retry can fix (a database refusing the configuration, a
/// fatal Kafka error) stops the process with a non-zero exit code, for the orchestrator to restart it.
/// </summary>
public sealed partial class BidPipeline(
    IConsumer<string, byte[]> consumer,
    IProducer<string, byte[]> producer,
    IBatchRecorder store,
    BatchProcessor processor,
    AuctionCloser closer,
    PartitionAssignments assignments,
    PipelineMonitor monitor,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    IOptions<StreamerOptions> options,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<BidPipeline> logger) : BackgroundService
{
    /// <summary>The streamer's consumer group; the original Faust app was called "bids-streamer".</summary>
    public const string ConsumerGroup = "bids-streamer";

    private readonly StreamerOptions _options = options.Value;
    private readonly PipelineHealth _health = monitor.Health;
    private readonly StreamerMetrics _metrics = monitor.Metrics;
    private readonly PipelineStages _stages = monitor.Stages;
    private readonly KafkaTopicsOptions _topics = topics.Value;
    private readonly KnownUsers _knownUsers = new();

    // Gaps whose loss could not be checked because the broker did not answer: checked again after the next batch.
    private readonly List<(TopicPartition Partition, long From, long To)> _uncheckedGaps = [];

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
                assignments.RestoreUnrestored();
                List<ConsumeResult<string, byte[]>> batch;
                using (_stages.Time(Stage.Poll))
                {
                    batch = await PollAsync(stoppingToken);
                }

                if (batch.Count > 0 && await ProcessUntilDoneAsync(batch, stoppingToken))
                {
                    using (_stages.Time(Stage.Commit))
                    {
                        CheckForDeletedBids(batch);
                        Commit(batch);
                    }

                    _stages.Completed(batch.Count);
                }

                // Also when no bid came: an auction ends whether or not anyone bids.
                await closer.CloseDueAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Nothing a retry can fix: exit non-zero, so the dashboard shows the streamer failed (not finished)
            // and an orchestrator (Container Apps) restarts it. The uncommitted batch is replayed on restart.
            LogFatal(ex, ex.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
        finally
        {
            // Leave the group now rather than when the session times out, so the partitions move at once.
            try
            {
                consumer.Close();
            }
            catch (KafkaException ex)
            {
                LogCloseFailed(ex.Error.Code, ex.Error.Reason);
            }

            LogStopped();
        }
    }

    /// <summary>
    /// The bids fetched so far, up to a batch, from partitions still ours: a message whose partition was
    /// revoked during the poll (the rebalance handlers run inside it) is left to the partition's new owner.
    /// </summary>
    private async Task<List<ConsumeResult<string, byte[]>>> PollAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(ConsumeResult<string, byte[]> Result, long Generation)>();
        try
        {
            var first = consumer.Consume(_options.PollTimeout);
            while (first is not null)
            {
                batch.Add((first, assignments.Generation(first.Partition.Value)));
                if (batch.Count >= _options.MaxBatchSize || stoppingToken.IsCancellationRequested)
                {
                    break;
                }

                // Whatever is already fetched joins the batch; nothing waits for more.
                first = consumer.Consume(TimeSpan.Zero);
            }

            _health.Succeeded(PipelineProblem.Consume);
        }
        catch (KafkaException ex) when (!ex.Error.IsFatal)
        {
            // The messages fetched before the error are kept: the consumer's position is already past them.
            _health.Failed(PipelineProblem.Consume, $"{ex.Error.Code}: {ex.Error.Reason}");
            LogConsumeFailed(ex.Error.Code, ex.Error.Reason, _options.RetryDelay.TotalMilliseconds);
            if (batch.Count == 0)
            {
                await Task.Delay(_options.RetryDelay, time, stoppingToken);
            }
        }

        return [.. batch
            .Where(b => assignments.IsAssigned(b.Result.Partition.Value) && assignments.Generation(b.Result.Partition.Value) == b.Generation)
            .Select(b => b.Result)];
    }

    /// <summary>Processes the batch, retrying with backoff until it is durable; false only when stopping first.</summary>
    private async Task<bool> ProcessUntilDoneAsync(List<ConsumeResult<string, byte[]>> batch, CancellationToken stoppingToken)
    {
        List<DecodedBid> decoded;
        using (_stages.Time(Stage.Decode))
        {
            decoded = [.. batch.Select(message => BidDecoder.Decode(message, _options.MaxClockSkew))];
        }

        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // A batch once started is finished even when stopping, so the offsets can be committed.
                await ProcessIsolatingAsync(decoded);
                closer.Observe(decoded);
                _health.Succeeded();
                return true;
            }
            catch (Exception ex) when (IsInfrastructureFault(ex) && !stoppingToken.IsCancellationRequested)
            {
                _health.Failed(ex);
                LogBatchFailed(ex, batch.Count, attempt, delay.TotalMilliseconds);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>
    /// Processes the bids; when that throws for a reason that is not the infrastructure's, processes each half
    /// on its own, down to the one message that throws, which is set aside. A half that succeeds is durable
    /// before the next is tried, so the second half is decided against the first's outcome, as in one batch.
    /// </summary>
    private async Task ProcessIsolatingAsync(List<DecodedBid> bids)
    {
        try
        {
            await ProcessAsync(bids);
        }
        catch (Exception ex) when (!IsInfrastructureFault(ex) && !IsFatal(ex))
        {
            if (bids.Count == 1)
            {
                await SetAsideAsync(bids[0], ex);
                return;
            }

            LogIsolating(ex.GetType().Name, bids.Count);
            var half = bids.Count / 2;
            await ProcessIsolatingAsync(bids[..half]);
            await ProcessIsolatingAsync(bids[half..]);
        }
    }

    private async Task ProcessAsync(List<DecodedBid> batch)
    {
        var spans = batch.Select(b => KafkaTelemetry.StartProcess(_topics.Bids.Name, b.Source.Message.Headers, b.Source.Partition, b.Source.Offset, ConsumerGroup)).ToList();
        try
        {
            var bids = batch.Where(b => b.Bid is not null).Select(b => b.Bid!).ToList();
            BatchLookups lookups;
            using (_stages.Time(Stage.Lookup))
            {
                lookups = await LookUpAsync(bids);
            }

            BatchOutcome outcome;
            using (_stages.Time(Stage.Decide))
            {
                outcome = processor.Process(batch, lookups, time.GetUtcNowMilliseconds());
                LogRejects(outcome);
            }

            using (_stages.Time(Stage.Persist))
            using (StartPersistSpan(spans, outcome))
            {
                await store.RecordBatchAsync(outcome.ToDatabaseBatch(), CancellationToken.None);
            }

            using (_stages.Time(Stage.Produce))
            {
                await ProduceAsync(outcome.Invalid, outcome.Changelog, spans.FirstOrDefault(s => s is not null)?.Context ?? default);
            }

            using (_stages.Time(Stage.Table))
            {
                processor.Keep(outcome);
            }

            _metrics.Record(outcome, batch.Count, bids.Select(b => b.BidDate), time.GetUtcNow());
        }
        catch (Exception ex)
        {
            foreach (var span in spans)
            {
                KafkaTelemetry.SetError(span, ex.GetType().FullName!, ex.Message);
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

    /// <summary>What the database knows of the batch's users, items and bids: one read each, the first three at once.</summary>
    private async Task<BatchLookups> LookUpAsync(List<BidMessage> bids)
    {
        // Bidders already confirmed are not asked about again (most bids come from people who bid before).
        var unknownUsers = bids.Select(b => b.UserId).Where(id => !_knownUsers.Contains(id)).ToHashSet();
        var users = unknownUsers.Count == 0
            ? Task.FromResult<IReadOnlySet<Guid>>(new HashSet<Guid>())
            : store.FindUsersAsync(unknownUsers, CancellationToken.None);
        var items = store.GetItemsAsync([.. bids.Select(b => b.ItemId)], CancellationToken.None);
        var recorded = await store.GetBidsAsync([.. bids.Select(b => b.Id)], CancellationToken.None);
        // Only a store without atomic batches ever has incomplete ones, and only among bids already recorded.
        var incomplete = recorded.Count == 0
            ? new HashSet<Guid>()
            : await store.FindIncompleteBidsAsync([.. recorded.Keys], CancellationToken.None);
        var found = await users;
        _knownUsers.AddRange(found);
        var existing = bids.Select(b => b.UserId).Where(id => found.Contains(id) || _knownUsers.Contains(id)).ToHashSet();
        return new BatchLookups(existing, await items, recorded, incomplete);
    }

    /// <summary>Publishes a message that cannot be processed to invalid-bids, with the exception's type, so its partition moves on.</summary>
    private async Task SetAsideAsync(DecodedBid message, Exception exception)
    {
        LogSetAside(exception, message.Source.Partition.Value, message.Source.Offset.Value, exception.GetType().Name);
        var reject = BatchProcessor.Unprocessable(message, exception, time.GetUtcNowMilliseconds());
        await ProduceAsync([(BatchProcessor.RejectKey(message), reject)], [], KafkaTelemetry.ExtractContext(message.Source.Message.Headers));
        _metrics.SetAside(1);
    }

    /// <summary>
    /// Sends the rejects and the item states: one send span per topic and batch (a child of the batch's
    /// first process span), whose context every message carries in its headers, so consumers of those
    /// topics continue the trace.
    /// </summary>
    private async Task ProduceAsync(
        IReadOnlyCollection<(string? Key, InvalidBidMessage Message)> invalid, IEnumerable<ItemChangelogMessage> changelog, ActivityContext parent)
    {
        var records = changelog.ToList();
        using var rejectSpan = invalid.Count == 0 ? null : KafkaTelemetry.StartSend(_topics.InvalidBids.Name, messageCount: invalid.Count, parent: parent);
        using var changelogSpan = records.Count == 0 ? null : KafkaTelemetry.StartSend(_topics.ItemChangelog.Name, messageCount: records.Count, parent: parent);
        var sends = new List<Task<DeliveryResult<string, byte[]>>>(invalid.Count + records.Count);
        foreach (var (key, reject) in invalid)
        {
            sends.Add(producer.ProduceAsync(_topics.InvalidBids.Name, Traced(rejectSpan, key!, PipelineJson.Serialize(reject))));
        }

        foreach (var record in records)
        {
            sends.Add(producer.ProduceAsync(_topics.ItemChangelog.Name, Traced(changelogSpan, record.ItemId.ToString(), PipelineJson.Serialize(record))));
        }

        try
        {
            await Task.WhenAll(sends);
        }
        catch (KafkaException ex)
        {
            KafkaTelemetry.SetError(rejectSpan, ex.Error.Code.ToString(), ex.Error.Reason);
            KafkaTelemetry.SetError(changelogSpan, ex.Error.Code.ToString(), ex.Error.Reason);
            throw;
        }
    }

    /// <summary>A record carrying <paramref name="span"/>'s context in its headers, so its consumers continue the trace.</summary>
    internal static Message<string, byte[]> Traced(Activity? span, string key, byte[] value)
    {
        var message = new Message<string, byte[]> { Key = key, Value = value, Headers = [] };
        KafkaTelemetry.Inject(span, message.Headers);
        return message;
    }

    /// <summary>The database or Kafka not answering: the batch is retried whole, later.</summary>
    private static bool IsInfrastructureFault(Exception exception) => exception switch
    {
        StorageUnavailableException => true,
        // A record Kafka refuses for its own sake (too large) is the message's fault, not the broker's.
        ProduceException<string, byte[]> produce when produce.Error.Code is ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsgSize => false,
        KafkaException kafka => !kafka.Error.IsFatal,
        _ => false,
    };

    /// <summary>What no retry and no setting aside can fix: the process stops.</summary>
    private static bool IsFatal(Exception exception) =>
        exception is StorageConfigurationException || exception is KafkaException { Error.IsFatal: true };

    /// <summary>
    /// A broker deletes old messages by retention (the embedded broker keeps about 5 MB per partition): a
    /// streamer lagging further than that would skip bids when its position is reset to the log start.
    /// Such a loss is never silent: it is logged as an error and counted (bidder.bids.lost). When the broker
    /// cannot be asked, that is logged too, and asked again after the next batch.
    /// </summary>
    private void CheckForDeletedBids(List<ConsumeResult<string, byte[]>> batch)
    {
        var gaps = _uncheckedGaps.ToList();
        _uncheckedGaps.Clear();
        foreach (var partition in batch.GroupBy(r => r.TopicPartition))
        {
            var number = partition.Key.Partition.Value;
            var first = partition.Min(r => r.Offset.Value);
            var expected = assignments.TryGetNextOffset(number, out var next) ? next : CommittedOffset(partition.Key);
            if (expected >= 0 && first > expected)
            {
                gaps.Add((partition.Key, expected, first));
            }

            assignments.SetNextOffset(number, partition.Max(r => r.Offset.Value) + 1);
        }

        foreach (var (partition, from, to) in gaps)
        {
            // Not a loss when another replica processed them meanwhile; only when the broker no longer has them.
            var logStart = LogStartOffset(partition);
            if (logStart < 0)
            {
                LogGapUnchecked(to - from, partition.Partition.Value, from);
                _uncheckedGaps.Add((partition, from, to));
            }
            else if (logStart > from)
            {
                var lost = Math.Min(to, logStart) - from;
                _metrics.Lost(lost);
                LogBidsDeleted(lost, partition.Partition.Value, from, logStart);
            }
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
        catch (KafkaException ex)
        {
            LogCommittedUnknown(partition.Partition.Value, ex.Error.Reason);
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

    /// <summary>Commits the batch's offsets for the partitions still ours; a revoked one's new owner replays from its own commit.</summary>
    private void Commit(List<ConsumeResult<string, byte[]>> batch)
    {
        var offsets = batch
            .Where(r => assignments.IsAssigned(r.Partition.Value))
            .GroupBy(r => r.TopicPartition)
            .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1))
            .ToList();
        if (offsets.Count == 0)
        {
            return;
        }

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

    [LoggerMessage(Level = LogLevel.Critical, Message = "Bid pipeline stopped by a fault no retry can fix; exiting with code 1 (restart the streamer once it is fixed): {Reason}")]
    private partial void LogFatal(Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected bid {BidId}: {Reason} ({Detail})")]
    private partial void LogRejected(Guid? bidId, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} bid(s) failed (attempt {Attempt}); retrying in {DelayMs} ms.")]
    private partial void LogBatchFailed(Exception exception, int count, int attempt, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Processing {Count} message(s) threw {ExceptionType}; processing each half on its own to find the message that causes it.")]
    private partial void LogIsolating(string exceptionType, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The message at partition {Partition}, offset {Offset} cannot be processed ({ExceptionType}); it is set aside on invalid-bids as unprocessable and its partition moves on.")]
    private partial void LogSetAside(Exception exception, int partition, long offset, string exceptionType);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} bid(s) of partition {Partition} from offset {Offset} were deleted by the broker's retention before being processed (log start is now {LogStart}): they are lost. Keep the streamer's lag under the topic's retention.")]
    private partial void LogBidsDeleted(long count, int partition, long offset, long logStart);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} bid(s) of partition {Partition} from offset {Offset} were skipped by this streamer, and the broker did not say whether retention deleted them; asking again after the next batch.")]
    private partial void LogGapUnchecked(long count, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The committed offset of partition {Partition} is unknown ({Reason}): skipped bids cannot be checked for this batch.")]
    private partial void LogCommittedUnknown(int partition, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consuming bids failed ({Code}: {Reason}); polling again in {DelayMs} ms.")]
    private partial void LogConsumeFailed(ErrorCode code, string reason, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing offsets failed ({Code}: {Reason}); the batch will be replayed harmlessly.")]
    private partial void LogCommitFailed(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving the consumer group failed ({Code}: {Reason}).")]
    private partial void LogCloseFailed(ErrorCode code, string reason);
}

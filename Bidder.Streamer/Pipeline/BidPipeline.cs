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
/// consume a batch -> decode -> look up (one read each for users, items and, where some may be, recorded bids) -> validate and
/// route -> database (one transaction) -> invalid-bids and item-changelog (awaited) -> table -> commit (while
/// lagging, the written batches' offsets at most once per <see cref="StreamerOptions.CommitInterval"/>);
/// between batches, and on an idle topic every poll, the <see cref="AuctionCloser"/> closes ended auctions.
/// Two batches overlap: while one is written (database, topics) on the thread pool, the loop polls, decodes,
/// looks up and decides the next against it as if it were done (its item rows before the table's, its bids as
/// recorded); the table takes a batch's rows and its offsets are committed only once its write is done, and a
/// batch whose predecessor's write failed is decided again. Closes wait for every write under way. A rebalance
/// waits for the writes under way and commits them before the partitions go (<see cref="FinishBeforeRevoke"/>).
/// The database is written first and the offsets committed last, so a crash anywhere replays the batch,
/// and replaying is harmless: recorded bids are recognized by id and not counted again.
/// Faults are of two kinds. The database or Kafka not answering is retried, the batch whole, with
/// backoff, while <c>/health</c> says so. Anything else thrown while processing (a message no store can
/// take, a bug that one message triggers) is narrowed down to the message that causes it by halving the
/// batch; that message is set aside on invalid-bids as <c>unprocessable</c> and the rest flows, so no
/// message can stop a partition or loop. What no retry can fix (a database refusing the configuration, a
/// fatal Kafka error) stops the process with a non-zero exit code, for the orchestrator to restart it.
/// A batch the database refuses whole as decided against what it does not hold (a bid recorded already, an item
/// changed since it was read, as another writer on the partition does) is no fault: it is decided again
/// (<see cref="IsToDecideAgain"/>).
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
    private readonly KnownItems _knownItems = new();
    private long _knownItemsRebalances;

    // Whether the next batch may hold bids recorded already: at the start, after a rebalance or a failure (the
    // offsets after a commit replay), and while the last batch asked about held some. Otherwise, with a store that
    // refuses a batch whole (IBatchRecorder.RefusesRecordedBids), the bids are decided as new without asking, and a
    // batch holding a recorded one after all (a copy at a new offset) is refused by the store and decided again asking.
    private bool _expectRecorded = true;

    /// <summary>OpenTelemetry's default SpanLinkCountLimit: links past it are dropped at export.</summary>
    private const int MaxSpanLinks = 128;

    /// <summary>How long a rebalance waits for the batch being written before its partitions go.</summary>
    private static readonly TimeSpan RevokeWait = TimeSpan.FromSeconds(30);

    /// <summary>At most this many batches are written at once: one in the database while the one before sends its records.</summary>
    private const int MaxWriting = 2;

    // The batches decided and being written (database, then topics), oldest first, while the loop polls and decides the next.
    private readonly Queue<PreparedBatch> _writing = new();

    // Gaps whose loss could not be checked because the broker did not answer: checked again after the next batch.
    private readonly List<(TopicPartition Partition, long From, long To)> _uncheckedGaps = [];

    // Written batches' next offsets not committed yet (StreamerOptions.CommitInterval), and when offsets were last committed.
    private readonly Dictionary<TopicPartition, long> _uncommitted = [];
    private long _lastCommit;

    // The last commit failed: its offsets are kept and tried again (CommitWritten).
    private bool _commitFailed;

    // The last poll found a full batch: the streamer is behind its topic.
    private bool _lagging;

    // A failed batch is being processed again (CompleteWritesAsync) before the writes after it complete.
    private bool _redoing;

    // Consume blocks, so the loop has a thread of its own.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => RunAsync(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        consumer.Subscribe(_topics.Bids.Name);
        assignments.Revoking = FinishBeforeRevoke;
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

                _lagging = batch.Count >= _options.MaxBatchSize;

                // Decided while the batches before it are still being written, as if they were done.
                var next = batch.Count > 0 ? await PrepareAsync(batch) : null;
                var asDecided = await CompleteWritesAsync(all: next?.Outcome is null, stoppingToken);
                if (next is not null)
                {
                    if (asDecided && next.Outcome is not null && !stoppingToken.IsCancellationRequested)
                    {
                        StartWrite(next);
                        if (!_lagging)
                        {
                            // Not lagging (the poll found less than a batch): this write is finished before the next
                            // poll, so the bids arriving meanwhile make one batch, one commit, rather than many small
                            // ones competing with the API for the CPU (BENCHMARKS.md, ingest). Lagging, writes overlap.
                            await CompleteWritesAsync(all: true, stoppingToken);
                        }
                    }
                    else
                    {
                        // Decided against what was not written as decided (or not decided at all): again, on its own.
                        next.Dispose();
                        await CompleteWritesAsync(all: true, stoppingToken);
                        await ProcessUntilDoneAsync(batch, stoppingToken);
                    }
                }

                // Also when no bid came: an auction ends whether or not anyone bids. Only after the batches polled so
                // far are written (when anything is due): the bids taken before an end are decided before its close.
                var changes = closer.Changes;
                await closer.CloseDueAsync(stoppingToken, () => CompleteWritesAsync(all: true, stoppingToken));
                if (closer.Changes != changes)
                {
                    _knownItems.Clear();
                }

                if (!_lagging)
                {
                    CommitWritten();
                }
            }

            // Stopping: the batches being written are finished and their offsets committed.
            await CompleteWritesAsync(all: true, stoppingToken);
            CommitWritten(now: true);
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
            // While batches are being written, only what is already fetched: with nothing there, the loop finishes
            // them first rather than wait for bids with their table rows and offsets held back.
            var first = consumer.Consume(_writing.Count == 0 ? _options.PollTimeout : TimeSpan.Zero);
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

    /// <summary>
    /// Decodes, looks up and decides a batch against the table and the batches still being written
    /// (<see cref="_writing"/>). Its outcome stays null when that fails: the batch is then processed on its own,
    /// with retries, once the ones before are done.
    /// </summary>
    private async Task<PreparedBatch> PrepareAsync(List<ConsumeResult<string, byte[]>> batch)
    {
        var decoded = Decode(batch);

        var prepared = new PreparedBatch(decoded, StartSpans(decoded))
        {
            Generations = batch.Select(m => m.Partition.Value).Distinct().ToDictionary(p => p, assignments.Generation),
        };
        try
        {
            await DecideAsync(prepared, [.. _writing.Reverse().Select(w => w.Outcome!)], mayAssumeNew: true);
        }
        catch (Exception)
        {
            // Whatever it was (the database not answering, mostly), the sequential path meets it again and deals with it.
            prepared.Outcome = null;
        }

        return prepared;
    }

    private List<DecodedBid> Decode(List<ConsumeResult<string, byte[]>> batch)
    {
        using (_stages.Time(Stage.Decode))
        {
            return [.. batch.Select(message => BidDecoder.Decode(message, _options.MaxClockSkew))];
        }
    }

    /// <summary>
    /// Hands a decided batch to the thread pool, to be written after the batch before it (<see cref="WriteAsync"/>).
    /// </summary>
    private void StartWrite(PreparedBatch prepared)
    {
        var previous = _writing.Count > 0 ? _writing.Last() : null;
        prepared.Written = Task.Run(() => WriteAsync(prepared, previous));
        _writing.Enqueue(prepared);
    }

    /// <summary>
    /// Completes the batches being written, oldest first (all, or all but the newest <see cref="MaxWriting"/> - 1):
    /// once written, the table takes its rows and its offsets are committed. True when each was written as decided;
    /// when one failed, every write under way is awaited, and each that failed is processed again on its own, with
    /// retries, in order (the batch decided against them must then be decided again).
    /// </summary>
    private async Task<bool> CompleteWritesAsync(bool all, CancellationToken stoppingToken)
    {
        var asDecided = true;
        while (_writing.Count > (all ? 0 : MaxWriting - 1))
        {
            var written = _writing.Peek();
            using (_stages.Time(Stage.Wait))
            {
                await Task.WhenAny(written.Written);
                if (!written.Written.IsCompletedSuccessfully)
                {
                    // The later ones may depend on it: nothing is done again until every write has ended.
                    await Task.WhenAll(_writing.Select(w => Task.WhenAny(w.Written)));
                    (asDecided, all) = (false, true);
                }
            }

            _writing.Dequeue();
            using (written)
            {
                if (written.Written.IsCompletedSuccessfully)
                {
                    Keep(written);
                    closer.Observe(written.Decoded);
                    _health.Succeeded();
                    Completed(written.Messages);
                    continue;
                }

                _knownItems.Clear();
                var fault = written.Written.Exception!.GetBaseException();
                if (IsToDecideAgain(fault))
                {
                    // Not a fault: the database holds what the batch was not decided against (a bid recorded, an item
                    // changed). Decided again against it, asking which bids are recorded.
                    DecideAgain(fault, written.Decoded.Count);
                }
                else if (fault is not DecidedAfterUnwrittenException)
                {
                    // (A batch decided after one that failed goes again with it; that failure is logged already.)
                    written.Failed(fault);
                    LogBatchFailed(fault, written.Decoded.Count, 1, 0);
                }
            }

            // Of partitions still ours only: one revoked meanwhile is its new owner's to replay.
            var again = written.Messages
                .Where(m => assignments.IsAssigned(m.Partition.Value) && assignments.Generation(m.Partition.Value) == written.Generations[m.Partition.Value])
                .ToList();
            if (again.Count > 0)
            {
                // The batches after it in _writing were decided against it: none is committed before it is done, not
                // even by a revoke inside the consumer's close should a stop end this.
                _redoing = true;
                await ProcessUntilDoneAsync(again, stoppingToken);
                _redoing = false;
            }
        }

        return asDecided;
    }

    /// <summary>
    /// Partitions are being revoked (inside the poll, on the loop's thread): the writes under way are waited for
    /// and the offsets of those partitions committed as far as every batch was written, so their new owner does
    /// not decide those bids again beside this writer. The rest of each completion happens in the loop as usual.
    /// </summary>
    private void FinishBeforeRevoke(IReadOnlyList<int> partitions, bool lost)
    {
        if (_writing.Count > 0)
        {
            using (_stages.Time(Stage.Wait))
            {
                // Bounded: the rebalance waits on it. What is not written by then is replayed by the new owner (harmless).
                Task.WaitAny([Task.WhenAll(_writing.Select(w => Task.WhenAny(w.Written)))], RevokeWait);
            }

            // Of the revoked partitions only: the others' offsets wait for their batches' completion in the loop. None
            // while a failed batch before them is being processed again (CompleteWritesAsync): they come after it.
            Remember(_writing.TakeWhile(w => !_redoing && w.Written.IsCompletedSuccessfully)
                .SelectMany(w => w.Messages)
                .Where(m => partitions.Contains(m.Partition.Value)));
        }

        var revoked = _uncommitted.Keys.Where(p => partitions.Contains(p.Partition.Value)).ToList();
        if (!lost)
        {
            Commit([.. revoked.Select(p => new TopicPartitionOffset(p, _uncommitted[p]))]);
        }

        foreach (var partition in revoked)
        {
            _uncommitted.Remove(partition);
        }
    }

    /// <summary>
    /// Processes the batch, retrying with backoff until it is durable, then commits it. A stop during a retry's wait
    /// ends it (OperationCanceledException), the batch's offsets uncommitted, for the next owner or start to replay.
    /// </summary>
    private async Task ProcessUntilDoneAsync(List<ConsumeResult<string, byte[]>> batch, CancellationToken stoppingToken)
    {
        // The path after a failure: the database may be ahead of what is remembered, and bids recorded may come again.
        _knownItems.Clear();
        _expectRecorded = true;
        var decoded = Decode(batch);

        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // An attempt once started is finished even when stopping (the token is not passed down).
                await ProcessIsolatingAsync(decoded);
                closer.Observe(decoded);
                _health.Succeeded();
                Completed(batch);
                return;
            }
            catch (Exception ex) when (IsToDecideAgain(ex))
            {
                // Decided again against the database. A writer that keeps changing the items or recording the bids
                // is another owner of the partition, which one of the two loses at the next rebalance: backed off
                // meanwhile. Stopping, the batch is left (its offsets uncommitted) for the next owner to replay.
                DecideAgain(ex, batch.Count);
                stoppingToken.ThrowIfCancellationRequested();
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
            catch (Exception ex) when (IsInfrastructureFault(ex))
            {
                if (stoppingToken.IsCancellationRequested)
                {
                    // Not a fatal fault: an attempt the stop let finish. The batch is left (its offsets uncommitted)
                    // for the next owner or start to replay, as during a wait.
                    LogLeftUncommitted(ex, batch.Count);
                    throw new OperationCanceledException(stoppingToken);
                }

                _health.Failed(ex);
                LogBatchFailed(ex, batch.Count, attempt, delay.TotalMilliseconds);
                await Task.Delay(delay, time, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>A durable batch: its partitions' positions checked for bids deleted unread, its offsets committed.</summary>
    private void Completed(List<ConsumeResult<string, byte[]>> batch)
    {
        using (_stages.Time(Stage.Commit))
        {
            CheckForDeletedBids(batch);
            Remember(batch);
            if (!_lagging || time.GetElapsedTime(_lastCommit) >= _options.CommitInterval)
            {
                CommitWritten();
            }
        }

        _stages.Completed(batch.Count);
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
        catch (Exception ex) when (!IsInfrastructureFault(ex) && !IsFatal(ex) && !IsToDecideAgain(ex))
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
        using var prepared = new PreparedBatch(batch, StartSpans(batch));
        try
        {
            await DecideAsync(prepared, pending: [], mayAssumeNew: false);
            await WriteAsync(prepared);
        }
        catch (Exception ex)
        {
            prepared.Failed(ex);
            throw;
        }

        Keep(prepared);
    }

    private List<Activity?> StartSpans(List<DecodedBid> batch) =>
        [.. batch.Select(b => KafkaTelemetry.StartProcess(_topics.Bids.Name, b.Source.Message.Headers, b.Source.Partition, b.Source.Offset, ConsumerGroup))];

    /// <summary>
    /// Looks up and decides: against <paramref name="pending"/> (batches decided before, not kept yet, newest first) and
    /// the table; as new bids without asking which are recorded when <paramref name="mayAssumeNew"/> and nothing says
    /// otherwise (<see cref="_expectRecorded"/>). The path that retries and sets messages aside always asks: there a
    /// batch refused for a recorded bid would be taken for one that fails.
    /// </summary>
    private async Task DecideAsync(PreparedBatch prepared, IReadOnlyList<BatchOutcome> pending, bool mayAssumeNew)
    {
        BatchLookups lookups;
        using (_stages.Time(Stage.Lookup))
        {
            lookups = await LookUpAsync(prepared, pending, mayAssumeNew);
        }

        using (_stages.Time(Stage.Decide))
        {
            prepared.Outcome = processor.Process(prepared.Decoded, lookups, time.GetUtcNowMilliseconds(), pending);
            LogRejects(prepared.Outcome);
        }
    }

    /// <summary>
    /// The database first (one transaction), then the rejects and item states on their topics (awaited). Given
    /// <paramref name="previous"/> (the batch decided before, being written), the database write waits for its
    /// database write (and fails when that failed: decided against it, this batch is written after it or not at
    /// all), and the records go to the producer after its records, so each item's states reach the changelog in
    /// order. The next batch's database write may start as soon as this one's is done.
    /// </summary>
    private async Task WriteAsync(PreparedBatch prepared, PreparedBatch? previous = null)
    {
        var outcome = prepared.Outcome!;
        Task delivered;
        PipelineStages.StageTimer produce;
        try
        {
            if (previous is not null && !await Succeeded(previous.Persisted))
            {
                throw new DecidedAfterUnwrittenException();
            }

            using (_stages.Time(Stage.Persist))
            using (StartPersistSpan(prepared.Spans, outcome))
            {
                await store.RecordBatchAsync(outcome.ToDatabaseBatch(), CancellationToken.None);
            }

            prepared.MarkPersisted();
            if (previous is not null)
            {
                await Task.WhenAny(previous.Sent);
            }

            produce = _stages.Time(Stage.Produce);
            // Every record is with the producer when this returns: it only awaits their delivery.
            delivered = ProduceAsync(outcome.Invalid, outcome.Changelog, prepared.FirstContext);
            prepared.MarkSent();
        }
        catch (Exception)
        {
            prepared.Abandon();
            throw;
        }

        using (produce)
        {
            await delivered;
        }
    }

    private static async Task<bool> Succeeded(Task task)
    {
        await Task.WhenAny(task);
        return task.IsCompletedSuccessfully;
    }

    /// <summary>A written batch's rows go into the table, its counts into the metrics.</summary>
    private void Keep(PreparedBatch prepared)
    {
        using (_stages.Time(Stage.Table))
        {
            processor.Keep(prepared.Outcome!);
        }

        _metrics.Record(prepared.Outcome!, prepared.Decoded.Count, prepared.Bids.Select(b => b.BidDate), time.GetUtcNow());
    }

    /// <summary>
    /// What the database knows of the batch's users, items and bids: one read each, the first three at once, the
    /// users and items only for those not confirmed before (<see cref="KnownUsers"/>, <see cref="KnownItems"/>), the
    /// bids unless <paramref name="mayAssumeNew"/> and none may be recorded (<see cref="_expectRecorded"/>; the batch is
    /// then decided as new bids, for the store to refuse should one be recorded after all). The bids of
    /// <paramref name="pending"/> (being written, perhaps not committed yet) count as recorded.
    /// </summary>
    private async Task<BatchLookups> LookUpAsync(PreparedBatch prepared, IReadOnlyList<BatchOutcome> pending, bool mayAssumeNew)
    {
        var bids = prepared.Bids;
        // Bidders already confirmed are not asked about again (most bids come from people who bid before).
        var unknownUsers = bids.Select(b => b.UserId).Where(id => !_knownUsers.Contains(id)).ToHashSet();
        var users = unknownUsers.Count == 0
            ? Task.FromResult<IReadOnlySet<Guid>>(new HashSet<Guid>())
            : store.FindUsersAsync(unknownUsers, CancellationToken.None);
        if (_knownItemsRebalances != assignments.Rebalances)
        {
            // Partitions came: their bids after the last commit may be recorded (replayed).
            _knownItems.Clear();
            _knownItemsRebalances = assignments.Rebalances;
            _expectRecorded = true;
        }

        // Each item as the batch finds it in its partition: remembered where the row it starts from is at least as new.
        var known = new Dictionary<Guid, Item>();
        var unknownItems = new HashSet<Guid>();
        foreach (var decoded in prepared.Decoded)
        {
            if (decoded.Bid is { ItemId: var itemId } && !unknownItems.Contains(itemId))
            {
                if (_knownItems.TryGet(itemId, processor.RowVersion(decoded.Source.Partition.Value, itemId, pending), out var item))
                {
                    known.TryAdd(itemId, item);
                }
                else
                {
                    unknownItems.Add(itemId);
                    known.Remove(itemId);
                }
            }
        }

        var items = unknownItems.Count == 0
            ? Task.FromResult<IReadOnlyDictionary<Guid, Item>>(new Dictionary<Guid, Item>())
            : store.GetItemsAsync(unknownItems, CancellationToken.None);
        var askRecorded = !mayAssumeNew || _expectRecorded || !store.RefusesRecordedBids;
        IReadOnlyDictionary<Guid, Bid> recorded = new Dictionary<Guid, Bid>();
        if (askRecorded)
        {
            recorded = await store.GetBidsAsync([.. bids.Select(b => b.Id)], CancellationToken.None);
            _expectRecorded = recorded.Count > 0;
        }

        // Only a store without atomic batches ever has incomplete ones, and only among bids already recorded.
        IReadOnlySet<Guid> incomplete = recorded.Count == 0
            ? new HashSet<Guid>()
            : await store.FindIncompleteBidsAsync([.. recorded.Keys], CancellationToken.None);
        if (pending.Count > 0)
        {
            // The batches being written hold them as decided, whatever of their writes the database shows yet. Indexed
            // by this batch's ids (a thousand), not the pending bids (two thousand: a table on the large object heap).
            var ids = bids.Select(b => b.Id).ToHashSet();
            var copies = new Dictionary<Guid, Bid>();
            foreach (var bid in pending.SelectMany(p => p.Bids))
            {
                if (ids.Contains(bid.Id))
                {
                    copies.TryAdd(bid.Id, bid);
                }
            }

            if (copies.Count > 0)
            {
                recorded = new Dictionary<Guid, Bid>(recorded.Where(r => !copies.ContainsKey(r.Key)).Concat(copies));
                incomplete = incomplete.Where(id => !copies.ContainsKey(id)).ToHashSet();
            }
        }

        var found = await users;
        _knownUsers.AddRange(found);
        var existing = bids.Select(b => b.UserId).Where(id => found.Contains(id) || _knownUsers.Contains(id)).ToHashSet();
        var read = await items;
        _knownItems.AddRange(read.Values);
        foreach (var (id, item) in read)
        {
            known[id] = item;
        }

        return new BatchLookups(existing, known, recorded, incomplete) { RecordedAsked = askRecorded };
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
        var rejectHeaders = RecordSender.TraceHeaders(rejectSpan);
        var changelogHeaders = RecordSender.TraceHeaders(changelogSpan);
        try
        {
            await RecordSender.SendAsync(producer,
                invalid.Select(r => (_topics.InvalidBids.Name, RecordSender.Record(rejectHeaders, r.Key, PipelineJson.Serialize(r.Message))))
                    .Concat(records.SelectMany(r => RecordSender.Changelog(_topics.ItemChangelog.Name, changelogHeaders, r))));
        }
        catch (KafkaException ex)
        {
            KafkaTelemetry.SetError(rejectSpan, ex.Error.Code.ToString(), ex.Error.Reason);
            KafkaTelemetry.SetError(changelogSpan, ex.Error.Code.ToString(), ex.Error.Reason);
            throw;
        }
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

    /// <summary>Notes the written messages' offsets, of the partitions still ours, as ready to commit.</summary>
    private void Remember(IEnumerable<ConsumeResult<string, byte[]>> written)
    {
        foreach (var message in written)
        {
            if (assignments.IsAssigned(message.Partition.Value))
            {
                var next = message.Offset.Value + 1;
                _uncommitted[message.TopicPartition] = Math.Max(next, _uncommitted.GetValueOrDefault(message.TopicPartition));
            }
        }
    }

    /// <summary>
    /// Commits every written batch's offsets not committed yet, for the partitions still ours. A commit that fails
    /// keeps them, to be tried again <see cref="StreamerOptions.MaxRetryDelay"/> later (at least a
    /// <see cref="StreamerOptions.CommitInterval"/>; at once when <paramref name="now"/>): else an idle partition's
    /// committed offset would stay behind the bids written, for its next owner or this streamer restarted to go
    /// through again. Not sooner: a commit waits for the group's coordinator, up to the session timeout while the
    /// broker is down, and a refusal that lasts would be logged at every poll.
    /// </summary>
    private void CommitWritten(bool now = false)
    {
        if (_commitFailed && !now && time.GetElapsedTime(_lastCommit) < TimeSpan.FromTicks(Math.Max(_options.CommitInterval.Ticks, _options.MaxRetryDelay.Ticks)))
        {
            return;
        }

        foreach (var revoked in _uncommitted.Keys.Where(p => !assignments.IsAssigned(p.Partition.Value)).ToList())
        {
            _uncommitted.Remove(revoked);
        }

        _commitFailed = !Commit([.. _uncommitted.Select(p => new TopicPartitionOffset(p.Key, p.Value))]);
        if (!_commitFailed)
        {
            _uncommitted.Clear();
        }

        _lastCommit = time.GetTimestamp();
    }

    /// <summary>Commits the offsets (true when there were none); a revoked partition's new owner replays from its own commit.</summary>
    private bool Commit(List<TopicPartitionOffset> offsets)
    {
        if (offsets.Count == 0)
        {
            return true;
        }

        try
        {
            consumer.Commit(offsets);
            return true;
        }
        catch (KafkaException ex)
        {
            // The batch is durable and idempotent: if this commit is lost, the replay changes nothing.
            LogCommitFailed(ex.Error.Code, ex.Error.Reason);
            return false;
        }
    }

    // The database write serves every bid of the batch; it continues the first one's trace and links the next ones,
    // as many as OpenTelemetry exports (SpanLinkCountLimit, 128 by default): the rest of a batch's links were made
    // only to be dropped at export. Every bid's own span records its outcome either way.
    private static Activity? StartPersistSpan(List<Activity?> spans, BatchOutcome outcome)
    {
        var first = spans.FirstOrDefault(s => s is not null);
        var links = spans.Skip(1).Where(s => s is not null).Take(MaxSpanLinks).Select(s => new ActivityLink(s!.Context));
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

    /// <summary>
    /// The database refused a batch whole as not decided against what it holds: a bid recorded already
    /// (<see cref="BidsAlreadyRecordedException"/>), an item changed since the batch read it
    /// (<see cref="ItemChangedMeanwhileException"/>). Neither is the batch's fault: it is decided again.
    /// </summary>
    private static bool IsToDecideAgain(Exception exception) => exception is BidsAlreadyRecordedException or ItemChangedMeanwhileException;

    /// <summary>Before a batch is decided again (<see cref="IsToDecideAgain"/>): the items that changed under it are read from the database, and recorded bids asked for.</summary>
    private void DecideAgain(Exception refusal, int count)
    {
        _knownItems.Clear();
        _expectRecorded = true;
        if (refusal is ItemChangedMeanwhileException changed)
        {
            processor.Forget(changed.ItemIds);
            LogItemsChangedMeanwhile(count, changed.ItemIds.Count, changed.ItemIds.First());
        }
        else if (refusal is BidsAlreadyRecordedException recorded)
        {
            LogDecidedAgain(count, recorded.BidId);
        }
    }

    /// <summary>Not written: the batch it was decided after was not written (that failure is reported on its own).</summary>
    private sealed class DecidedAfterUnwrittenException() : Exception("Not written: the batch it was decided after was not written.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Bid pipeline consuming {Topic}.")]
    private partial void LogStarted(string topic);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bid pipeline stopped: the batches written are committed, the group left.")]
    private partial void LogStopped();

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} bid(s) failed while the streamer stops; left uncommitted, for the next owner or start to replay.")]
    private partial void LogLeftUncommitted(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Bid pipeline stopped by a fault no retry can fix; exiting with code 1 (restart the streamer once it is fixed): {Reason}")]
    private partial void LogFatal(Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rejected bid {BidId}: {Reason} ({Detail})")]
    private partial void LogRejected(Guid? bidId, string reason, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} bid(s) failed (attempt {Attempt}); retrying in {DelayMs} ms.")]
    private partial void LogBatchFailed(Exception exception, int count, int attempt, double delayMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "A batch of {Count} bid(s) holds bid {BidId}, which is recorded already (a copy or a replay, when the batch was decided as new bids; else another writer's decision): nothing of it was written; it is decided again, asking which bids are recorded.")]
    private partial void LogDecidedAgain(int count, Guid bidId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} bid(s) was decided against {Items} item state(s) the database no longer holds (first: item {ItemId}; changed since the batch read them, by another writer on the partition, or the table was behind): nothing of it was written; it is decided again against the database.")]
    private partial void LogItemsChangedMeanwhile(int count, int items, Guid itemId);

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing offsets failed ({Code}: {Reason}); trying again within seconds (a replay of what was written meanwhile is harmless).")]
    private partial void LogCommitFailed(ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving the consumer group failed ({Code}: {Reason}).")]
    private partial void LogCloseFailed(ErrorCode code, string reason);
}

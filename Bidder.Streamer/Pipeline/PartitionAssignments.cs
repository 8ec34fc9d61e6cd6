using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// The bids partitions this streamer owns, kept by the consumer's rebalance handlers, which run inside the
/// pipeline's poll (on its thread): an assigned partition's item table is restored before its bids are
/// processed; a revoked or lost one leaves with its table and its loss-detection position, and the
/// pipeline neither processes nor commits what it still held of it. A restore that fails is logged,
/// reported by <c>/health</c> and retried from the loop; meanwhile that partition's bids are decided
/// against the database, which holds every recorded bid, so nothing waits and nothing is decided wrong.
/// </summary>
public sealed partial class PartitionAssignments(
    ItemTable table,
    ChangelogRestorer restorer,
    PipelineHealth health,
    TimeProvider time,
    IOptions<StreamerOptions> options,
    ILogger<PartitionAssignments> logger)
{
    private readonly HashSet<int> _assigned = [];
    private readonly Dictionary<int, long> _nextOffsets = [];
    private readonly HashSet<int> _unrestored = [];
    private readonly Dictionary<int, long> _generations = [];
    private DateTimeOffset _nextRestoreAttempt;
    private TimeSpan _restoreDelay = options.Value.RetryDelay;

    /// <summary>Hands the consumer's rebalance events to this class; they run inside the pipeline's poll, on its thread.</summary>
    public void Handle(ConsumerBuilder<string, byte[]> consumer) => consumer
        .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
        .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition), lost: false))
        .SetPartitionsLostHandler((_, partitions) => OnRevoked(partitions.Select(p => p.TopicPartition), lost: true));

    public bool IsAssigned(int partition) => _assigned.Contains(partition);

    public IReadOnlyCollection<int> Assigned => _assigned;

    /// <summary>How many times partitions were assigned or taken away.</summary>
    public long Rebalances { get; private set; }

    /// <summary>Changes whenever the partition is assigned or taken away: a message fetched under another generation is not ours to process.</summary>
    public long Generation(int partition) => _generations.GetValueOrDefault(partition);

    public void OnAssigned(IEnumerable<TopicPartition> partitions)
    {
        var added = partitions.Select(p => p.Partition.Value).ToList();
        LogAssigned(string.Join(", ", added));
        Rebalances++;
        foreach (var partition in added)
        {
            _assigned.Add(partition);
            _generations[partition] = Generation(partition) + 1;
            _nextOffsets.Remove(partition);
            _unrestored.Add(partition);
        }

        _restoreDelay = options.Value.RetryDelay;
        RestoreUnrestored(force: true);
    }

    /// <summary>
    /// Called first when partitions are revoked or lost (their numbers, and whether lost), while they are still
    /// ours: the pipeline finishes the batch it is writing and commits its offsets of them, so their new owner
    /// starts after it rather than deciding its bids again beside this writer.
    /// </summary>
    public Action<IReadOnlyList<int>, bool>? Revoking { get; set; }

    public void OnRevoked(IEnumerable<TopicPartition> partitions, bool lost)
    {
        var removed = partitions.Select(p => p.Partition.Value).ToList();
        LogRevoked(lost ? "lost" : "revoked", string.Join(", ", removed));
        Revoking?.Invoke(removed, lost);
        Rebalances++;
        foreach (var partition in removed)
        {
            _assigned.Remove(partition);
            _generations[partition] = Generation(partition) + 1;
            _nextOffsets.Remove(partition);
            _unrestored.Remove(partition);
            table.Drop(partition);
        }

        if (_unrestored.Count == 0)
        {
            health.Succeeded(PipelineProblem.Restore);
        }
    }

    /// <summary>Where the next batch of a partition should start: the offset after the last one processed here.</summary>
    public bool TryGetNextOffset(int partition, out long offset) => _nextOffsets.TryGetValue(partition, out offset);

    public void SetNextOffset(int partition, long offset)
    {
        if (_assigned.Contains(partition))
        {
            _nextOffsets[partition] = offset;
        }
    }

    /// <summary>Retries the restores that failed, with backoff; called from the loop between batches.</summary>
    public void RestoreUnrestored(bool force = false)
    {
        if (_unrestored.Count == 0 || (!force && time.GetUtcNow() < _nextRestoreAttempt))
        {
            return;
        }

        foreach (var partition in _unrestored.Order().ToList())
        {
            try
            {
                table.Load(partition, restorer.Restore(partition));
                _unrestored.Remove(partition);
            }
            catch (Exception ex)
            {
                // Whatever the cause, the partition's bids can still be decided against the database: report and retry.
                health.Failed(PipelineProblem.Restore, $"partition {partition}: {ex.Message}");
                LogRestoreFailed(ex, partition, _restoreDelay.TotalMilliseconds);
            }
        }

        if (_unrestored.Count == 0)
        {
            health.Succeeded(PipelineProblem.Restore);
            return;
        }

        _nextRestoreAttempt = time.GetUtcNow() + _restoreDelay;
        _restoreDelay = TimeSpan.FromTicks(Math.Min(_restoreDelay.Ticks * 2, options.Value.MaxRetryDelay.Ticks));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Assigned bids partitions: {Partitions}.")]
    private partial void LogAssigned(string partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bids partitions {How}: {Partitions}.")]
    private partial void LogRevoked(string how, string partitions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Restoring item-table partition {Partition} from the changelog failed; its bids are decided against the database meanwhile; retrying in {DelayMs} ms.")]
    private partial void LogRestoreFailed(Exception exception, int partition, double delayMs);
}

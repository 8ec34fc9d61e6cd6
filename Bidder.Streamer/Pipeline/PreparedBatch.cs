using System.Diagnostics;
using Bidder.Domain.Contracts;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// One batch on its way through the stages: its messages (decoded), one process span per message, and once
/// decided its outcome and the write under way (<see cref="Persisted"/>, <see cref="Sent"/>, <see cref="Written"/>).
/// </summary>
internal sealed class PreparedBatch(List<DecodedBid> decoded, List<Activity?> spans) : IDisposable
{
    public List<DecodedBid> Decoded { get; } = decoded;

    public List<Activity?> Spans { get; } = spans;

    public List<BidMessage> Bids { get; } = [.. decoded.Where(b => b.Bid is not null).Select(b => b.Bid!)];

    public BatchOutcome? Outcome { get; set; }

    /// <summary>The assignment generation of each partition in the batch when it was polled: a partition that moved since is not ours to redo.</summary>
    public Dictionary<int, long> Generations { get; init; } = [];

    private readonly TaskCompletionSource _persisted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Done once the database holds the batch (cancelled when that failed): the next batch may be written.</summary>
    public Task Persisted => _persisted.Task;

    /// <summary>Done once its records are with the producer (cancelled when that failed): the next batch's may follow.</summary>
    public Task Sent => _sent.Task;

    /// <summary>Done once the database holds the batch and the brokers its records.</summary>
    public Task Written { get; set; } = Task.CompletedTask;

    public List<ConsumeResult<string, byte[]>> Messages => [.. Decoded.Select(d => d.Source)];

    public ActivityContext FirstContext => Spans.FirstOrDefault(s => s is not null)?.Context ?? default;

    public void MarkPersisted() => _persisted.TrySetResult();

    public void MarkSent() => _sent.TrySetResult();

    /// <summary>The write failed: whatever of it was not done yet never will be.</summary>
    public void Abandon()
    {
        _persisted.TrySetCanceled();
        _sent.TrySetCanceled();
    }

    public void Failed(Exception exception)
    {
        foreach (var span in Spans)
        {
            KafkaTelemetry.SetError(span, exception.GetType().FullName!, exception.Message);
        }
    }

    public void Dispose()
    {
        foreach (var span in Spans)
        {
            span?.Dispose();
        }
    }
}

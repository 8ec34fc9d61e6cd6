using System.Diagnostics;
using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// Sends a batch's records and completes once the brokers acknowledged every one, or fails with the first failure
/// once all have answered. One delivery handler for the lot, called on the producer's own thread, rather than
/// <c>ProduceAsync</c> per record: that completes each record's task on the thread pool (its continuations run
/// asynchronously), a work item and a task per record, some 20,000 a second under load (BENCHMARKS.md).
/// </summary>
internal sealed class RecordSender
{
    private readonly TaskCompletionSource _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<DeliveryReport<string, byte[]>> _handler;

    // The records not acknowledged yet, plus one held by the sender until every record is with the producer.
    private int _pending = 1;
    private Exception? _failure;

    private RecordSender() => _handler = report =>
    {
        if (report.Error.IsError)
        {
            Fail(new ProduceException<string, byte[]>(report.Error, report));
        }

        Release();
    };

    /// <summary>
    /// Hands every record to the producer (in order: each item's states reach its partition in the order given) and
    /// returns the task of their delivery. A record the producer refuses at once (its queue full, a record too
    /// large) ends the sending: the task then fails with that refusal once the records before it have answered.
    /// </summary>
    public static Task SendAsync(IProducer<string, byte[]> producer, IEnumerable<(string Topic, Message<string, byte[]> Record)> records)
    {
        var sender = new RecordSender();
        try
        {
            foreach (var (topic, record) in records)
            {
                Interlocked.Increment(ref sender._pending);
                try
                {
                    producer.Produce(topic, record, sender._handler);
                }
                catch
                {
                    Interlocked.Decrement(ref sender._pending);
                    throw;
                }
            }
        }
        catch (Exception ex)
        {
            sender.Fail(ex);
        }

        sender.Release();
        return sender._delivered.Task;
    }

    /// <summary>
    /// The headers carrying <paramref name="span"/>'s trace context: one instance for every record sent under that
    /// span (the producer copies them when it takes a record, and delivery reports do not read them back).
    /// </summary>
    public static Headers TraceHeaders(Activity? span)
    {
        var headers = new Headers();
        KafkaTelemetry.Inject(span, headers);
        return headers;
    }

    public static Message<string, byte[]> Record(Headers headers, string? key, byte[]? value) =>
        new() { Key = key!, Value = value!, Headers = headers };

    /// <summary>
    /// An item's records on the changelog: its state, and after a closed state a tombstone (the item's key, no value),
    /// so that compaction drops the closed item and a restore does not bring it back into the table (<see cref="ItemTable"/>).
    /// </summary>
    public static IEnumerable<(string Topic, Message<string, byte[]> Record)> Changelog(string topic, Headers headers, ItemChangelogMessage state)
    {
        var key = state.ItemId.ToString();
        yield return (topic, Record(headers, key, PipelineJson.Serialize(state)));
        if (state.ClosedAt is not null)
        {
            yield return (topic, Record(headers, key, null));
        }
    }

    private void Fail(Exception exception) => Interlocked.CompareExchange(ref _failure, exception, null);

    private void Release()
    {
        if (Interlocked.Decrement(ref _pending) == 0)
        {
            if (_failure is null)
            {
                _delivered.TrySetResult();
            }
            else
            {
                _delivered.TrySetException(_failure);
            }
        }
    }
}

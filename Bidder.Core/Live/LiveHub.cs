using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Bidder.Core.Live;

/// <summary>One event of the live streams, numbered in the order this API process received it.</summary>
public sealed record LiveEvent(long Sequence, ItemEvent Item);

/// <summary>
/// Fans the item events this process reads out to its subscribers (the open <c>/items/live</c> responses):
/// each has a bounded buffer, and one that falls <see cref="LiveOptions.SubscriberBuffer"/> events behind is
/// dropped (its stream ends; it reconnects with Last-Event-ID) rather than slowing the others or growing
/// memory. The last <see cref="LiveOptions.ReplayEvents"/> events are kept, so a client that reconnects gets
/// what it missed. Event ids are <c>{epoch}.{sequence}</c>: the epoch is this process's, so an id from another
/// API replica or from before a restart is recognized as such (the client then gets the current state).
/// </summary>
public sealed class LiveHub(IOptions<LiveOptions> options)
{
    private readonly object _lock = new();
    private readonly LinkedList<LiveEvent> _recent = new();
    private readonly HashSet<Channel<LiveEvent>> _subscribers = [];
    private long _sequence;

    /// <summary>This process's part of every event id.</summary>
    public string Epoch { get; } = Guid.NewGuid().ToString("N")[..12];

    public string IdOf(long sequence) => $"{Epoch}.{sequence.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The sequence a Last-Event-ID names, when it is one of this process's that is still kept.</summary>
    public bool TryResume(string? lastEventId, out long sequence)
    {
        sequence = 0;
        if (lastEventId?.Split('.') is not [var epoch, var number] || epoch != Epoch
            || !long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out sequence))
        {
            return false;
        }

        lock (_lock)
        {
            // Resumable while nothing after it has been forgotten.
            return sequence <= _sequence && (_recent.First is null || _recent.First.Value.Sequence <= sequence + 1);
        }
    }

    public int Subscribers
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>
    /// Subscribes: the events after <paramref name="after"/> still kept (null: none, only what comes next), then
    /// every new one through the channel; atomically, so nothing falls between the two.
    /// </summary>
    public (IReadOnlyList<LiveEvent> Missed, long Now, ChannelReader<LiveEvent> Events, IDisposable Subscription) Subscribe(long? after)
    {
        var channel = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(options.Value.SubscriberBuffer)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        lock (_lock)
        {
            _subscribers.Add(channel);
            var missed = after is { } last ? _recent.Where(e => e.Sequence > last).ToList() : [];
            return (missed, _sequence, channel.Reader, new Unsubscribe(this, channel));
        }
    }

    /// <summary>Numbers an event, keeps it for replay and hands it to every subscriber; drops those whose buffer is full.</summary>
    public void Publish(ItemEvent item)
    {
        lock (_lock)
        {
            var published = new LiveEvent(++_sequence, item);
            _recent.AddLast(published);
            while (_recent.Count > options.Value.ReplayEvents)
            {
                _recent.RemoveFirst();
            }

            List<Channel<LiveEvent>>? slow = null;
            foreach (var subscriber in _subscribers)
            {
                if (!subscriber.Writer.TryWrite(published))
                {
                    (slow ??= []).Add(subscriber);
                }
            }

            foreach (var subscriber in slow ?? [])
            {
                _subscribers.Remove(subscriber);
                subscriber.Writer.TryComplete(new SlowSubscriberException());
            }
        }
    }

    private void Remove(Channel<LiveEvent> channel)
    {
        lock (_lock)
        {
            _subscribers.Remove(channel);
        }
    }

    private sealed class Unsubscribe(LiveHub hub, Channel<LiveEvent> channel) : IDisposable
    {
        public void Dispose() => hub.Remove(channel);
    }
}

/// <summary>Ends a subscriber's stream that fell too far behind.</summary>
public sealed class SlowSubscriberException() : Exception("The subscriber fell too far behind and was dropped; reconnect with Last-Event-ID.");

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
/// The feed that publishes (the API's <c>LiveFeed</c>) reads only while someone subscribes, and for
/// <see cref="LiveOptions.FeedIdleAfter"/> after the last one left (<see cref="TryPause"/>); a subscriber waits
/// until it reads (<see cref="WhenReadingAsync"/>), and nothing from before such a gap is resumable.
/// </summary>
public sealed class LiveHub(IOptions<LiveOptions> options, TimeProvider time)
{
    private readonly object _lock = new();
    private readonly LinkedList<LiveEvent> _recent = new();
    private readonly HashSet<Channel<LiveEvent>> _subscribers = [];
    private long _sequence;

    // Events up to this one cannot be resumed from: the feed was not reading after them (a gap).
    private long _resumableAfter;

    // Completed once a subscriber comes (what a paused feed waits for), and once the feed reads (what subscribers wait for).
    private TaskCompletionSource _wanted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _reading = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // When the last subscriber left.
    private long _idleSince = time.GetTimestamp();

    public LiveHub(IOptions<LiveOptions> options)
        : this(options, TimeProvider.System)
    {
    }

    /// <summary>This process's part of every event id.</summary>
    public string Epoch { get; } = Guid.NewGuid().ToString("N")[..12];

    public string IdOf(long sequence) => $"{Epoch}.{sequence.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The sequence a Last-Event-ID names, when it is one of this process's that is still kept.</summary>
    public bool TryResume(string? lastEventId, out long sequence)
    {
        if (!TryParse(lastEventId, out sequence))
        {
            return false;
        }

        lock (_lock)
        {
            return IsResumable(sequence);
        }
    }

    private bool TryParse(string? lastEventId, out long sequence)
    {
        sequence = 0;
        return lastEventId?.Split('.') is [var epoch, var number] && epoch == Epoch
            && long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    // Resumable while nothing after it has been forgotten or gone unread. Under the lock.
    private bool IsResumable(long sequence) =>
        sequence > _resumableAfter && sequence <= _sequence && (_recent.First is null || _recent.First.Value.Sequence <= sequence + 1);

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
    /// Subscribes: when <paramref name="lastEventId"/> is resumable (<see cref="TryResume"/>) the events after it, else
    /// none (<c>Resumed</c> false: only what comes next), then every new one through the channel; atomically, so
    /// nothing falls between the two, nor between the id's check and the subscription (a pause in between).
    /// </summary>
    public (bool Resumed, IReadOnlyList<LiveEvent> Missed, long Now, ChannelReader<LiveEvent> Events, IDisposable Subscription) Subscribe(string? lastEventId)
    {
        var channel = Channel.CreateBounded<LiveEvent>(new BoundedChannelOptions(options.Value.SubscriberBuffer)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        var parsed = TryParse(lastEventId, out var after);
        lock (_lock)
        {
            _subscribers.Add(channel);
            _wanted.TrySetResult();
            var resumed = parsed && IsResumable(after);
            var missed = resumed ? _recent.Where(e => e.Sequence > after).ToList() : [];
            return (resumed, missed, _sequence, channel.Reader, new Unsubscribe(this, channel));
        }
    }

    /// <summary>
    /// Completes once the feed reads the live topics: a subscriber waits for it before it reads anything else (an
    /// item's current state), so that a change made meanwhile comes after what it read, as an event.
    /// </summary>
    public Task WhenReadingAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _reading.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The feed's side: completes once someone subscribes (at once while someone does).</summary>
    public Task WhenWantedAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _subscribers.Count > 0 ? Task.CompletedTask : _wanted.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>How long the feed reads on after the last subscriber left (<see cref="LiveOptions.FeedIdleAfter"/>).</summary>
    public TimeSpan FeedIdleAfter => options.Value.FeedIdleAfter;

    /// <summary>The feed's side: it reads the topics, from positions taken before this call; subscribers may go on.</summary>
    public void Reading()
    {
        lock (_lock)
        {
            _reading.TrySetResult();
        }
    }

    /// <summary>
    /// The feed's side: true when nobody has subscribed for <see cref="LiveOptions.FeedIdleAfter"/>, and then the feed
    /// is taken as not reading: what it publishes next comes after a gap, so nothing before is resumable, and the next
    /// subscriber waits for <see cref="Reading"/>. False, and nothing changes, while someone subscribes or did lately.
    /// </summary>
    public bool TryPause()
    {
        lock (_lock)
        {
            if (_subscribers.Count > 0 || time.GetElapsedTime(_idleSince) < options.Value.FeedIdleAfter)
            {
                return false;
            }

            _recent.Clear();
            _resumableAfter = _sequence;
            // A number of its own for the gap: an id given after it (an item's state sent to a new subscriber, numbered
            // as of then) is past the gap and resumable.
            _sequence++;
            _reading = new(TaskCreationOptions.RunContinuationsAsynchronously);
            _wanted = new(TaskCreationOptions.RunContinuationsAsynchronously);
            return true;
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
                Remove(subscriber);
                subscriber.Writer.TryComplete(new SlowSubscriberException());
            }
        }
    }

    private void Remove(Channel<LiveEvent> channel)
    {
        lock (_lock)
        {
            if (_subscribers.Remove(channel) && _subscribers.Count == 0)
            {
                _idleSince = time.GetTimestamp();
            }
        }
    }

    private sealed class Unsubscribe(LiveHub hub, Channel<LiveEvent> channel) : IDisposable
    {
        public void Dispose() => hub.Remove(channel);
    }
}

/// <summary>Ends a subscriber's stream that fell too far behind.</summary>
public sealed class SlowSubscriberException() : Exception("The subscriber fell too far behind and was dropped; reconnect with Last-Event-ID.");

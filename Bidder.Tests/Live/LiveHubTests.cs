using Bidder.Core.Live;
using Microsoft.Extensions.Options;

namespace Bidder.Tests.Live;

/// <summary>The fan-out behind the live streams: bounded per subscriber, replay for reconnects, ids per process.</summary>
public class LiveHubTests
{
    private static ItemEvent Event(decimal winning) => new(Guid.CreateVersion7(), winning, null, 1, 1, DateTime.UtcNow, "open", null, null);

    [Fact]
    public async Task A_subscriber_that_falls_behind_its_buffer_is_dropped_and_the_others_go_on()
    {
        var hub = new LiveHub(Options.Create(new LiveOptions { SubscriberBuffer = 2 }));
        var (_, _, _, slow, slowSubscription) = hub.Subscribe(lastEventId: null);
        var (_, _, _, reader, subscription) = hub.Subscribe(lastEventId: null);

        for (var i = 1; i <= 3; i++)
        {
            hub.Publish(Event(i));
            Assert.True(reader.TryRead(out var read));
            Assert.Equal(i, read.Item.WinningBid);
        }

        // The two it held are still its to read; then its stream ends, dropped.
        Assert.True(slow.TryRead(out _) && slow.TryRead(out _));
        await Assert.ThrowsAsync<SlowSubscriberException>(() => slow.Completion);
        Assert.Equal(1, hub.Subscribers);
        slowSubscription.Dispose();
        subscription.Dispose();
        Assert.Equal(0, hub.Subscribers);
    }

    [Fact]
    public void A_reconnect_gets_the_events_after_its_last_id_while_they_are_kept()
    {
        var hub = new LiveHub(Options.Create(new LiveOptions { ReplayEvents = 3 }));
        for (var i = 1; i <= 5; i++)
        {
            hub.Publish(Event(i));
        }

        Assert.True(hub.TryResume(hub.IdOf(3), out _));
        var (resumed, missed, now, _, subscription) = hub.Subscribe(hub.IdOf(3));
        subscription.Dispose();

        Assert.True(resumed);
        Assert.Equal([4m, 5m], missed.Select(e => e.Item.WinningBid));
        Assert.Equal(5, now);
        // Event 1 is forgotten (3 kept: 3, 4, 5), so a client whose last was 1 cannot be given 2; another
        // process's ids (another replica, or before a restart) and junk are not resumable either.
        Assert.True(hub.TryResume(hub.IdOf(2), out _));
        Assert.False(hub.TryResume(hub.IdOf(1), out _));
        Assert.False(hub.TryResume(new LiveHub(Options.Create(new LiveOptions())).IdOf(4), out _));
        Assert.False(hub.TryResume(hub.IdOf(6), out _));
        Assert.False(hub.TryResume("junk", out _));
        Assert.False(hub.TryResume(null, out _));
    }

    [Fact]
    public async Task The_feed_reads_while_someone_follows_and_a_subscriber_waits_until_it_does()
    {
        var time = new ManualTime();
        var hub = new LiveHub(Options.Create(new LiveOptions { FeedIdleAfter = TimeSpan.FromSeconds(30) }), time);
        var wanted = hub.WhenWantedAsync(TestContext.Current.CancellationToken);
        Assert.False(wanted.IsCompleted);

        // A subscriber wakes the feed, and waits until it reads.
        var (_, _, _, _, subscription) = hub.Subscribe(lastEventId: null);
        await wanted;
        var reading = hub.WhenReadingAsync(TestContext.Current.CancellationToken);
        Assert.False(reading.IsCompleted);
        hub.Reading();
        await reading;

        // The feed reads on while someone follows, and for a while after the last one left.
        Assert.False(hub.TryPause());
        subscription.Dispose();
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(hub.TryPause());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(hub.TryPause());

        // Paused: the next subscriber waits for the feed again.
        Assert.False(hub.WhenWantedAsync(TestContext.Current.CancellationToken).IsCompleted);
        var (_, _, _, _, next) = hub.Subscribe(lastEventId: null);
        Assert.False(hub.WhenReadingAsync(TestContext.Current.CancellationToken).IsCompleted);
        next.Dispose();
    }

    [Fact]
    public void Nothing_from_before_a_pause_is_resumable_and_what_comes_after_it_is()
    {
        var time = new ManualTime();
        var hub = new LiveHub(Options.Create(new LiveOptions { FeedIdleAfter = TimeSpan.FromSeconds(30) }), time);
        hub.Reading();
        for (var i = 1; i <= 3; i++)
        {
            hub.Publish(Event(i));
        }

        Assert.True(hub.TryResume(hub.IdOf(2), out _));
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(hub.TryPause());

        // The feed read nothing meanwhile: what came after event 3 is unknown here, so 3 is not resumable either.
        Assert.False(hub.TryResume(hub.IdOf(2), out _));
        Assert.False(hub.TryResume(hub.IdOf(3), out _));
        var (resumed, missed, now, _, subscription) = hub.Subscribe(hub.IdOf(3));
        Assert.False(resumed);
        Assert.Empty(missed);

        // Reading again: the id a new subscriber is given for an item's state, and the events from then, are resumable.
        hub.Reading();
        hub.Publish(Event(4));
        Assert.True(hub.TryResume(hub.IdOf(now), out _));
        var (again, since, _, _, resubscription) = hub.Subscribe(hub.IdOf(now));
        Assert.True(again);
        Assert.Equal([4m], since.Select(e => e.Item.WinningBid));
        subscription.Dispose();
        resubscription.Dispose();
    }

    /// <summary>A clock the test moves.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

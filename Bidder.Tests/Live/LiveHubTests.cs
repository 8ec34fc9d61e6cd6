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
        var (_, _, slow, slowSubscription) = hub.Subscribe(after: null);
        var (_, _, reader, subscription) = hub.Subscribe(after: null);

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

        Assert.True(hub.TryResume(hub.IdOf(3), out var after));
        var (missed, now, _, subscription) = hub.Subscribe(after);
        subscription.Dispose();

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
}

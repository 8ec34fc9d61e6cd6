using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Live;

/// <summary>
/// An API that nobody follows reads nothing off the live topics (under bid load it would take every item change off
/// the broker for no one), on an app of its own whose API stops reading 1 s after its last subscriber left.
/// </summary>
public class LiveFeedIdleTests
{
    /// <summary>
    /// The API lets the topics go when nobody follows; the next follower of an item starts from its current state,
    /// made while nobody read, and gets the changes after it; an id from before the pause is told to reload. (Seen
    /// failing on the feed that read from start-up on: no pause, and the old id resumed.)
    /// </summary>
    [Fact]
    public async Task An_API_nobody_follows_stops_reading_and_the_next_follower_misses_nothing()
    {
        await using var app = await EmbeddedApp.StartAsync(["Bidder:Infrastructure=embedded", "Bidder:Live:FeedIdleAfter=00:00:01"]);
        using var seller = await app.RegisterAsync("seller");
        using var bidder = await app.RegisterAsync("bidder");
        using var api = new HttpClient { BaseAddress = app.GetEndpoint("api", "http"), Timeout = Timeout.InfiniteTimeSpan };
        var item = await LiveStreamTests.CreateItemAsync(seller);
        Func<SseStream.Event, bool> ofItem = e => e.Data["item_id"]?.GetValue<string>() == item;

        string lastId;
        using (var stream = await SseStream.OpenAsync(api, "/items/live"))
        {
            await LiveStreamTests.BidAndWaitAsync(bidder, item, 10m);
            lastId = (await stream.NextAsync(ofItem)).Id;
        }

        // Nobody follows any more: a second later the API stops reading, and a bid comes while it does not read.
        await ResourceLogs.FirstLineAsync(app, "api", "Live feed paused", HangGuard.Token);
        await LiveStreamTests.BidAndWaitAsync(bidder, item, 11m);

        using (var follower = await SseStream.OpenAsync(api, $"/items/{item}/live"))
        {
            Assert.Equal(11m, (await follower.NextAsync()).Data["winning_bid"]!.GetValue<decimal>());
            await LiveStreamTests.BidAndWaitAsync(bidder, item, 12m);
            Assert.Equal(12m, (await follower.NextAsync(e => e.Data["winning_bid"]!.GetValue<decimal>() != 11m)).Data["winning_bid"]!.GetValue<decimal>());
        }

        // The change to 11 was never read here: the id before it cannot be resumed, and the client is told to reload.
        using var resumed = await SseStream.OpenAsync(api, "/items/live", lastId);
        Assert.Equal("reset", (await resumed.NextAsync()).Type);
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Bidder.Domain;
using Bidder.Core.Storage.Sqlite;
using Bidder.Tests.Support;

namespace Bidder.Tests.Load;

/// <summary>
/// A concurrent burst through the API: 20,000 bids from 50 clients over 200 items. Every 202 is accounted
/// for exactly once, and each item's winning bid is its highest valid bid. (Measured speed belongs to the
/// benchmark; this checks only what the burst must end with.)
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public class BurstTests(EmbeddedApp fixture)
{
    private const int Clients = 50;
    private const int Bids = 20_000;
    private const int ItemCount = 200;

    [Fact]
    [Trait("Category", "Load")]
    public async Task Every_accepted_post_is_processed_once_and_the_highest_valid_bid_wins()
    {
        var http = fixture.Admin.Api;
        // Signed-in bidders, each posting as themselves (the API refuses bids in another's name).
        var users = new List<SignedIn>();
        for (var i = 0; i < 20; i++)
        {
            users.Add(await fixture.App.RegisterAsync($"burst user {i}"));
        }

        var items = new List<string>();
        for (var i = 0; i < ItemCount; i++)
        {
            items.Add((await http.CreateItemAsync(initBid: 1m, name: $"burst item {i}")).Id());
        }

        // Unique values (the index, in cents), so "the highest" is never a tie; every 7th (coprime with the item count) is above the ceiling.
        var posted = new ConcurrentBag<(string Id, string Item, string User, decimal Value)>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < Bids)
            {
                var item = items[n % ItemCount];
                var user = users[n % users.Count];
                var value = n % 7 == 6 ? 100_000m + n : 1m + n / 100m;
                using var response = await user.Api.PostAsync("/events/", new StringContent(
                    $$"""{"item_id": "{{item}}", "value": {{value.ToString(CultureInfo.InvariantCulture)}}}""",
                    Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                posted.Add(((await response.ReadObjectAsync()).Id(), item, user.Id.ToString(), value));
            }
        }));

        Assert.Equal(Bids, posted.Count);
        var store = new SqliteBidderStore((await fixture.ConnectionStringAsync("bidderdb"))!);
        var ids = posted.Select(p => Guid.Parse(p.Id)).ToList();
        var recorded = await Eventually.WaitAsync(() => store.GetBidsAsync(ids, TestContext.Current.CancellationToken),
            r => r.Count == ids.Count, "every posted bid to be processed", r => $"{r.Count} of {ids.Count}");

        foreach (var post in posted.Where(p => p.Value > 100_000m))
        {
            Assert.Equal(RejectReason.ValueTooHigh, recorded[Guid.Parse(post.Id)].Reason);
        }

        var storedItems = await store.GetItemsAsync([.. items.Select(Guid.Parse)], TestContext.Current.CancellationToken);
        var acceptedTotal = 0L;
        foreach (var itemBids in posted.GroupBy(p => p.Item))
        {
            var highestValid = itemBids.Where(p => p.Value <= 100_000m).MaxBy(p => p.Value);
            var item = storedItems[Guid.Parse(itemBids.Key)];
            Assert.Equal(highestValid.Value, item.WinningBid);
            Assert.Equal(Guid.Parse(highestValid.Id), item.WinningBidId);
            var accepted = itemBids.Select(p => recorded[Guid.Parse(p.Id)]).Where(b => b.Status == BidStatus.Accepted).ToList();
            Assert.Equal(accepted.Count, item.Bids);
            acceptedTotal += accepted.Count;
        }

        var userTotal = 0L;
        foreach (var user in users)
        {
            userTotal += (await store.GetUserAsync(user.Id, TestContext.Current.CancellationToken))!.Bids;
            user.Dispose();
        }

        Assert.Equal(acceptedTotal, userTotal);
    }
}

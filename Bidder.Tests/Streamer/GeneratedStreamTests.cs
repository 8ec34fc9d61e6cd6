using Bidder.Domain;
using Bidder.Tests.Support;

namespace Bidder.Tests.Streamer;

/// <summary>
/// Thousands of generated bids over many items and users, with every kind of reject, duplicates and
/// poison messages, put straight on the bids topic; the end state is checked against an independent oracle.
/// A quarter of the items have a seller among the users, who bids on them now and then (own_item); a third
/// have an increment, some a reserve and a soft close; a third of the bids carry an automatic maximum; and a
/// fifth of the items end during the test, so they close with the oracle's result and one auctions record each.
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public class GeneratedStreamTests(EmbeddedApp fixture)
{
    [Fact]
    public async Task The_end_state_matches_the_oracle_bid_for_bid()
    {
        var (users, items) = await Seed.StreamUsersAndItemsAsync(fixture, userCount: 40, itemCount: 60);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        var database = (await fixture.ConnectionStringAsync("bidderdb"))!;
        for (var i = 0; i < items.Count; i += 4)
        {
            items[i] = await BidStream.SellAsync(database, items[i], users[i % users.Count]);
        }

        var closing = new List<Item>();
        var soon = DateTimeOffset.UtcNow.AddSeconds(25);
        for (var i = 0; i < items.Count; i++)
        {
            var ends = i % 5 == 1;
            if (i % 3 == 0 || ends)
            {
                items[i] = await BidStream.SetTermsAsync(database, items[i],
                    increment: (i % 4) switch { 0 => 0.5m, 1 => 1m, 2 => 5m, _ => 0.01m },
                    // Out of reach on some of the ending items (reserve_not_met), within reach elsewhere.
                    reserve: i % 2 == 0 ? items[i].InitBid + (ends ? 5000m : 150m) : null,
                    softCloseSeconds: ends ? (i % 2) * 10 : (i % 6 == 0 ? 600 : 0),
                    end: ends ? soon : null);
            }

            if (ends)
            {
                closing.Add(items[i]);
            }
        }

        // One more ending item that no bid of the stream names: it closes unsold.
        var unbid = items[^1];
        items.RemoveAt(items.Count - 1);
        closing.Add(await BidStream.SetTermsAsync(database, unbid, 1m, null, 0, soon));

        var stream = new BidStream(seed: 20261126, users, items, count: 4000, automaticShare: 0.3);
        var oracle = stream.Oracle(users.ToHashSet());
        Assert.Contains("own_item", oracle.Verdicts.Values);
        Assert.Contains("outbid", oracle.Verdicts.Values);
        Assert.Contains(oracle.Winning, w => w.Value.End > items.Single(i => i.Id == w.Key).BiddingEndDate);
        Assert.Equal(["reserve_not_met", "sold", "unsold"], closing.Select(i => oracle.Winning.GetValueOrDefault(i.Id)?.Result(i) ?? "unsold").Distinct().Order());

        stream.Produce(bootstrapServers);
        var recorded = await stream.RecordedAsync(database);

        await stream.AssertEndStateAsync(recorded, users, items, bootstrapServers, database);
        await stream.AssertClosedAsync(closing, users, bootstrapServers, database);
    }
}

using Bidder.Tests.Support;

namespace Bidder.Tests.Streamer;

/// <summary>
/// Thousands of generated bids over many items and users, with every kind of reject, duplicates and
/// poison messages, put straight on the bids topic; the end state is checked against an independent oracle.
/// A quarter of the items have a seller among the users, who bids on them now and then (own_item).
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

        var stream = new BidStream(seed: 20261126, users, items, count: 4000);
        Assert.Contains("own_item", stream.Oracle(users.ToHashSet()).Verdicts.Values);

        stream.Produce(bootstrapServers);
        var recorded = await stream.RecordedAsync(database);

        await stream.AssertEndStateAsync(recorded, users, items, bootstrapServers, database);
    }
}

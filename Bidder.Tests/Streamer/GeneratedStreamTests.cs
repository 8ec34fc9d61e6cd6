using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Bidder.Core.Domain;
using Bidder.Core.Storage.Sqlite;
using Bidder.Tests.Support;

namespace Bidder.Tests.Streamer;

/// <summary>
/// Thousands of generated bids over many items and users, with every kind of reject, duplicates and
/// poison messages, put straight on the bids topic; the end state is checked against an independent oracle.
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public class GeneratedStreamTests(EmbeddedApp fixture)
{
    private readonly HttpClient _http = fixture.App.CreateHttpClient("api", "http");

    [Fact]
    public async Task The_end_state_matches_the_oracle_bid_for_bid()
    {
        var (users, items) = await SeedAsync(userCount: 40, itemCount: 60);
        var stream = new BidStream(seed: 20261126, users, items, count: 4000);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        var database = (await fixture.ConnectionStringAsync("bidderdb"))!;

        stream.Produce(bootstrapServers);
        var recorded = await stream.RecordedAsync(database);

        await AssertMatchesOracleAsync(stream, recorded, users, items, bootstrapServers, database);
    }

    internal async Task<(List<Guid> Users, List<Item> Items)> SeedAsync(int userCount, int itemCount) =>
        await Seed.UsersAndItemsAsync(_http, (await fixture.ConnectionStringAsync("bidderdb"))!, userCount, itemCount, initBidBase: 10m, "stream");

    internal static async Task AssertMatchesOracleAsync(
        BidStream stream, IReadOnlyDictionary<Guid, Bid> recorded, List<Guid> users, List<Item> items, string bootstrapServers, string database)
    {
        var expected = stream.Oracle(users.ToHashSet());

        // Every bid: accepted, or rejected with the oracle's reason.
        foreach (var (id, reason) in expected.Verdicts)
        {
            var bid = recorded[id];
            Assert.True(reason == bid.Reason, $"bid {id} ({bid.Value}): expected {reason ?? "accepted"}, got {bid.Reason ?? "accepted"}");
            Assert.Equal(reason is null ? BidStatus.Accepted : BidStatus.Rejected, bid.Status);
        }

        // Every item and user: the winner and the counts.
        var store = new SqliteBidderStore(database);
        var storedItems = await store.GetItemsAsync([.. items.Select(i => i.Id)], TestContext.Timeout);
        foreach (var item in items)
        {
            var stored = storedItems[item.Id];
            var winner = expected.Winning.GetValueOrDefault(item.Id);
            Assert.Equal(winner.Value, stored.WinningBid);
            Assert.Equal(winner.Count, stored.Bids);
            Assert.Equal(winner.Count == 0 ? null : winner.User, stored.WinningUserId);
            Assert.Equal(winner.Count == 0 ? null : winner.Bid, stored.WinningBidId);
        }

        foreach (var user in users)
        {
            Assert.Equal(expected.UserCounts.GetValueOrDefault(user), (await store.GetUserAsync(user, TestContext.Timeout))!.Bids);
        }

        // The topics: every reject once or more (consumers dedupe by event id), the poison messages, and each item's last state.
        var ours = expected.Verdicts.Keys.Select(k => k.ToString()).ToHashSet();
        var invalid = TopicReader.ReadAll(bootstrapServers, "invalid-bids").Select(r => JsonNode.Parse(r.Message.Value)!.AsObject()).ToList();
        var rejects = invalid
            .Where(r => r["event"] is JsonObject e && ours.Contains(e["id"]!.GetValue<string>()))
            .GroupBy(r => r["event"]!["id"]!.GetValue<string>())
            .ToDictionary(g => Guid.Parse(g.Key), g => g.Select(r => r["reason"]!.GetValue<string>()).Distinct().Single());
        Assert.Equal(expected.Verdicts.Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value!), rejects);
        var malformedAt = invalid
            .Where(r => r["reason"]!.GetValue<string>() == "malformed")
            .Select(r => (r["partition"]!.GetValue<int>(), r["offset"]!.GetValue<long>()))
            .ToHashSet();
        Assert.Equal(stream.Malformed, stream.MalformedAt.Count);
        Assert.All(stream.MalformedAt, at => Assert.Contains((at.Partition.Value, at.Offset.Value), malformedAt));

        var lastStates = TopicReader.ReadAll(bootstrapServers, "item-changelog")
            .GroupBy(r => r.Message.Key)
            // The newest state, as a restore reads it: the most bids, then the latest source offset.
            .ToDictionary(g => g.Key, g => g.Select(r => JsonNode.Parse(r.Message.Value)!.AsObject())
                .MaxBy(r => (r["bids"]!.GetValue<long>(), r["source_offset"]!.GetValue<long>()))!);
        foreach (var (itemId, winner) in expected.Winning)
        {
            var state = lastStates[itemId.ToString()];
            Assert.Equal(winner.Value, state["winning_bid"]!.GetValue<decimal>());
            Assert.Equal(winner.Count, state["bids"]!.GetValue<long>());
            Assert.Equal(winner.Bid.ToString(), state["winning_bid_id"]!.GetValue<string>());
        }
    }
}

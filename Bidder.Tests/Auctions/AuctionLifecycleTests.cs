using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bidder.Tests.Streamer;
using Bidder.Tests.Support;

namespace Bidder.Tests.Auctions;

/// <summary>
/// The auction rules as people meet them, through the HTTP API with signed-in users: the issue's example of
/// automatic bidding step by step, increments, the reserve (seen by the seller only), the soft close, and
/// auctions that close by themselves with a result and one record on the auctions topic.
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public class AuctionLifecycleTests(EmbeddedApp fixture)
{
    [Fact]
    public async Task The_issues_example_of_automatic_bidding_runs_through_the_API()
    {
        using var seller = await fixture.App.RegisterAsync("seller");
        var item = await CreateItemAsync(seller, new() { ["init_bid"] = 5, ["bid_increment"] = 1 }, DateTimeOffset.UtcNow.AddDays(1));
        var bidders = new Dictionary<string, SignedIn>();
        foreach (var name in new[] { "A", "B", "C", "D", "E", "F" })
        {
            bidders[name] = await fixture.App.RegisterAsync(name);
        }

        try
        {
            // bidder, value, maximum => reason (null: accepted), leader, winning bid
            (string Bidder, decimal Value, decimal? Max, string? Reason, string Leader, decimal Winning)[] steps =
            [
                ("A", 10, 50, null, "A", 10),
                ("B", 20, null, "outbid", "A", 21),
                ("C", 60, null, null, "C", 60),
                ("D", 55, 100, null, "D", 61),
                ("E", 80, null, "outbid", "D", 81),
                ("F", 101, null, null, "F", 101),
            ];
            foreach (var step in steps)
            {
                var bid = await BidAsync(bidders[step.Bidder], item, step.Value, step.Max);
                Assert.True(step.Reason == bid["reason"]?.GetValue<string>(), $"{step.Bidder} {step.Value}: {bid.ToJsonString()}");
                var now = await seller.Api.GetObjectAsync($"/items/{item}");
                Assert.Equal(step.Winning, now["winning_bid"]!.GetValue<decimal>());
                Assert.Equal(bidders[step.Leader].Id.ToString(), now["winning_user_id"]!.GetValue<string>());
                Assert.Equal(step.Winning + 1, now["minimum_next_bid"]!.GetValue<decimal>());
            }

            // The maximum is its bidder's own: shown to them, never in the item's public bid listing.
            Assert.Equal(100m, (await bidders["D"].Api.GetObjectAsync($"/users/{bidders["D"].Id}/bids"))["items"]![0]!["max_value"]!.GetValue<decimal>());
            using var anonymous = new HttpClient { BaseAddress = seller.Api.BaseAddress };
            var listed = (await anonymous.GetObjectAsync($"/items/{item}/bids"))["items"]!.AsArray();
            Assert.All(listed, bid => Assert.Null(bid!["max_value"]?.GetValue<decimal?>()));
            Assert.Equal(4, listed.Count);
        }
        finally
        {
            foreach (var bidder in bidders.Values)
            {
                bidder.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_bid_below_the_minimum_next_bid_is_too_low_and_says_what_the_minimum_is()
    {
        using var people = await PeopleAsync();
        var (seller, bidder, rival) = (people.Seller, people.Bidder, people.Rival);
        var item = await CreateItemAsync(seller, new() { ["init_bid"] = 10, ["bid_increment"] = 2.5m }, DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal(10m, (await seller.Api.GetObjectAsync($"/items/{item}"))["minimum_next_bid"]!.GetValue<decimal>());

        Assert.Null((await BidAsync(bidder, item, 10m))["reason"]?.GetValue<string>());
        var low = await BidAsync(rival, item, 12.49m);
        var enough = await BidAsync(rival, item, 12.50m);

        Assert.Equal("too_low", low["reason"]!.GetValue<string>());
        Assert.Contains("minimum_next_bid of 12.50", low["detail"]!.GetValue<string>());
        Assert.Equal("accepted", enough["status"]!.GetValue<string>());
        Assert.Equal(15m, (await seller.Api.GetObjectAsync($"/items/{item}"))["minimum_next_bid"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Auctions_close_by_themselves_with_their_result_and_one_record_each()
    {
        using var people = await PeopleAsync();
        var (seller, bidder, rival) = (people.Seller, people.Bidder, people.Rival);
        var end = DateTimeOffset.UtcNow.AddSeconds(6);
        var unsold = await CreateItemAsync(seller, new() { ["init_bid"] = 5 }, end);
        var plain = await CreateItemAsync(seller, new() { ["init_bid"] = 5 }, end);
        var notMet = await CreateItemAsync(seller, new() { ["init_bid"] = 5, ["reserve_price"] = 100 }, end);
        var metByMaximum = await CreateItemAsync(seller, new() { ["init_bid"] = 5, ["reserve_price"] = 100 }, end);
        var metPlainly = await CreateItemAsync(seller, new() { ["init_bid"] = 5, ["reserve_price"] = 20 }, end);

        await BidAsync(bidder, plain, 7m);
        await BidAsync(bidder, notMet, 50m, max: 80m);
        await BidAsync(bidder, metByMaximum, 50m, max: 150m);
        await BidAsync(rival, metPlainly, 19.99m);
        await BidAsync(bidder, metPlainly, 20m);
        var outbid = await BidAsync(rival, metByMaximum, 120m);

        // The reserve is the seller's to see; everyone sees whether it is met.
        var bySeller = await seller.Api.GetObjectAsync($"/items/{metByMaximum}");
        var byBidder = await bidder.Api.GetObjectAsync($"/items/{metByMaximum}");
        Assert.Equal(100m, bySeller["reserve_price"]!.GetValue<decimal>());
        Assert.Null(byBidder["reserve_price"]?.GetValue<decimal?>());
        Assert.Equal("outbid", outbid["reason"]!.GetValue<string>());
        Assert.Equal(120.01m, byBidder["winning_bid"]!.GetValue<decimal>());
        Assert.True(byBidder["reserve_met"]!.GetValue<bool>());
        Assert.False((await bidder.Api.GetObjectAsync($"/items/{notMet}"))["reserve_met"]!.GetValue<bool>());
        Assert.Null((await bidder.Api.GetObjectAsync($"/items/{plain}"))["reserve_met"]?.GetValue<bool?>());
        Assert.True((await bidder.Api.GetObjectAsync($"/items/{metPlainly}"))["reserve_met"]!.GetValue<bool>());
        Assert.Equal("open", byBidder["status"]!.GetValue<string>());
        Assert.Null(byBidder["result"]?.GetValue<string>());

        var expected = new Dictionary<string, (string Result, decimal Winning, Guid? Winner, long Bids)>
        {
            [unsold] = ("unsold", 0m, null, 0),
            [plain] = ("sold", 7m, bidder.Id, 1),
            [notMet] = ("reserve_not_met", 50m, bidder.Id, 1),
            [metByMaximum] = ("sold", 120.01m, bidder.Id, 1),
            [metPlainly] = ("sold", 20m, bidder.Id, 2),
        };
        foreach (var (id, (result, winning, winner, bids)) in expected)
        {
            var closed = await ClosedAsync(bidder, id);
            Assert.Equal(result, closed["result"]!.GetValue<string>());
            Assert.True(closed["closed_at"]!.GetValue<DateTimeOffset>() >= end);
            Assert.Null(closed["minimum_next_bid"]?.GetValue<decimal?>());

            var record = await AuctionRecordAsync(id);
            Assert.Equal(result, record["result"]!.GetValue<string>());
            Assert.Equal(winning, record["winning_bid"]!.GetValue<decimal>());
            Assert.Equal(winning, closed["winning_bid"]!.GetValue<decimal>());
            Assert.Equal(winner?.ToString(), record["winning_user_id"]?.GetValue<string>());
            Assert.Equal(bids, record["bids"]!.GetValue<long>());
            Assert.Equal(seller.Id.ToString(), record["seller_id"]!.GetValue<string>());
            Assert.Equal(closed["closed_at"]!.GetValue<DateTimeOffset>(), record["closed_at"]!.GetValue<DateTimeOffset>());
        }

        // A closed auction leaves the streamer's table: its closed state and then a tombstone end its changelog, so
        // compaction drops it and no restore reads it again.
        var changelog = await ChangelogAsync(plain);
        var closedState = JsonNode.Parse(Assert.IsType<byte[]>(changelog[^2].Value))!.AsObject();
        Assert.Equal(("sold", 7m), (closedState["result"]!.GetValue<string>(), closedState["winning_bid"]!.GetValue<decimal>()));

        // A bid made after the close is auction_closed, as before; the listing by status shows the closed items.
        Assert.Equal("auction_closed", (await BidAsync(rival, plain, 500m))["reason"]!.GetValue<string>());
        var closedIds = (await bidder.Api.WalkAsync("/items/?status=closed", limit: 100)).Select(i => i.Id()).ToList();
        Assert.All(expected.Keys, id => Assert.Contains(id, closedIds));
        Assert.DoesNotContain((await bidder.Api.WalkAsync("/items/?status=open", limit: 100)).Select(i => i.Id()), expected.Keys.Contains);
    }

    [Fact]
    public async Task A_soft_close_moves_the_end_with_each_late_bid_and_the_auction_ends_after_a_quiet_spell()
    {
        using var people = await PeopleAsync();
        var (seller, bidder, rival) = (people.Seller, people.Bidder, people.Rival);
        // Every bid made now falls within the last 8 seconds before the end.
        var end = DateTimeOffset.UtcNow.AddSeconds(4);
        var item = await CreateItemAsync(seller, new() { ["init_bid"] = 5, ["soft_close_seconds"] = 8 }, end);

        var first = await BidAsync(bidder, item, 10m);
        var afterFirst = await seller.Api.GetObjectAsync($"/items/{item}");
        var second = await BidAsync(rival, item, 11m);
        var afterSecond = await seller.Api.GetObjectAsync($"/items/{item}");

        var firstEnd = afterFirst["bidding_enddate"]!.GetValue<DateTimeOffset>();
        var secondEnd = afterSecond["bidding_enddate"]!.GetValue<DateTimeOffset>();
        Assert.Equal(first["bid_date"]!.GetValue<DateTimeOffset>().AddSeconds(8), firstEnd);
        Assert.Equal(second["bid_date"]!.GetValue<DateTimeOffset>().AddSeconds(8), secondEnd);
        Assert.True(firstEnd > end && secondEnd > firstEnd);

        var closed = await ClosedAsync(seller, item);
        Assert.True(closed["closed_at"]!.GetValue<DateTimeOffset>() >= secondEnd, $"closed at {closed["closed_at"]}, the end was {secondEnd:O}");
        Assert.Equal("sold", closed["result"]!.GetValue<string>());
        Assert.Equal(rival.Id.ToString(), closed["winning_user_id"]!.GetValue<string>());
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task A_streamer_down_across_the_end_date_takes_the_bids_made_before_it_and_closes_once()
    {
        using var people = await PeopleAsync();
        var (seller, bidder, rival) = (people.Seller, people.Bidder, people.Rival);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        var end = DateTimeOffset.UtcNow.AddSeconds(5);
        var item = await CreateItemAsync(seller, new() { ["init_bid"] = 5 }, end);

        CrashRecoveryTests.KillStreamer(bootstrapServers);
        var posted = new List<string>();
        foreach (var (who, value) in new[] { (bidder, 10m), (rival, 12m), (bidder, 15m) })
        {
            posted.Add(await PostBidAsync(who, item, value));
        }

        // The end passes while nobody processes bids; then the streamer comes back.
        await Eventually.WaitAsync(() => Task.FromResult(DateTimeOffset.UtcNow), now => now > end.AddSeconds(3), "the end date to pass");
        await CrashRecoveryTests.RestartStreamerAsync(fixture.App);

        foreach (var id in posted)
        {
            Assert.Equal("accepted", (await ProcessedAsync(id))["status"]!.GetValue<string>());
        }

        var closed = await ClosedAsync(seller, item);
        Assert.Equal(("sold", 15m, 3L), (closed["result"]!.GetValue<string>(), closed["winning_bid"]!.GetValue<decimal>(), closed["bids"]!.GetValue<long>()));
        var record = await AuctionRecordAsync(item);
        Assert.Equal(15m, record["winning_bid"]!.GetValue<decimal>());
        await fixture.WaitHealthyAsync();
    }

    /// <summary>A seller and two bidders, signed in.</summary>
    private sealed record People(SignedIn Seller, SignedIn Bidder, SignedIn Rival) : IDisposable
    {
        public void Dispose()
        {
            Seller.Dispose();
            Bidder.Dispose();
            Rival.Dispose();
        }
    }

    private async Task<People> PeopleAsync() =>
        new(await fixture.App.RegisterAsync("seller"), await fixture.App.RegisterAsync("bidder"), await fixture.App.RegisterAsync("rival"));

    /// <summary>The item once the streamer has closed it.</summary>
    private static Task<JsonObject> ClosedAsync(SignedIn reader, string item) =>
        Eventually.WaitAsync(() => reader.Api.GetObjectAsync($"/items/{item}"),
            i => i["status"]!.GetValue<string>() == "closed", $"item {item} to close", i => i.ToJsonString());

    private static async Task<string> CreateItemAsync(SignedIn seller, Dictionary<string, object> fields, DateTimeOffset end)
    {
        fields["name"] = "lot";
        fields["bidding_enddate"] = end.ToString("O");
        using var response = await seller.Api.PostAsJsonAsync("/items/", fields, TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.ReadObjectAsync()).Id();
    }

    private static async Task<string> PostBidAsync(SignedIn bidder, string item, decimal value, decimal? max = null)
    {
        var body = new JsonObject { ["item_id"] = item, ["value"] = value };
        if (max is not null)
        {
            body["max_value"] = max;
        }

        using var response = await bidder.Api.PostJsonAsync("/events/", body.ToJsonString());
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.ReadObjectAsync()).Id();
    }

    /// <summary>Posts a bid and returns it once the streamer has processed it.</summary>
    private async Task<JsonObject> BidAsync(SignedIn bidder, string item, decimal value, decimal? max = null) =>
        await ProcessedAsync(await PostBidAsync(bidder, item, value, max));

    /// <summary>The bid once the streamer has processed it (404 until then), as an administrator reads it.</summary>
    private async Task<JsonObject> ProcessedAsync(string id) =>
        (await Eventually.WaitAsync(async () =>
        {
            using var response = await fixture.Admin.Api.GetAsync($"/events/{id}", TestContext.Current.CancellationToken);
            return response.StatusCode == HttpStatusCode.OK ? await response.ReadObjectAsync() : null;
        }, bid => bid is not null, $"bid {id} to be processed"))!;

    /// <summary>The item's records on item-changelog, once they end with a tombstone (no value).</summary>
    private async Task<List<Confluent.Kafka.Message<string, byte[]>>> ChangelogAsync(string item)
    {
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        return await Eventually.WaitAsync(
            () => Task.FromResult(TopicReader.ReadAll(bootstrapServers, "item-changelog").Where(r => r.Message.Key == item).Select(r => r.Message).ToList()),
            found => found.Count >= 2 && found[^1].Value is null, $"a tombstone ending the item-changelog of item {item}",
            found => $"{found.Count} record(s), the last {(found.Count == 0 ? "none" : found[^1].Value is null ? "a tombstone" : "a state")}");
    }

    /// <summary>The item's one record on the auctions topic (several identical ones would fail: one close, one record).</summary>
    private async Task<JsonObject> AuctionRecordAsync(string item)
    {
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        var records = await Eventually.WaitAsync(
            () => Task.FromResult(TopicReader.ReadAll(bootstrapServers, "auctions").Where(r => r.Message.Key == item).ToList()),
            found => found.Count > 0, $"the auctions record of item {item}");
        var record = Assert.Single(records);
        return JsonNode.Parse(Encoding.UTF8.GetString(record.Message.Value))!.AsObject();
    }
}

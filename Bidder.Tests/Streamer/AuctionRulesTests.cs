using System.Globalization;
using Bidder.Domain;

namespace Bidder.Tests.Streamer;

/// <summary>
/// Increments, the reserve, automatic bidding, the soft close and the close, as a table of auctions: each
/// row is an item's terms and a sequence of bids, each step written as
/// <c>bidder value[/maximum] => [reason] leader price</c>; the last column is the result of closing it.
/// </summary>
public class AuctionRulesTests
{
    private static readonly DateTimeOffset End = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly BidRules Rules = new(BidRules.DefaultMaxBidValue);
    private static readonly string[] Bidders = ["A", "B", "C", "D", "E", "F"];
    private static readonly Dictionary<string, Guid> Users = Bidders.ToDictionary(name => name, _ => Guid.CreateVersion7());

    public static TheoryData<string, decimal, decimal, decimal?, string, string> Auctions => new()
    {
        // name, init_bid, bid_increment, reserve_price, steps, result
        {
            "the issue's example", 5m, 1m, null,
            "A 10/50 => A 10; B 20 => outbid A 21; C 60 => C 60; D 55/100 => D 61; E 80 => outbid D 81; F 101 => F 101",
            AuctionResult.Sold
        },
        { "no bid", 5m, 1m, null, "", AuctionResult.Unsold },
        { "the first bid at the starting price", 5m, 1m, null, "A 4.99 => below_init_bid - 0; A 5 => A 5", AuctionResult.Sold },
        { "the increment at its boundary", 5m, 2.5m, null, "A 5 => A 5; B 7.49 => too_low A 5; B 7.50 => B 7.50", AuctionResult.Sold },
        { "the default increment: a cent", 5m, 0.01m, null, "A 5 => A 5; B 5 => too_low A 5; B 5.01 => B 5.01", AuctionResult.Sold },
        { "a maximum below the minimum next bid", 5m, 1m, null, "A 10 => A 10; B 8/10.99 => too_low A 10; B 8/11 => B 11", AuctionResult.Sold },
        { "equal maximums: the earlier leads", 5m, 1m, null, "A 10/30 => A 10; B 30 => outbid A 30", AuctionResult.Sold },
        { "the outbid price stops at the leader's maximum", 5m, 1m, null, "A 10/30 => A 10; B 29.5 => outbid A 30", AuctionResult.Sold },
        { "one cent above the leader's maximum", 5m, 1m, null, "A 10/30 => A 10; B 30.01 => B 30.01", AuctionResult.Sold },
        { "a new leader never pays below its own value", 5m, 1m, null, "A 10/30 => A 10; B 100 => B 100", AuctionResult.Sold },
        { "the leader raises their own maximum", 5m, 1m, null, "A 10/20 => A 10; A 15/40 => A 15; B 30 => outbid A 31; B 41 => B 41", AuctionResult.Sold },
        { "a reserve met by plain bids", 5m, 1m, 50m, "A 40 => A 40; B 49 => B 49; C 50 => C 50", AuctionResult.Sold },
        { "a reserve not met", 5m, 1m, 50m, "A 40 => A 40; B 49.99 => B 49.99", AuctionResult.ReserveNotMet },
        { "a maximum that reaches the reserve lifts the price to it", 5m, 1m, 50m, "A 10/60 => A 50; B 55 => outbid A 56", AuctionResult.Sold },
        { "a maximum below the reserve does not", 5m, 1m, 50m, "A 10/40 => A 10; B 20 => outbid A 21", AuctionResult.ReserveNotMet },
        { "a new leader whose maximum reaches the reserve", 5m, 1m, 50m, "A 10/20 => A 10; B 15/80 => B 50", AuctionResult.Sold },
        { "an outbid bid lifts the leader to the reserve", 5m, 1m, 50m, "A 10/60 => A 50; B 51 => outbid A 52", AuctionResult.Sold },
    };

    [Theory]
    [MemberData(nameof(Auctions))]
    public void An_auction_runs_by_the_rules(string name, decimal initBid, decimal increment, decimal? reserve, string steps, string result)
    {
        var item = Item(initBid, increment, reserve);
        var state = item.State;
        foreach (var step in steps.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var (bid, reason, leader, price) = Parse(step, item.Id);
            var (verdict, after) = Rules.Decide(bid, userExists: true, item, state);

            Assert.True(reason == verdict.Reason, $"{name}, '{step}': got {verdict.Reason ?? "accepted"} ({verdict.Detail})");
            state = after ?? state;
            Assert.True(Users.GetValueOrDefault(leader) == (state.WinningUserId ?? Guid.Empty) && price == state.WinningBid,
                $"{name}, '{step}': {Name(state.WinningUserId)} leads at {state.WinningBid}");
            // Only a bid that changed the item changes its version; an accepted one is counted.
            Assert.Equal(after is not null, reason is null or RejectReason.Outbid);
        }

        var closed = BidRules.Close(item, state, End.AddSeconds(3));
        Assert.Equal(result, closed.Result);
        Assert.Equal(End.AddSeconds(3), closed.ClosedAt);
        Assert.Equal(state.Version + 1, closed.Version);
        Assert.Equal(reserve is null ? null : result == AuctionResult.Sold, item.With(closed).ReserveMet);
    }

    [Fact]
    public void A_too_low_bid_names_the_minimum_next_bid()
    {
        var item = Item(5m, 2.5m, null);
        var state = Rules.Decide(Bid("A", 10m, null, item.Id), true, item, item.State).After!;

        var (verdict, after) = Rules.Decide(Bid("B", 12m, null, item.Id), true, item, state);

        Assert.Null(after);
        Assert.Equal(RejectReason.TooLow, verdict.Reason);
        Assert.Contains("minimum_next_bid of 12.50", verdict.Detail);
        Assert.Equal(12.5m, item.With(state).MinimumNextBid);
        Assert.Equal(5m, item.MinimumNextBid);
    }

    [Fact]
    public void A_bid_within_the_soft_close_moves_the_end_and_one_outside_it_does_not()
    {
        var item = Item(5m, 1m, null) with { SoftCloseSeconds = 60 };
        var state = item.State;

        state = Rules.Decide(Bid("A", 10m, null, item.Id, End.AddSeconds(-61)), true, item, state).After!;
        Assert.Equal(End, state.EndDate);
        state = Rules.Decide(Bid("B", 11m, null, item.Id, End.AddSeconds(-60)), true, item, state).After!;
        Assert.Equal(End, state.EndDate);
        state = Rules.Decide(Bid("C", 12m, null, item.Id, End.AddSeconds(-30)), true, item, state).After!;
        Assert.Equal(End.AddSeconds(30), state.EndDate);
        // Past the first end, before the moved one: taken, and the end moves again.
        state = Rules.Decide(Bid("D", 13m, null, item.Id, End.AddSeconds(20)), true, item, state).After!;
        Assert.Equal(End.AddSeconds(80), state.EndDate);
        // An outbid bid changes the price, not the end.
        var leader = Rules.Decide(Bid("E", 14m, 100m, item.Id, End.AddSeconds(21)), true, item, state).After!;
        var outbid = Rules.Decide(Bid("F", 20m, null, item.Id, End.AddSeconds(70)), true, item, leader);
        Assert.Equal(RejectReason.Outbid, outbid.Verdict.Reason);
        Assert.Equal(End.AddSeconds(81), outbid.After!.EndDate);
        Assert.Equal(RejectReason.AuctionClosed, Rules.Decide(Bid("F", 200m, null, item.Id, End.AddSeconds(81)), true, item, leader).Verdict.Reason);
    }

    [Fact]
    public void A_closed_auction_takes_no_bid_even_one_made_before_its_end()
    {
        var item = Item(5m, 1m, null);
        var closed = BidRules.Close(item, item.State, End.AddSeconds(2));

        var verdict = Rules.Decide(Bid("A", 10m, null, item.Id, End.AddSeconds(-1)), true, item, closed).Verdict;

        Assert.Equal(RejectReason.AuctionClosed, verdict.Reason);
        Assert.Equal(AuctionResult.Unsold, closed.Result);
    }

    private static Item Item(decimal initBid, decimal increment, decimal? reserve) =>
        new(Guid.CreateVersion7(), "lamp", initBid, 0m, null, null, "EUR", [], 0, End.AddDays(-7), End,
            Guid.CreateVersion7(), increment, reserve);

    private static PostedBid Bid(string bidder, decimal value, decimal? max, Guid itemId, DateTimeOffset? at = null) =>
        new(Guid.CreateVersion7(), itemId, Users[bidder], value, "web", at ?? End.AddDays(-1), max);

    /// <summary><c>A 10/50 => [reason] B 21</c>: A bids 10 with a maximum of 50; then B leads at 21.</summary>
    private static (PostedBid Bid, string? Reason, string Leader, decimal Price) Parse(string step, Guid itemId)
    {
        var sides = step.Split("=>", StringSplitOptions.TrimEntries);
        var bid = sides[0].Split(' ');
        var amounts = bid[1].Split('/');
        var outcome = sides[1].Split(' ');
        var reason = outcome.Length == 3 ? outcome[0] : null;
        return (
            Bid(bid[0], Money(amounts[0]), amounts.Length > 1 ? Money(amounts[1]) : null, itemId),
            reason,
            outcome[^2],
            Money(outcome[^1]));
    }

    private static decimal Money(string text) => decimal.Parse(text, CultureInfo.InvariantCulture);

    private static string Name(Guid? user) => Users.FirstOrDefault(u => u.Value == user).Key ?? "nobody";
}

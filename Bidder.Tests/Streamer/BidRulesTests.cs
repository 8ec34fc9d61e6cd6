using Bidder.Domain;

namespace Bidder.Tests.Streamer;

/// <summary>Each rule on its own and at its boundaries, in the order the rules are applied.</summary>
public class BidRulesTests
{
    private static readonly DateTimeOffset End = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly BidRules Rules = new(BidRules.DefaultMaxBidValue);
    private static readonly Item Lamp = new(Guid.CreateVersion7(), "lamp", 10m, 0m, null, null, "EUR", [], 0, End.AddDays(-7), End);

    public static TheoryData<string, decimal, bool, bool, decimal, DateTimeOffset, string?> Cases => new()
    {
        // name, value, user exists, item exists, winning bid, bid date, expected reason (null: accepted)
        { "a first bid at the starting price", 10m, true, true, 0m, End.AddDays(-1), null },
        { "a bid above the winning bid", 20.01m, true, true, 20m, End.AddDays(-1), null },
        { "exactly the ceiling", 100_000m, true, true, 0m, End.AddDays(-1), null },
        { "one cent above the ceiling", 100_000.01m, true, true, 0m, End.AddDays(-1), RejectReason.ValueTooHigh },
        { "a huge value", 79_228_162_514_264_337_593_543_950_335m, true, true, 0m, End.AddDays(-1), RejectReason.ValueTooHigh },
        { "an unknown user", 20m, false, true, 0m, End.AddDays(-1), RejectReason.UnknownUser },
        { "an unknown item", 20m, true, false, 0m, End.AddDays(-1), RejectReason.UnknownItem },
        { "exactly at the end date", 20m, true, true, 0m, End, RejectReason.AuctionClosed },
        { "one tick before the end date", 20m, true, true, 0m, End.AddTicks(-1), null },
        { "after the end date", 20m, true, true, 0m, End.AddDays(1), RejectReason.AuctionClosed },
        { "one cent below the starting price", 9.99m, true, true, 0m, End.AddDays(-1), RejectReason.BelowInitBid },
        { "equal to the winning bid", 20m, true, true, 20m, End.AddDays(-1), RejectReason.TooLow },
        { "below the winning bid", 15m, true, true, 20m, End.AddDays(-1), RejectReason.TooLow },
        { "too high and unknown user: the first rule wins", 200_000m, false, false, 0m, End.AddDays(1), RejectReason.ValueTooHigh },
        { "unknown user and item: the user rule comes first", 20m, false, false, 0m, End.AddDays(-1), RejectReason.UnknownUser },
        { "closed and below the starting price: closed comes first", 1m, true, true, 0m, End.AddDays(1), RejectReason.AuctionClosed },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_bid_is_accepted_or_rejected_with_the_first_failing_rule(
        string name, decimal value, bool userExists, bool itemExists, decimal winningBid, DateTimeOffset bidDate, string? reason)
    {
        var bid = new PostedBid(Guid.CreateVersion7(), Lamp.Id, Guid.CreateVersion7(), value, "web", bidDate);

        var verdict = Evaluate(Rules, bid, userExists, itemExists ? Lamp : null, winningBid);

        Assert.True(reason == verdict.Reason, $"{name}: expected {reason ?? "accepted"}, got {verdict.Reason ?? "accepted"}");
        Assert.Equal(reason is null, verdict.Detail is null);
    }

    private static readonly Guid Seller = Guid.CreateVersion7();

    public static TheoryData<string, bool, string, bool, decimal, DateTimeOffset, string?> SellerCases => new()
    {
        // name, bid by the seller, item ("sold": its seller known, "unsold": none known, "none": no such item), user exists, value, bid date, expected reason
        { "the seller's bid", true, "sold", true, 20m, End.AddDays(-1), RejectReason.OwnItem },
        { "the seller's bid on a closed item: own_item comes first", true, "sold", true, 20m, End.AddDays(1), RejectReason.OwnItem },
        { "the seller's bid below the starting price: own_item comes first", true, "sold", true, 1m, End.AddDays(-1), RejectReason.OwnItem },
        { "the seller's bid above the ceiling: value_too_high comes first", true, "sold", true, 200_000m, End.AddDays(-1), RejectReason.ValueTooHigh },
        { "the seller unknown as a user: unknown_user comes first", true, "sold", false, 20m, End.AddDays(-1), RejectReason.UnknownUser },
        { "the seller's bid on an unknown item: unknown_item comes first", true, "none", true, 20m, End.AddDays(-1), RejectReason.UnknownItem },
        { "another user's bid on a sold item", false, "sold", true, 20m, End.AddDays(-1), null },
        { "another user's late bid on a sold item", false, "sold", true, 20m, End.AddDays(1), RejectReason.AuctionClosed },
        { "a bid on an item whose seller is unknown", true, "unsold", true, 20m, End.AddDays(-1), null },
    };

    [Theory]
    [MemberData(nameof(SellerCases))]
    public void A_seller_cannot_bid_on_their_own_item(
        string name, bool bySeller, string item, bool userExists, decimal value, DateTimeOffset bidDate, string? reason)
    {
        var bid = new PostedBid(Guid.CreateVersion7(), Lamp.Id, bySeller ? Seller : Guid.CreateVersion7(), value, "web", bidDate);
        var known = item switch
        {
            "sold" => Lamp with { SellerId = Seller },
            "unsold" => Lamp,
            _ => null,
        };

        var verdict = Evaluate(Rules, bid, userExists, known, 0m);

        Assert.True(reason == verdict.Reason, $"{name}: expected {reason ?? "accepted"}, got {verdict.Reason ?? "accepted"}");
        Assert.Equal(reason is null, verdict.Detail is null);
        if (reason == RejectReason.OwnItem)
        {
            Assert.Equal("A seller cannot bid on their own item.", verdict.Detail);
        }
    }

    [Fact]
    public void Every_reason_is_listed_once_in_the_order_the_rules_apply()
    {
        Assert.Equal(
            [RejectReason.Malformed, RejectReason.ValueTooHigh, RejectReason.UnknownUser, RejectReason.UnknownItem, RejectReason.OwnItem,
             RejectReason.AuctionClosed, RejectReason.BelowInitBid, RejectReason.TooLow, RejectReason.Outbid, RejectReason.Unprocessable],
            RejectReason.All);
    }

    [Fact]
    public void The_ceiling_is_configurable()
    {
        var bid = new PostedBid(Guid.CreateVersion7(), Lamp.Id, Guid.CreateVersion7(), 50m, "web", End.AddDays(-1));

        Assert.Equal(RejectReason.ValueTooHigh, Evaluate(new BidRules(49.99m), bid, true, Lamp, 0m).Reason);
        Assert.True(Evaluate(new BidRules(50m), bid, true, Lamp, 0m).IsAccepted);
        Assert.Equal(RejectReason.ValueTooHigh, Evaluate(new BidRules(50m), bid with { MaxValue = 50.01m }, true, Lamp, 0m).Reason);
    }

    /// <summary>The verdict on <paramref name="bid"/> when another bidder leads at <paramref name="winningBid"/> (0: nobody leads).</summary>
    private static Verdict Evaluate(BidRules rules, PostedBid bid, bool userExists, Item? item, decimal winningBid) =>
        rules.Decide(bid, userExists, item, item?.State is { } state && winningBid > 0
            ? state with { WinningBid = winningBid, WinningUserId = Guid.CreateVersion7(), WinningBidId = Guid.CreateVersion7(), LeaderMax = winningBid, Bids = 1, Version = 1 }
            : item?.State).Verdict;
}

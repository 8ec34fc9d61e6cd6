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

        var verdict = Rules.Evaluate(bid, userExists, itemExists ? Lamp : null, winningBid);

        Assert.True(reason == verdict.Reason, $"{name}: expected {reason ?? "accepted"}, got {verdict.Reason ?? "accepted"}");
        Assert.Equal(reason is null, verdict.Detail is null);
    }

    [Fact]
    public void The_ceiling_is_configurable()
    {
        var bid = new PostedBid(Guid.CreateVersion7(), Lamp.Id, Guid.CreateVersion7(), 50m, "web", End.AddDays(-1));

        Assert.Equal(RejectReason.ValueTooHigh, new BidRules(49.99m).Evaluate(bid, true, Lamp, 0m).Reason);
        Assert.True(new BidRules(50m).Evaluate(bid, true, Lamp, 0m).IsAccepted);
    }
}

namespace Bidder.Domain;

/// <summary>How a closed auction ended: the <c>result</c> of an item and of its record on the auctions topic.</summary>
public static class AuctionResult
{
    /// <summary>The winning bid reached the reserve (or there was none): the leader buys at the winning bid.</summary>
    public const string Sold = "sold";

    /// <summary>No bid was ever accepted.</summary>
    public const string Unsold = "unsold";

    /// <summary>Bids came, but the winning bid stayed below the seller's reserve: nobody buys.</summary>
    public const string ReserveNotMet = "reserve_not_met";

    public static readonly IReadOnlyList<string> All = [Sold, Unsold, ReserveNotMet];
}

/// <summary>
/// One item's bidding state, what the rules read and write. <see cref="WinningBid"/> is the leader's price;
/// <see cref="LeaderMax"/> the most the leader's automatic bid may rise to (private). <see cref="Version"/>
/// counts the changes, so a state with a higher version is the newer one. <see cref="EndDate"/> is where a
/// soft close has moved the end to.
/// </summary>
public sealed record AuctionState(
    decimal WinningBid,
    Guid? WinningUserId,
    Guid? WinningBidId,
    decimal? LeaderMax,
    long Bids,
    long Version,
    DateTimeOffset EndDate,
    DateTimeOffset? ClosedAt,
    string? Result)
{
    public bool HasLeader => WinningBidId is not null;

    public bool IsClosed => ClosedAt is not null;
}

/// <summary>The terms a seller may set on an item, with their bounds: the API checks them, the rules rely on them.</summary>
public static class AuctionTerms
{
    /// <summary>Today's "any higher bid": one cent.</summary>
    public const decimal DefaultBidIncrement = 0.01m;

    public const string MinBidIncrementText = "0.01";

    public const int MaxSoftCloseSeconds = 3600;

    /// <summary>What a bid's offer must reach to lead: the starting price before any bid, then the winning bid plus the increment.</summary>
    public static decimal MinimumNextBid(Item item, AuctionState state) =>
        state.HasLeader ? state.WinningBid + item.BidIncrement : item.InitBid;
}

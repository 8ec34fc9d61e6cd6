using Bidder.Domain;

namespace Bidder.Api.Contracts;

// What the API answers, in the original system's snake_case names (the JSON naming policy does the casing).
// Times are UTC (serialized with a trailing Z); money is a decimal with at most 2 fraction digits.

public sealed record UserResponse(Guid Id, string Name, long Bids, DateTime CreatedDate)
{
    public static UserResponse From(User user) => new(user.Id, user.Name, user.Bids, user.CreatedDate.UtcDateTime);
}

/// <summary>An auction, with its live winning bid.</summary>
/// <param name="Id">The item's id (a UUIDv7).</param>
/// <param name="Name">As given when the item was created.</param>
/// <param name="InitBid">The starting price: the lowest bid taken.</param>
/// <param name="WinningBid">The live winning bid: the price the leader pays, 0 until a bid leads. With automatic bidding it is the lowest price that keeps the leader ahead, not the leader's maximum.</param>
/// <param name="WinningUserId">Who leads; null until a bid leads.</param>
/// <param name="Currency">3 upper-case letters (ISO 4217).</param>
/// <param name="Pictures">Absolute http(s) URLs.</param>
/// <param name="Bids">How many bids were accepted.</param>
/// <param name="CreatedDate">When the item was created (UTC).</param>
/// <param name="BiddingEnddate">When bidding ends (UTC): a bid made at or after it is rejected (auction_closed). A bid accepted within soft_close_seconds of it moves it later.</param>
/// <param name="Status">open until the streamer closes the auction, within a few seconds after bidding_enddate; then closed, with its result.</param>
/// <param name="SellerId">The user selling the item, whose own bids on it are rejected (own_item); null when unknown (items created before items knew their seller).</param>
/// <param name="BidIncrement">How much a bid must add to the winning bid to lead (0.01 unless the seller set more).</param>
/// <param name="ReservePrice">The seller's reserve: shown to the item's seller only. null for everyone else, and when the item has no reserve; reserve_met tells everyone whether there is one and whether it is met.</param>
/// <param name="ReserveMet">null when the item has no reserve price; else whether the winning bid reaches it.</param>
/// <param name="SoftCloseSeconds">Soft close: a bid accepted within this many seconds of the end moves the end to its bid date plus this many seconds; 0: off.</param>
/// <param name="MinimumNextBid">What a bid (or its max_value) must reach to lead: init_bid before any bid, then winning_bid plus bid_increment; null once closed.</param>
/// <param name="Result">null while open; once closed: sold (the leader buys at winning_bid), unsold (no bid was accepted) or reserve_not_met (the winning bid stayed below the reserve: nobody buys).</param>
/// <param name="ClosedAt">When the streamer closed the auction (UTC); null while open.</param>
/// <param name="Version">Orders the item's states: every change raises it, and the live streams' events carry it, so a client that read the item keeps whichever of the two is newer.</param>
public sealed record ItemResponse(
    Guid Id,
    string Name,
    decimal InitBid,
    decimal WinningBid,
    Guid? WinningUserId,
    string Currency,
    IReadOnlyList<string> Pictures,
    long Bids,
    DateTime CreatedDate,
    DateTime BiddingEnddate,
    ItemStatus Status,
    Guid? SellerId,
    decimal BidIncrement,
    decimal? ReservePrice,
    bool? ReserveMet,
    int SoftCloseSeconds,
    decimal? MinimumNextBid,
    string? Result,
    DateTime? ClosedAt,
    long Version)
{
    /// <summary>The item as <paramref name="caller"/> (null: anonymous) may see it: the reserve price is its seller's alone.</summary>
    public static ItemResponse From(Item item, Guid? caller) => new(
        item.Id, item.Name, item.InitBid, item.WinningBid, item.WinningUserId, item.Currency, item.Pictures,
        item.Bids, item.CreatedDate.UtcDateTime, item.BiddingEndDate.UtcDateTime, item.Status, item.SellerId,
        item.BidIncrement, caller is not null && caller == item.SellerId ? item.ReservePrice : null, item.ReserveMet,
        item.SoftCloseSeconds, item.MinimumNextBid, item.Result, item.ClosedAt?.UtcDateTime, item.State.Version);
}

/// <summary>A bid: <c>pending</c> from the moment Kafka holds it until the streamer has processed it.</summary>
/// <param name="Id">The bid's id (a UUIDv7).</param>
/// <param name="ItemId">The item bid on.</param>
/// <param name="UserId">The bidder.</param>
/// <param name="Value">The amount bid, in the item's currency.</param>
/// <param name="Client">Where the bid came from.</param>
/// <param name="BidDate">When the API took the bid (UTC): the rules judge it at this instant.</param>
/// <param name="CreatedDate">When the streamer recorded the bid (UTC); null while pending.</param>
/// <param name="Status">pending, then accepted or rejected.</param>
/// <param name="Reason">Why the bid was rejected: the first rule it broke, or outbid (an earlier automatic bid goes as high, and its price rose); null unless rejected.</param>
/// <param name="Detail">The reason in a sentence, for people; null unless rejected.</param>
/// <param name="MaxValue">The bidder's automatic maximum, as posted. Private: shown to the bidder and administrators; null in an item's public bid listing, and when the bid has none.</param>
public sealed record BidResponse(
    Guid Id,
    Guid ItemId,
    Guid UserId,
    decimal Value,
    string Client,
    DateTime BidDate,
    DateTime? CreatedDate,
    BidResponseStatus Status,
    string? Reason,
    string? Detail,
    decimal? MaxValue)
{
    /// <summary>The bid as its bidder (or an administrator) sees it: with its automatic maximum.</summary>
    public static BidResponse From(Bid bid) => new(
        bid.Id, bid.ItemId, bid.UserId, bid.Value, bid.Client, bid.BidDate.UtcDateTime, bid.CreatedDate.UtcDateTime,
        bid.Status == BidStatus.Accepted ? BidResponseStatus.Accepted : BidResponseStatus.Rejected, bid.Reason, bid.Detail, bid.MaxValue);

    /// <summary>The bid as anyone sees it in an item's bid listing: the automatic maximum is its bidder's secret.</summary>
    public static BidResponse Public(Bid bid) => From(bid) with { MaxValue = null };

    public static BidResponse Pending(PostedBid bid) => new(
        bid.Id, bid.ItemId, bid.UserId, bid.Value, bid.Client, bid.BidDate.UtcDateTime, null, BidResponseStatus.Pending, null, null, bid.MaxValue);
}

public enum BidResponseStatus
{
    Pending,
    Accepted,
    Rejected,
}

/// <summary>One page of a listing; pass <see cref="NextCursor"/> as <c>?cursor=</c> for the next (null on the last page).</summary>
public sealed record PageResponse<T>(IReadOnlyList<T> Items, string? NextCursor)
{
    public static PageResponse<T> From<TSource>(Page<TSource> page, Func<TSource, T> map) => new([.. page.Items.Select(map)], page.NextCursor);
}

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
/// <param name="WinningBid">The live winning bid; 0 until a bid wins.</param>
/// <param name="WinningUserId">Who made the winning bid; null until a bid wins.</param>
/// <param name="Currency">3 upper-case letters (ISO 4217).</param>
/// <param name="Pictures">Absolute http(s) URLs.</param>
/// <param name="Bids">How many bids were accepted.</param>
/// <param name="CreatedDate">When the item was created (UTC).</param>
/// <param name="BiddingEnddate">When bidding closes (UTC): a bid made at or after it is rejected.</param>
/// <param name="Status">open before the end date, closed from it on.</param>
/// <param name="SellerId">The user selling the item, whose own bids on it are rejected (own_item); null when unknown (items created before items knew their seller).</param>
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
    Guid? SellerId)
{
    public static ItemResponse From(Item item, DateTimeOffset now) => new(
        item.Id, item.Name, item.InitBid, item.WinningBid, item.WinningUserId, item.Currency, item.Pictures,
        item.Bids, item.CreatedDate.UtcDateTime, item.BiddingEndDate.UtcDateTime, item.StatusAt(now), item.SellerId);
}

/// <summary>A bid: <c>pending</c> from the moment Kafka holds it until the streamer has processed it.</summary>
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
    string? Detail)
{
    public static BidResponse From(Bid bid) => new(
        bid.Id, bid.ItemId, bid.UserId, bid.Value, bid.Client, bid.BidDate.UtcDateTime, bid.CreatedDate.UtcDateTime,
        bid.Status == BidStatus.Accepted ? BidResponseStatus.Accepted : BidResponseStatus.Rejected, bid.Reason, bid.Detail);

    public static BidResponse Pending(PostedBid bid) => new(
        bid.Id, bid.ItemId, bid.UserId, bid.Value, bid.Client, bid.BidDate.UtcDateTime, null, BidResponseStatus.Pending, null, null);
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

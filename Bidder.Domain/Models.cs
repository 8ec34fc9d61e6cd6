namespace Bidder.Domain;

/// <summary>A bidder. <see cref="Bids"/> counts its accepted bids.</summary>
public sealed record User(Guid Id, string Name, long Bids, DateTimeOffset CreatedDate);

/// <summary>
/// An auction. The winning fields are 0/null until a bid wins; <see cref="Bids"/> counts accepted bids.
/// Money is a decimal with at most 2 fraction digits. <see cref="SellerId"/> is the user selling it, who
/// cannot bid on it: null for items created before items knew their seller (so it comes last and optional).
/// </summary>
public sealed record Item(
    Guid Id,
    string Name,
    decimal InitBid,
    decimal WinningBid,
    Guid? WinningUserId,
    Guid? WinningBidId,
    string Currency,
    IReadOnlyList<string> Pictures,
    long Bids,
    DateTimeOffset CreatedDate,
    DateTimeOffset BiddingEndDate,
    Guid? SellerId = null)
{
    public ItemStatus StatusAt(DateTimeOffset now) => now < BiddingEndDate ? ItemStatus.Open : ItemStatus.Closed;
}

public enum ItemStatus
{
    Open,
    Closed,
}

/// <summary>
/// A processed bid. <see cref="BidDate"/> is when the API took it, <see cref="CreatedDate"/> when the
/// streamer recorded it. A rejected bid carries the reason code and a human-readable detail.
/// </summary>
public sealed record Bid(
    Guid Id,
    Guid ItemId,
    Guid UserId,
    decimal Value,
    string Client,
    DateTimeOffset BidDate,
    DateTimeOffset CreatedDate,
    BidStatus Status,
    string? Reason,
    string? Detail);

public enum BidStatus
{
    Accepted,
    Rejected,
}

/// <summary>
/// What an <c>Idempotency-Key</c> maps to: the bid first posted with it, whether Kafka holds it yet, and
/// until when the request that holds the key may be producing it (<see cref="LeaseUntil"/>): while a lease
/// runs no other request produces the bid, so one key puts one message on the topic.
/// </summary>
public sealed record IdempotencyRecord(string Key, string RequestHash, PostedBid Bid, bool Produced, DateTimeOffset CreatedDate, DateTimeOffset LeaseUntil)
{
    /// <summary>How long a key is remembered: a retry later than this is a new bid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a request may hold a key while it produces: longer than the producer's message timeout
    /// (10 s by default), after which a produce has either landed or failed. A request that dies while
    /// holding the key blocks retries (409) for at most this long.
    /// </summary>
    public static readonly TimeSpan InFlightLease = TimeSpan.FromSeconds(30);

    /// <summary>A lease that has run out, or was given back after a failed produce.</summary>
    public static readonly DateTimeOffset Released = DateTimeOffset.UnixEpoch;
}

/// <summary>A bid as the API takes it, before the streamer has processed it: what goes on the bids topic.</summary>
public sealed record PostedBid(Guid Id, Guid ItemId, Guid UserId, decimal Value, string Client, DateTimeOffset BidDate);

/// <summary>
/// The bidding state of one item: a row of the streamer's item table and a record of the item-changelog
/// topic. <see cref="Bids"/> only grows, so it orders states: the one with more bids is the newer.
/// </summary>
public sealed record ItemBiddingState(Guid ItemId, decimal WinningBid, Guid? WinningUserId, Guid? WinningBidId, long Bids, DateTimeOffset UpdatedAt);

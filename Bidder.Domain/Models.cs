namespace Bidder.Domain;

/// <summary>A bidder. <see cref="Bids"/> counts its accepted bids.</summary>
public sealed record User(Guid Id, string Name, long Bids, DateTimeOffset CreatedDate);

/// <summary>
/// An auction: its terms, fixed when it is created, and its bidding state, which only the streamer writes.
/// Money is a decimal with at most 2 fraction digits. <see cref="SellerId"/> is the user selling it, who
/// cannot bid on it: null for items created before items knew their seller. The parameters after it came
/// later, so they are optional with the values an older item has.
/// </summary>
/// <param name="WinningBid">The price the leader pays: 0 until a bid leads.</param>
/// <param name="Bids">How many bids were accepted.</param>
/// <param name="BiddingEndDate">When bidding ends; a soft close moves it later.</param>
/// <param name="BidIncrement">How much a new leading bid must add to the winning bid.</param>
/// <param name="ReservePrice">The lowest price the seller sells at (private to the seller); null: none.</param>
/// <param name="SoftCloseSeconds">A bid accepted this close to the end moves the end to its bid date plus this; 0: off.</param>
/// <param name="LeaderMax">The leading bid's automatic maximum (private to its bidder): what it may rise to.</param>
/// <param name="Version">How many times the bidding state changed: orders states, whoever wrote them.</param>
/// <param name="ClosedAt">When the streamer closed the auction; null while it is open.</param>
/// <param name="Result">One of <see cref="AuctionResult"/> once closed; null while open.</param>
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
    Guid? SellerId = null,
    decimal BidIncrement = AuctionTerms.DefaultBidIncrement,
    decimal? ReservePrice = null,
    int SoftCloseSeconds = 0,
    decimal? LeaderMax = null,
    long Version = 0,
    DateTimeOffset? ClosedAt = null,
    string? Result = null)
{
    /// <summary>Open until the streamer closes it (within seconds after <see cref="BiddingEndDate"/>), then closed with its result.</summary>
    public ItemStatus Status => ClosedAt is null ? ItemStatus.Open : ItemStatus.Closed;

    /// <summary>The item's bidding state as the rules read and write it.</summary>
    public AuctionState State => new(WinningBid, WinningUserId, WinningBidId, LeaderMax, Bids, StateVersion, BiddingEndDate, ClosedAt, Result);

    /// <summary>The version of <see cref="State"/>, without making it: a row from before versions counts its bids.</summary>
    public long StateVersion => Math.Max(Version, Bids);

    /// <summary>The item with <paramref name="state"/> as its bidding state.</summary>
    public Item With(AuctionState state) => this with
    {
        WinningBid = state.WinningBid,
        WinningUserId = state.WinningUserId,
        WinningBidId = state.WinningBidId,
        LeaderMax = state.LeaderMax,
        Bids = state.Bids,
        Version = state.Version,
        BiddingEndDate = state.EndDate,
        ClosedAt = state.ClosedAt,
        Result = state.Result,
    };

    /// <summary>What a bid must reach to lead: null once closed.</summary>
    public decimal? MinimumNextBid => ClosedAt is null ? AuctionTerms.MinimumNextBid(this, State) : null;

    /// <summary>Null when there is no reserve; else whether the winning bid reaches it.</summary>
    public bool? ReserveMet => ReservePrice is { } reserve ? WinningBidId is not null && WinningBid >= reserve : null;
}

public enum ItemStatus
{
    Open,
    Closed,
}

/// <summary>
/// A processed bid. <see cref="BidDate"/> is when the API took it, <see cref="CreatedDate"/> when the
/// streamer recorded it. A rejected bid carries the reason code and a human-readable detail.
/// <see cref="MaxValue"/> is the bidder's automatic maximum (private to them). <see cref="ItemVersion"/> is the
/// item's state version the bid produced, when it changed the item (accepted, or outbid and so raising the
/// price): a store without atomic batches uses it to tell whether the item already holds the bid's effect.
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
    string? Detail,
    decimal? MaxValue = null,
    long? ItemVersion = null);

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
/// <remarks><see cref="MaxValue"/>: the most the bidder lets the streamer bid for them (automatic bidding); null: <see cref="Value"/>.</remarks>
public sealed record PostedBid(Guid Id, Guid ItemId, Guid UserId, decimal Value, string Client, DateTimeOffset BidDate, decimal? MaxValue = null)
{
    /// <summary>The most this bid offers: its automatic maximum, else its value.</summary>
    public decimal Offer => MaxValue ?? Value;
}

/// <summary>
/// The bidding state of one item at a moment: a row of the streamer's item table and a record of the
/// item-changelog topic, as written to the item. <see cref="Version"/> grows with every change (a bid
/// accepted, a price raised by an automatic bid, the close), so it orders states whoever wrote them.
/// </summary>
public sealed record ItemBiddingState(Guid ItemId, AuctionState State, DateTimeOffset UpdatedAt)
{
    /// <summary>
    /// The version of the item's state the batch's bids were decided against (its state before their first change),
    /// where bids decided it: the item must not have moved past it meanwhile (another writer on the partition). Null
    /// for a state sent again or a close.
    /// </summary>
    public long? DecidedFrom { get; init; }
}

using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Bidder.Api.Apis;
using Bidder.Domain;

namespace Bidder.Api.Contracts;

// The request bodies, for the OpenAPI document. Each limit is the one constant the handler checks
// (Requests/JsonFields reads the bodies field by field, so every violation names its field): the attributes
// put the same constant into the document's schema (maxLength, minimum, maximum, pattern, maxItems, default).

public sealed record CreateUserRequest
{
    /// <summary>Stored exactly as sent; no control characters.</summary>
    [StringLength(UsersApi.MaxNameLength, MinimumLength = 1)]
    public required string Name { get; init; }
}

public sealed record CreateItemRequest
{
    /// <summary>Stored exactly as sent; no control characters.</summary>
    [StringLength(ItemsApi.MaxNameLength, MinimumLength = 1)]
    public required string Name { get; init; }

    /// <summary>The starting price: positive, at most 2 decimal places, at most the highest bid the house takes (100000 unless configured).</summary>
    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public required decimal InitBid { get; init; }

    /// <summary>3 upper-case letters (ISO 4217); EUR when omitted.</summary>
    [RegularExpression(ItemsApi.CurrencyPattern)]
    public string? Currency { get; init; }

    /// <summary>Absolute http(s) URLs.</summary>
    [MaxLength(ItemsApi.MaxPictures)]
    public IReadOnlyList<string>? Pictures { get; init; }

    /// <summary>When bidding ends: ISO-8601, in the future (UTC when no offset is given). A soft close may move it later.</summary>
    public required DateTimeOffset BiddingEnddate { get; init; }

    /// <summary>How much a bid must add to the winning bid to lead: at least 0.01, at most 2 decimal places; 0.01 when omitted.</summary>
    [Range(typeof(decimal), AuctionTerms.MinBidIncrementText, Money.MaxValueText)]
    [DefaultValue(typeof(decimal), AuctionTerms.MinBidIncrementText)]
    public decimal? BidIncrement { get; init; }

    /// <summary>
    /// The lowest price you sell at: at least init_bid, at most the highest bid the house takes, at most 2 decimal places; none when omitted. Private: only you,
    /// the seller, read it back; everyone else sees only reserve_met. An auction whose winning bid stays below it
    /// closes as reserve_not_met.
    /// </summary>
    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public decimal? ReservePrice { get; init; }

    /// <summary>
    /// Soft close (anti-sniping): a bid accepted within this many seconds of the end moves the end to its bid date plus
    /// this many seconds. A whole number from 0 to 3600; 0 (off) when omitted.
    /// </summary>
    [Range(0, AuctionTerms.MaxSoftCloseSeconds)]
    [DefaultValue(0)]
    public int? SoftCloseSeconds { get; init; }
}

public sealed record CreateBidRequest
{
    /// <summary>The item bid on.</summary>
    public required Guid ItemId { get; init; }

    /// <summary>The bidder: the signed-in caller. May be left out; any other user's id is refused (403).</summary>
    public Guid? UserId { get; init; }

    /// <summary>The amount: positive, at most 2 decimal places, in the item's currency.</summary>
    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public required decimal Value { get; init; }

    /// <summary>
    /// Automatic bidding: the most you let the streamer bid for you, at least value, at most 2 decimal places. Your
    /// bid leads at the lowest price that beats the other bids (their best plus the item's bid_increment), and rises
    /// by itself up to this as others bid. Private: only you (and administrators) read it back.
    /// </summary>
    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public decimal? MaxValue { get; init; }

    /// <summary>Where the bid comes from; "web" when omitted. No control characters.</summary>
    [StringLength(TextRules.MaxClientLength, MinimumLength = 1)]
    public string? Client { get; init; }
}

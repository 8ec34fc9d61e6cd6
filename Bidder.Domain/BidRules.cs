using System.Globalization;

namespace Bidder.Domain;

/// <summary>Why a bid was rejected: the codes published on the invalid-bids topic and shown by GET /events/{id}.</summary>
public static class RejectReason
{
    public const string Malformed = "malformed";
    public const string ValueTooHigh = "value_too_high";
    public const string UnknownUser = "unknown_user";
    public const string UnknownItem = "unknown_item";
    public const string OwnItem = "own_item";
    public const string AuctionClosed = "auction_closed";
    public const string BelowInitBid = "below_init_bid";
    public const string TooLow = "too_low";

    /// <summary>
    /// A message that made the streamer fail while processing it (an exception that is neither a database
    /// nor a Kafka fault). It is set aside with the exception's type so that the rest of its partition flows.
    /// </summary>
    public const string Unprocessable = "unprocessable";

    public static readonly IReadOnlyList<string> All = [Malformed, ValueTooHigh, UnknownUser, UnknownItem, OwnItem, AuctionClosed, BelowInitBid, TooLow, Unprocessable];
}

/// <summary>A rule's verdict: accepted (no reason), or rejected with the first failing rule's code and a sentence for people.</summary>
public readonly record struct Verdict(string? Reason, string? Detail)
{
    public static readonly Verdict Accept = new(null, null);

    public bool IsAccepted => Reason is null;

    public static Verdict Reject(string reason, string detail) => new(reason, detail);
}

/// <summary>
/// The bidding rules, in one place: the streamer applies them and the tests check against them. A bid is
/// accepted when every rule holds, else rejected with the first failing rule. An accepted bid is therefore
/// always the item's new winning bid.
/// </summary>
public sealed class BidRules(decimal maxBidValue)
{
    /// <summary>The original system's ceiling.</summary>
    public const decimal DefaultMaxBidValue = 100_000m;

    public decimal MaxBidValue { get; } = maxBidValue;

    /// <param name="bid">The decoded bid.</param>
    /// <param name="userExists">Whether the bidder exists.</param>
    /// <param name="item">The item, or null when there is no such item.</param>
    /// <param name="winningBid">The item's current winning bid (0 before any bid wins).</param>
    public Verdict Evaluate(PostedBid bid, bool userExists, Item? item, decimal winningBid)
    {
        if (bid.Value > MaxBidValue)
        {
            return Verdict.Reject(RejectReason.ValueTooHigh, $"The value {Format(bid.Value)} is above the ceiling of {Format(MaxBidValue)}.");
        }

        if (!userExists)
        {
            return Verdict.Reject(RejectReason.UnknownUser, $"There is no user {bid.UserId}.");
        }

        if (item is null)
        {
            return Verdict.Reject(RejectReason.UnknownItem, $"There is no item {bid.ItemId}.");
        }

        // Before the auction's own rules: a seller bidding up their own item is never a fair bid, open or closed.
        // An item without a known seller (created before items knew theirs) never meets this rule.
        if (item.SellerId is { } seller && bid.UserId == seller)
        {
            return Verdict.Reject(RejectReason.OwnItem, "A seller cannot bid on their own item.");
        }

        if (bid.BidDate >= item.BiddingEndDate)
        {
            return Verdict.Reject(RejectReason.AuctionClosed, $"Bidding on this item closed at {item.BiddingEndDate.UtcDateTime:O}; the bid was made at {bid.BidDate.UtcDateTime:O}.");
        }

        if (bid.Value < item.InitBid)
        {
            return Verdict.Reject(RejectReason.BelowInitBid, $"The value {Format(bid.Value)} is below the starting price of {Format(item.InitBid)}.");
        }

        if (bid.Value <= winningBid)
        {
            return Verdict.Reject(RejectReason.TooLow, $"The value {Format(bid.Value)} does not beat the winning bid of {Format(winningBid)}.");
        }

        return Verdict.Accept;
    }

    private static string Format(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}

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

    /// <summary>Beaten at once by the leader's automatic maximum: rejected, but it raised the winning bid.</summary>
    public const string Outbid = "outbid";

    /// <summary>
    /// A message that made the streamer fail while processing it (an exception that is neither a database
    /// nor a Kafka fault). It is set aside with the exception's type so that the rest of its partition flows.
    /// </summary>
    public const string Unprocessable = "unprocessable";

    public static readonly IReadOnlyList<string> All = [Malformed, ValueTooHigh, UnknownUser, UnknownItem, OwnItem, AuctionClosed, BelowInitBid, TooLow, Outbid, Unprocessable];
}

/// <summary>A rule's verdict: accepted (no reason), or rejected with the first failing rule's code and a sentence for people.</summary>
public readonly record struct Verdict(string? Reason, string? Detail)
{
    public static readonly Verdict Accept = new(null, null);

    public bool IsAccepted => Reason is null;

    public static Verdict Reject(string reason, string detail) => new(reason, detail);
}

/// <summary>What a bid comes to: its verdict, and the item's state after it when it changed the item (accepted or outbid).</summary>
public readonly record struct Decision(Verdict Verdict, AuctionState? After);

/// <summary>
/// The auction rules, in one place and pure: the streamer applies them, the tests check them as a table.
/// A bid is checked against each rule in turn and rejected with the first that fails. One that passes them
/// all competes with the leader by eBay's rule of automatic bidding: the higher offer (a bid's maximum,
/// else its value) leads, at the lowest price that keeps it ahead (the other offer plus the increment,
/// capped at its own offer, never below its own value); an offer the leader's maximum matches is rejected as
/// <see cref="RejectReason.Outbid"/> and raises the leader's price; equal offers: the earlier leads. Once the
/// leader's maximum reaches the reserve the price rises at least to it. A bid accepted within the soft close
/// moves the end. <see cref="Close"/> decides how an auction that has ended comes out.
/// </summary>
public sealed class BidRules(decimal maxBidValue)
{
    /// <summary>The original system's ceiling.</summary>
    public const decimal DefaultMaxBidValue = 100_000m;

    public decimal MaxBidValue { get; } = maxBidValue;

    /// <param name="bid">The decoded bid.</param>
    /// <param name="userExists">Whether the bidder exists.</param>
    /// <param name="item">The item (its terms), or null when there is no such item.</param>
    /// <param name="state">The item's current bidding state; the item's own when null.</param>
    public Decision Decide(PostedBid bid, bool userExists, Item? item, AuctionState? state = null)
    {
        if (Check(bid, userExists, item, state ??= item?.State) is { } rejected)
        {
            return new Decision(rejected, null);
        }

        var current = state!;
        var terms = item!;
        var leaderMax = current.LeaderMax is { } max && max > current.WinningBid ? max : current.WinningBid;
        AuctionState after;
        Verdict verdict;
        if (!current.HasLeader || bid.UserId == current.WinningUserId)
        {
            // The first bid leads at its value; the leader bidding again raises their price to its value and
            // their maximum to its offer (never lowering either).
            after = Lead(bid, current, Math.Max(current.WinningBid, bid.Value), current.HasLeader ? Math.Max(leaderMax, bid.Offer) : bid.Offer);
            verdict = Verdict.Accept;
        }
        else if (bid.Offer > leaderMax)
        {
            after = Lead(bid, current, Math.Max(bid.Value, Math.Min(bid.Offer, leaderMax + terms.BidIncrement)), bid.Offer);
            verdict = Verdict.Accept;
        }
        else
        {
            var price = Math.Max(current.WinningBid, Math.Min(leaderMax, bid.Offer + terms.BidIncrement));
            after = current with { WinningBid = WithReserve(terms, price, leaderMax), Version = current.Version + 1 };
            verdict = Verdict.Reject(RejectReason.Outbid,
                $"Another bidder's automatic bid goes at least as high as your offer of {Format(bid.Offer)}; the winning bid is now {Format(after.WinningBid)}.");
            return new Decision(verdict, after);
        }

        after = after with { WinningBid = WithReserve(terms, after.WinningBid, after.LeaderMax!.Value) };
        if (terms.SoftCloseSeconds > 0 && bid.BidDate.AddSeconds(terms.SoftCloseSeconds) is var extended && extended > after.EndDate)
        {
            after = after with { EndDate = extended };
        }

        return new Decision(verdict, after);
    }

    /// <summary>The first rule <paramref name="bid"/> breaks, or null when it may compete.</summary>
    private Verdict? Check(PostedBid bid, bool userExists, Item? item, AuctionState? state)
    {
        if (bid.Value > MaxBidValue || bid.MaxValue > MaxBidValue)
        {
            return Verdict.Reject(RejectReason.ValueTooHigh, $"The {(bid.Value > MaxBidValue ? "value" : "maximum")} {Format(Math.Max(bid.Value, bid.Offer))} is above the ceiling of {Format(MaxBidValue)}.");
        }

        if (!userExists)
        {
            return Verdict.Reject(RejectReason.UnknownUser, $"There is no user {bid.UserId}.");
        }

        if (item is null || state is null)
        {
            return Verdict.Reject(RejectReason.UnknownItem, $"There is no item {bid.ItemId}.");
        }

        // Before the auction's own rules: a seller bidding up their own item is never a fair bid, open or closed.
        // An item without a known seller (created before items knew theirs) never meets this rule.
        if (item.SellerId is { } seller && bid.UserId == seller)
        {
            return Verdict.Reject(RejectReason.OwnItem, "A seller cannot bid on their own item.");
        }

        if (state.ClosedAt is { } closedAt)
        {
            return Verdict.Reject(RejectReason.AuctionClosed, $"This auction closed at {closedAt.UtcDateTime:O} ({state.Result}).");
        }

        if (bid.BidDate >= state.EndDate)
        {
            return Verdict.Reject(RejectReason.AuctionClosed, $"Bidding on this item ended at {state.EndDate.UtcDateTime:O}; the bid was made at {bid.BidDate.UtcDateTime:O}.");
        }

        if (bid.Value < item.InitBid)
        {
            return Verdict.Reject(RejectReason.BelowInitBid, $"The value {Format(bid.Value)} is below the starting price of {Format(item.InitBid)}.");
        }

        var minimum = AuctionTerms.MinimumNextBid(item, state);
        if (bid.Offer < minimum)
        {
            return Verdict.Reject(RejectReason.TooLow,
                $"The offer {Format(bid.Offer)} is below the minimum_next_bid of {Format(minimum)} (the winning bid of {Format(state.WinningBid)} plus the increment of {Format(item.BidIncrement)}).");
        }

        return null;
    }

    /// <summary>How an auction that has ended comes out: its result, stamped <paramref name="now"/>.</summary>
    public static AuctionState Close(Item item, AuctionState state, DateTimeOffset now)
    {
        var result = !state.HasLeader ? AuctionResult.Unsold
            : item.ReservePrice is { } reserve && state.WinningBid < reserve ? AuctionResult.ReserveNotMet
            : AuctionResult.Sold;
        return state with { ClosedAt = now, Result = result, Version = state.Version + 1 };
    }

    private static AuctionState Lead(PostedBid bid, AuctionState current, decimal price, decimal leaderMax) => current with
    {
        WinningBid = price,
        WinningUserId = bid.UserId,
        WinningBidId = bid.Id,
        LeaderMax = leaderMax,
        Bids = current.Bids + 1,
        Version = current.Version + 1,
    };

    /// <summary>Once the leader's maximum reaches the reserve, the price is at least the reserve.</summary>
    private static decimal WithReserve(Item item, decimal price, decimal leaderMax) =>
        item.ReservePrice is { } reserve && leaderMax >= reserve ? Math.Max(price, reserve) : price;

    private static string Format(decimal value) => value.ToString("0.00", CultureInfo.InvariantCulture);
}

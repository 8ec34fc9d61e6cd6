using Bidder.LoadTest.Api;
using Bidder.LoadTest.Ledger;
using Bidder.LoadTest.Running;

namespace Bidder.LoadTest.Scenarios;

/// <summary>What a bid means to do; the streamer, not the tool, decides what actually happens to it.</summary>
internal enum BidIntent
{
    /// <summary>Above the highest raise sent so far: usually accepted, too_low when a concurrent raise overtakes it.</summary>
    Raise,

    /// <summary>The same value as the highest raise: the later of the two is too_low.</summary>
    Tie,

    /// <summary>Between the starting price and the highest raise: too_low once that raise is processed.</summary>
    TooLow,

    BelowInitBid,

    /// <summary>Above the ceiling of 100000.</summary>
    TooHigh,

    /// <summary>A valid raise on an auction that has already closed: auction_closed.</summary>
    Late,
}

/// <summary>
/// The bid values: mostly rising bids, as bidders outbid each other, with a share of each kind of reject so
/// that every rule of the streamer is exercised under load.
/// </summary>
internal static class BidValues
{
    // Out of 100: raise 80, tie 3, too low 7, below the starting price 5, above the ceiling 3, late 2.
    private static readonly (int UpTo, BidIntent Intent)[] Intents =
        [(80, BidIntent.Raise), (83, BidIntent.Tie), (90, BidIntent.TooLow), (95, BidIntent.BelowInitBid), (98, BidIntent.TooHigh), (100, BidIntent.Late)];

    public static BidIntent PickIntent(ref FastRandom random)
    {
        var ticket = random.Next(100);
        foreach (var (upTo, intent) in Intents)
        {
            if (ticket < upTo)
            {
                return intent;
            }
        }

        return BidIntent.Raise;
    }

    public static long ValueFor(BidIntent intent, ItemRecord item, ref FastRandom random)
    {
        var high = Volatile.Read(ref item.SentHighCents);
        return intent switch
        {
            BidIntent.Raise => Raise(item, ref random),
            BidIntent.Late => Math.Min(Next(item, high, ref random), Money.MaxBidCents),
            BidIntent.Tie when high >= item.InitCents => high,
            BidIntent.TooLow when high > item.InitCents => random.NextInt64(item.InitCents, high - 1),
            BidIntent.BelowInitBid when item.InitCents > 1 => random.NextInt64(1, item.InitCents - 1),
            BidIntent.TooHigh => random.NextInt64(Money.MaxBidCents + 1, Money.MaxBidCents * 3 / 2),
            // Nothing was raised yet, so there is nothing to tie or undercut: the starting price itself.
            _ => item.InitCents,
        };
    }

    private static long Raise(ItemRecord item, ref FastRandom random)
    {
        while (true)
        {
            var high = Volatile.Read(ref item.SentHighCents);
            // At the ceiling, raises become ties: the item's price stays a valid bid.
            var value = Math.Min(Next(item, high, ref random), Money.MaxBidCents);
            if (Interlocked.CompareExchange(ref item.SentHighCents, value, high) == high)
            {
                return value;
            }
        }
    }

    /// <summary>Steps of 0.5–5 % of the starting price plus up to a euro, so prices grow steadily but stay far from the ceiling for long runs.</summary>
    private static long Next(ItemRecord item, long high, ref FastRandom random)
    {
        if (high < item.InitCents)
        {
            return item.InitCents + random.NextInt64(0, item.InitCents / 20);
        }

        var step = Math.Max(1, item.InitCents * random.NextInt64(5, 50) / 1000) + random.NextInt64(0, 100);
        return high + step;
    }
}

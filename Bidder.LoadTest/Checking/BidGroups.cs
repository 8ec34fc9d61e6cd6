using Bidder.LoadTest.Ledger;

namespace Bidder.LoadTest.Checking;

/// <summary>
/// The sent bids' indexes grouped by item or by user, by counting sort: two int arrays, whatever the number
/// of groups, instead of a list per group.
/// </summary>
internal sealed class BidGroups
{
    private readonly int[] _order;
    private readonly int[] _start;

    private BidGroups(int[] order, int[] start) => (_order, _start) = (order, start);

    public ReadOnlyMemory<int> this[int group] => _order.AsMemory(_start[group], _start[group + 1] - _start[group]);

    public static BidGroups Of(IReadOnlyList<SentBid> bids, int groups, Func<SentBid, int> key)
    {
        var start = new int[groups + 1];
        foreach (var bid in bids)
        {
            start[key(bid) + 1]++;
        }

        for (var g = 0; g < groups; g++)
        {
            start[g + 1] += start[g];
        }

        var next = (int[])start.Clone();
        var order = new int[bids.Count];
        for (var i = 0; i < bids.Count; i++)
        {
            order[next[key(bids[i])]++] = i;
        }

        return new BidGroups(order, start);
    }
}

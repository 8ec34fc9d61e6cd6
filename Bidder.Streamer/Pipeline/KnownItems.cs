using Bidder.Domain;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// Items the database returned since the partitions were last assigned, so a batch asks it only about items it
/// has not seen. Only this streamer's pipeline changes an item's bidding state (its batches and its closes, both
/// kept in the table, whose newer versions win over a remembered state), and an item's terms never change, so a
/// remembered item answers as the database would. The first read of an item after an assignment is what finds
/// a database ahead of the changelog (a crash between the two), so everything is forgotten when partitions move,
/// when a write fails and after a close. Bounded: past <see cref="Capacity"/> items it starts over, which costs
/// one lookup per item, never a wrong answer. The bound is memory's: where more items than that take bids at once,
/// the batch's write, not its lookups, is what holds the pipeline back (BENCHMARKS.md, scale). Used by the
/// pipeline's one thread only.
/// </summary>
public sealed class KnownItems
{
    public const int Capacity = 20_000;

    private readonly Dictionary<Guid, Item> _known = [];

    public int Count => _known.Count;

    public bool TryGet(Guid id, out Item item) => _known.TryGetValue(id, out item!);

    public void AddRange(IEnumerable<Item> items)
    {
        foreach (var item in items)
        {
            if (_known.Count >= Capacity && !_known.ContainsKey(item.Id))
            {
                _known.Clear();
            }

            _known[item.Id] = item;
        }
    }

    public void Clear() => _known.Clear();
}

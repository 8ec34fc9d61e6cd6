using Bidder.Domain;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// Items the database returned since the partitions were last assigned, so a batch asks it only about items it
/// has not seen. An item's terms never change, and its bidding state is the row the batch starts from (a pending
/// batch's or the table's) once that row has reached the state the database returned: a remembered item answers
/// only then, and the database is asked again wherever there is no such row (a new item whose first bids changed
/// nothing, a closed one, a partition whose table could not be restored). The first read of an item after an
/// assignment is what finds a database ahead of the changelog (a crash between the two), so everything is
/// forgotten when partitions move, when a write fails and after a close. Bounded: past <see cref="Capacity"/> items
/// it starts over, which costs one lookup per item, never a wrong answer. Used by the pipeline's one thread only.
/// </summary>
public sealed class KnownItems
{
    /// <summary>
    /// More than the scale benchmark's larger run has (100,000 items taking bids at once): with 20,000 remembered it
    /// read four of every five of its items again each batch, a fifth of the loop's time, and promoted each read to
    /// the collector's oldest generation only to drop it there (BENCHMARKS.md, scale). An item is remembered as its
    /// terms and state version only (<see cref="Terms"/>, some 170 bytes with its entry): 150,000 take ~25 MB.
    /// </summary>
    public const int Capacity = 150_000;

    private readonly Dictionary<Guid, Terms> _known = [];

    public int Count => _known.Count;

    /// <summary>
    /// The item, when it is remembered and <paramref name="rowVersion"/>, the version of the item's row the batch
    /// starts from (null: none), has reached the state the database returned it with. The answer carries the item's
    /// terms, and of its bidding state only that version, so the row is the state taken (<see cref="BatchProcessor"/>).
    /// </summary>
    public bool TryGet(Guid id, long? rowVersion, out Item item)
    {
        if (_known.TryGetValue(id, out var terms) && terms.Version <= rowVersion)
        {
            item = terms.ToItem(id);
            return true;
        }

        item = null!;
        return false;
    }

    /// <summary>Remembers items as the database returned them; a closed one is not remembered (bids on it ask again).</summary>
    public void AddRange(IEnumerable<Item> items)
    {
        foreach (var item in items)
        {
            if (item.ClosedAt is not null)
            {
                _known.Remove(item.Id);
                continue;
            }

            if (_known.Count >= Capacity && !_known.ContainsKey(item.Id))
            {
                _known.Clear();
            }

            _known[item.Id] = new Terms(item);
        }
    }

    public void Clear() => _known.Clear();

    /// <summary>What the rules read of an item (never its name, currency or pictures), and its state's version when read.</summary>
    private sealed class Terms(Item item)
    {
        private readonly Guid? _sellerId = item.SellerId;
        private readonly decimal _initBid = item.InitBid;
        private readonly decimal _bidIncrement = item.BidIncrement;
        private readonly decimal? _reservePrice = item.ReservePrice;
        private readonly int _softCloseSeconds = item.SoftCloseSeconds;
        private readonly DateTimeOffset _createdDate = item.CreatedDate;
        private readonly DateTimeOffset _biddingEndDate = item.BiddingEndDate;

        public long Version { get; } = item.StateVersion;

        // The bidding state stands for one the row has reached (TryGet): only its version is the database's.
        public Item ToItem(Guid id) =>
            new(id, string.Empty, _initBid, 0m, null, null, string.Empty, [], 0, _createdDate, _biddingEndDate, _sellerId,
                _bidIncrement, _reservePrice, _softCloseSeconds, Version: Version);
    }
}

using System.Collections.Concurrent;
using Bidder.Domain;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// One item's row of the table: its bidding state, when that last changed, and <see cref="SourceOffset"/>,
/// the bids-topic offset at which the item was in this state (the offset of the bid that changed it, or of
/// the message at which the streamer took the state from the database).
/// </summary>
public sealed record ItemTableEntry(AuctionState State, DateTimeOffset UpdatedAt, long SourceOffset)
{
    public static ItemTableEntry FromDatabase(Item item, long offset) => new(item.State, item.CreatedDate, offset);

    /// <summary>
    /// Whether this state came after <paramref name="other"/>: every change raises the version, so the higher
    /// version is newer; between equal versions (two writers around a rebalance), the later source offset.
    /// </summary>
    public bool IsNewerThan(ItemTableEntry? other) =>
        other is null || State.Version > other.State.Version || (State.Version == other.State.Version && SourceOffset > other.SourceOffset);

    public ItemTableEntry After(AuctionState state, long offset, DateTimeOffset now) => new(state, now, offset);

    public ItemChangelogMessage ToChangelog(Guid itemId) => ItemChangelogMessage.From(itemId, State, UpdatedAt, SourceOffset);

    public ItemBiddingState ToState(Guid itemId, long? decidedFrom = null) => new(itemId, State, UpdatedAt) { DecidedFrom = decidedFrom };
}

/// <summary>
/// The per-item table of winning bids, one partition of it per assigned partition of the bids topic
/// (items are keyed like bids, so an item lives in exactly one partition; see <see cref="Find"/> for bids a producer
/// put elsewhere). It is restored from the
/// item-changelog topic whenever a partition is assigned, before that partition's bids are processed.
/// It holds open auctions only: a closed one's row leaves it (and the changelog gets a tombstone after its closed
/// state, so compaction drops the item there too), else the table, the changelog and every restore would grow with
/// every auction ever held. A closed item's state is final in the database, where a late bid finds it.
/// </summary>
public sealed class ItemTable
{
    private readonly ConcurrentDictionary<int, Dictionary<Guid, ItemTableEntry>> _partitions = new();

    public IReadOnlyCollection<int> Partitions => [.. _partitions.Keys];

    public int Count => _partitions.Values.Sum(p => p.Count);

    /// <summary>
    /// Takes a partition's restored rows. An item another held partition has a row of already (its bids came on a
    /// partition not its own, see <see cref="Find"/>) keeps one row, the newer, where that one is.
    /// </summary>
    public void Load(int partition, Dictionary<Guid, ItemTableEntry> rows)
    {
        foreach (var (itemId, restored) in rows)
        {
            if (Elsewhere(partition, itemId) is { } otherRows)
            {
                // (Removing the current entry while enumerating a Dictionary is allowed.)
                _ = restored.IsNewerThan(otherRows[itemId]) ? otherRows.Remove(itemId) : rows.Remove(itemId);
            }
        }

        _partitions[partition] = rows;
    }

    public bool Holds(int partition) => _partitions.ContainsKey(partition);

    public void Drop(int partition) => _partitions.TryRemove(partition, out _);

    /// <summary>Drops these items' rows (from whichever partition holds them): their next bids are decided against the database's state.</summary>
    public void Forget(IEnumerable<Guid> itemIds)
    {
        foreach (var itemId in itemIds)
        {
            foreach (var rows in _partitions.Values)
            {
                rows.Remove(itemId);
            }
        }
    }

    /// <summary>
    /// The item's row: from the partition its bid came on, else from another that holds it. Every bid of an item
    /// comes on one partition when producers key bids by the item id as the API does; one that partitions otherwise
    /// puts them on several, and the item must still have one row here, not one per partition decided apart.
    /// </summary>
    public ItemTableEntry? Find(int partition, Guid itemId) =>
        _partitions.TryGetValue(partition, out var rows) && rows.TryGetValue(itemId, out var entry) ? entry
        : Elsewhere(partition, itemId) is { } other ? other[itemId] : null;

    /// <summary>Takes a processed batch's rows, once everything it produced is durable; a closed item's row leaves the table.</summary>
    public void Apply(IEnumerable<(int Partition, Guid ItemId, ItemTableEntry Entry)> updates)
    {
        foreach (var (partition, itemId, entry) in updates)
        {
            // Where the item's row is (see Find), else its bid's partition. A partition revoked meanwhile is not
            // ours any more: its new owner restores it from the changelog.
            var own = _partitions.GetValueOrDefault(partition);
            if ((own is not null && own.ContainsKey(itemId) ? own : Elsewhere(partition, itemId) ?? own) is not { } rows)
            {
                continue;
            }

            if (entry.State.IsClosed)
            {
                rows.Remove(itemId);
            }
            else if (!rows.TryGetValue(itemId, out var kept) || entry.IsNewerThan(kept))
            {
                rows[itemId] = entry;
            }
        }
    }

    /// <summary>The rows of a partition other than <paramref name="partition"/> holding the item, if any.</summary>
    private Dictionary<Guid, ItemTableEntry>? Elsewhere(int partition, Guid itemId)
    {
        foreach (var (other, otherRows) in _partitions)
        {
            if (other != partition && otherRows.ContainsKey(itemId))
            {
                return otherRows;
            }
        }

        return null;
    }
}

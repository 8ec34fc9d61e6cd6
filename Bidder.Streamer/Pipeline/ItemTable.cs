using System.Collections.Concurrent;
using Bidder.Core.Domain;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// One item's row of the table: its current winning bid, and <see cref="SourceOffset"/>, the bids-topic
/// offset of the last bid applied to it. A row read from the database has no offset of its own: the
/// database already holds every bid it recorded, so such a row counts as covering them all.
/// </summary>
public sealed record ItemTableEntry(decimal WinningBid, Guid? WinningUserId, Guid? WinningBidId, long Bids, DateTimeOffset UpdatedAt, long SourceOffset)
{
    public const long CoversEverythingRecorded = long.MaxValue;

    public static ItemTableEntry FromDatabase(Item item) =>
        new(item.WinningBid, item.WinningUserId, item.WinningBidId, item.Bids, item.CreatedDate, CoversEverythingRecorded);

    public static ItemTableEntry FromChangelog(ItemChangelogMessage record) =>
        new(record.WinningBid, record.WinningUserId, record.WinningBidId, record.Bids, record.UpdatedAt, record.SourceOffset);

    /// <summary>The row after <paramref name="bid"/> (found at <paramref name="offset"/>) won.</summary>
    public ItemTableEntry After(Bid bid, long offset, DateTimeOffset now) =>
        new(bid.Value, bid.UserId, bid.Id, Bids + 1, now, offset);

    public ItemChangelogMessage ToChangelog(Guid itemId) => new(itemId, WinningBid, WinningUserId, WinningBidId, Bids, UpdatedAt, SourceOffset);

    public ItemBiddingState ToState(Guid itemId) => new(itemId, WinningBid, WinningUserId, WinningBidId, Bids, UpdatedAt);
}

/// <summary>
/// The per-item table of winning bids, one partition of it per assigned partition of the bids topic
/// (items are keyed like bids, so an item lives in exactly one partition). It is restored from the
/// item-changelog topic whenever a partition is assigned, before that partition's bids are processed.
/// </summary>
public sealed class ItemTable
{
    private readonly ConcurrentDictionary<int, Dictionary<Guid, ItemTableEntry>> _partitions = new();

    public IReadOnlyCollection<int> Partitions => [.. _partitions.Keys];

    public int Count => _partitions.Values.Sum(p => p.Count);

    public void Load(int partition, Dictionary<Guid, ItemTableEntry> rows) => _partitions[partition] = rows;

    public void Drop(int partition) => _partitions.TryRemove(partition, out _);

    public ItemTableEntry? Find(int partition, Guid itemId) =>
        _partitions.TryGetValue(partition, out var rows) && rows.TryGetValue(itemId, out var entry) ? entry : null;

    /// <summary>Takes a processed batch's rows, once everything it produced is durable.</summary>
    public void Apply(IEnumerable<(int Partition, Guid ItemId, ItemTableEntry Entry)> updates)
    {
        foreach (var (partition, itemId, entry) in updates)
        {
            // A partition revoked meanwhile is not ours any more: its new owner restores it from the changelog.
            if (_partitions.TryGetValue(partition, out var rows))
            {
                rows[itemId] = entry;
            }
        }
    }
}

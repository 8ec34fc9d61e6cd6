using Bidder.Domain;

namespace Bidder.Core.Storage;

/// <summary>
/// The storage ports, cut by the clients that use them (as eShop's <c>IRequestManager</c> stands alone):
/// <see cref="IAuctionStore"/> for the API's reads and user/item writes, <see cref="IIdempotencyKeys"/> for
/// the API's bid posts and the key pruner, <see cref="IBatchRecorder"/> for the streamer. One adapter per
/// database implements them all (<c>Storage/Sqlite</c>, <c>Storage/Mongo</c>), as <see cref="IBidderStore"/>.
/// Every listing is keyset-paginated on indexed fields, so the cost of a page does not grow with the data.
/// Implementations throw <see cref="StorageUnavailableException"/> when the database cannot answer, and
/// <see cref="StorageConfigurationException"/> when it refuses the configuration.
/// </summary>
public interface IBidderStore : IAuctionStore, IIdempotencyKeys, IBatchRecorder
{
    /// <summary>Creates the schema or indexes; safe to run from several processes at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);
}

/// <summary>Users, items and processed bids as the API reads and writes them.</summary>
public interface IAuctionStore
{
    Task CreateUserAsync(User user, CancellationToken cancellationToken);

    Task<User?> GetUserAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    Task<Page<User>> ListUsersAsync(PageRequest page, CancellationToken cancellationToken);

    Task CreateItemAsync(Item item, CancellationToken cancellationToken);

    Task<Item?> GetItemAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>
    /// Without a status: newest first (by id). Open items: ending soonest first; closed items: the latest end
    /// first (both by end date, then id, from an index on the end date; the cursor's sort value is the end
    /// date in Unix milliseconds). An item is open until the streamer closes it.
    /// </summary>
    Task<Page<Item>> ListItemsAsync(ItemStatus? status, PageRequest page, CancellationToken cancellationToken);

    Task<Bid?> GetBidAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>Processed bids, newest first (by bid id, which is time-ordered), optionally of one status.</summary>
    Task<Page<Bid>> ListBidsAsync(BidStatus? status, PageRequest page, CancellationToken cancellationToken);

    /// <summary>An item's accepted bids, highest first.</summary>
    Task<Page<Bid>> ListItemBidsAsync(Guid itemId, PageRequest page, CancellationToken cancellationToken);

    /// <summary>A user's processed bids, newest first, optionally of one status.</summary>
    Task<Page<Bid>> ListUserBidsAsync(Guid userId, BidStatus? status, PageRequest page, CancellationToken cancellationToken);
}

/// <summary>What an <c>Idempotency-Key</c> maps to, and who may produce its bid.</summary>
public interface IIdempotencyKeys
{
    /// <summary>
    /// Records <paramref name="record"/> unless the key is taken; returns the record the key maps to
    /// (the new one, or the one that was there first).
    /// </summary>
    Task<IdempotencyRecord> ClaimIdempotencyKeyAsync(IdempotencyRecord record, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the key's lease to <paramref name="leaseUntil"/> if it still ends at <paramref name="expected"/>
    /// and the bid is not produced yet (compare-and-set): true when this caller now holds the key (or gave it back).
    /// </summary>
    Task<bool> RenewIdempotencyLeaseAsync(string key, DateTimeOffset expected, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    Task MarkIdempotencyKeyProducedAsync(string key, CancellationToken cancellationToken);

    /// <summary>Forgets the idempotency keys created before <paramref name="createdBefore"/>; returns how many.</summary>
    Task<long> DeleteIdempotencyKeysAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken);
}

/// <summary>What the streamer reads before deciding a batch, and how it records the batch.</summary>
public interface IBatchRecorder
{
    /// <summary>The items among <paramref name="ids"/> that exist (one round trip for a whole batch).</summary>
    Task<IReadOnlyDictionary<Guid, Item>> GetItemsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>The ids among <paramref name="ids"/> of users that exist (one round trip for a whole batch).</summary>
    Task<IReadOnlySet<Guid>> FindUsersAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>The processed bids among <paramref name="ids"/> (one round trip for a whole batch): how the streamer recognizes a replay.</summary>
    Task<IReadOnlyDictionary<Guid, Bid>> GetBidsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>
    /// The stored bids among <paramref name="ids"/> that changed their item (accepted, or outbid) and whose batch
    /// was not recorded to the end (the user count or the item state may be missing): a store without atomic batches (MongoDB without a replica set)
    /// reports them so the streamer records them again; an atomic store (SQLite) has none and asks nothing.
    /// </summary>
    Task<IReadOnlySet<Guid>> FindIncompleteBidsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>
    /// True when a batch is recorded whole or not at all, so a batch marked <see cref="ProcessedBatch.BidsAreNew"/>
    /// can be refused whole when one of its bids is stored already (<see cref="BidsAlreadyRecordedException"/>): the
    /// streamer may then decide a batch without first asking which of its bids are recorded (SQLite). A store
    /// without atomic batches (MongoDB without a replica set) cannot take back the part it wrote: false.
    /// </summary>
    bool RefusesRecordedBids { get; }

    /// <summary>
    /// Records what the streamer made of a batch, idempotently, so that replaying a batch after a crash
    /// changes nothing: a bid whose id is already stored is skipped (and not counted again); each user's
    /// <c>bids</c> grows by its newly stored accepted bids; an item takes the given bidding state (every field
    /// of <see cref="AuctionState"/>, the end date and the close included) only if it is newer (a higher
    /// version) and its winning bid not lower than the stored one, and only while the stored item is open, so no
    /// write can lower a winning bid, reopen a closed auction or close it twice. A bid of any decimal value can be
    /// stored (values beyond what fits in cents are kept as they came; they are never accepted).
    /// A store that <see cref="RefusesRecordedBids"/> also records nothing of a batch decided against what it does
    /// not hold: one marked <see cref="ProcessedBatch.BidsAreNew"/> with a bid already stored, or one holding a bid
    /// stored meanwhile otherwise than the batch decided it (another writer's decision; a copy decided alike is
    /// skipped): <see cref="BidsAlreadyRecordedException"/>; one whose state for an item is refused, or where bids
    /// decided it finds the item moved past the version they were decided against
    /// (<see cref="ItemBiddingState.DecidedFrom"/>), while bids it stores now changed that item:
    /// <see cref="ItemChangedMeanwhileException"/>. A refused state with no such bid (a replay, a state sent again)
    /// is simply not taken.
    /// </summary>
    Task RecordBatchAsync(ProcessedBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// The auctions the streamer has to close or to announce, ending earliest first (by end date, then id), at most
    /// <paramref name="limit"/>: open items whose end date is at or before <paramref name="endedBy"/>, and
    /// closed items whose record on the auctions topic is not confirmed yet (<see cref="MarkClosesPublishedAsync"/>);
    /// only those after <paramref name="after"/> in that order (its end date in Unix milliseconds and its id; from
    /// the start when null), so a caller can read on past the items it leaves to others.
    /// Served by indexes on the end date, so its cost follows the auctions due, not the table.
    /// </summary>
    Task<IReadOnlyList<Item>> FindItemsToCloseAsync(DateTimeOffset endedBy, int limit, Cursor? after, CancellationToken cancellationToken);

    /// <summary>Records that the auctions topic holds the close records of these (closed) items, so they are not announced again.</summary>
    Task MarkClosesPublishedAsync(IReadOnlyCollection<Guid> itemIds, CancellationToken cancellationToken);
}

/// <summary>The streamer's output for one batch (of bids, or of closes): every processed bid and the latest state of each item it changed.</summary>
public sealed record ProcessedBatch(IReadOnlyList<Bid> Bids, IReadOnlyList<ItemBiddingState> Items)
{
    /// <summary>
    /// Decided without asking which bids are recorded, each as a new one: should any be stored already (a replay, a
    /// copy), the decisions are not these, and the store records nothing (<see cref="IBatchRecorder.RefusesRecordedBids"/>).
    /// </summary>
    public bool BidsAreNew { get; init; }
}

/// <summary>
/// A batch decided as new bids only (<see cref="ProcessedBatch.BidsAreNew"/>) holds a bid the database has already:
/// nothing of it was recorded, and it is to be decided again knowing which bids are recorded.
/// </summary>
public sealed class BidsAlreadyRecordedException(Guid bidId)
    : Exception($"The bid {bidId} is recorded already: the batch, decided as new bids only, was not recorded.")
{
    public Guid BidId { get; } = bidId;
}

/// <summary>
/// The database refused a batch's state for an item the batch's own new bids had changed: the item changed after
/// the batch read it, so those bids were decided against a state the item no longer has (another writer on the
/// same partition, a replica that lost it and does not know yet; or the writer's own table behind the database).
/// Nothing of the batch was recorded; it is to be decided again against the database's state of <see cref="ItemIds"/>.
/// </summary>
public sealed class ItemChangedMeanwhileException(IReadOnlyCollection<Guid> itemIds)
    : Exception($"The state of item(s) {string.Join(", ", itemIds.Take(3))}{(itemIds.Count > 3 ? ", ..." : "")} changed after the batch read it: the batch was not recorded.")
{
    public IReadOnlyCollection<Guid> ItemIds { get; } = itemIds;
}

/// <summary>The database did not answer (down, locked, read-only, timed out): a retry later may succeed.</summary>
public sealed class StorageUnavailableException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>
/// The database answered that it will never do this as configured (authentication or authorization
/// failed, an index conflicts with an existing one, the file is not a database): retrying cannot help, so
/// the service stops with this message rather than retrying forever.
/// </summary>
public sealed class StorageConfigurationException(string message, Exception innerException) : Exception(message, innerException);

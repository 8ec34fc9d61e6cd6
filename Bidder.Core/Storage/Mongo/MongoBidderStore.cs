using Bidder.Domain;
using MongoDB.Bson;
using MongoDB.Driver;
using static Bidder.Core.Storage.Mongo.MongoErrors;

namespace Bidder.Core.Storage.Mongo;

/// <summary>
/// The MongoDB adapter of the storage ports (<see cref="IBidderStore"/>): queries in <see cref="MongoQueries"/>,
/// documents in <see cref="MongoDocuments"/>, failures sorted by <see cref="MongoErrors"/>.
/// </summary>
public sealed class MongoBidderStore(IMongoDatabase database) : IBidderStore
{
    // The server's IndexNotFound: dropping an index that is not there.
    private const int IndexNotFound = 27;

    // Each write of a bulk stands alone, so one refused write does not stop the others.
    private static readonly BulkWriteOptions Unordered = new() { IsOrdered = false };

    /// <summary>
    /// Every write is acknowledged by a majority of the replica set and journaled: the streamer commits a
    /// batch's offsets only after its writes, so a write a crash or failover could still lose (w:1 without
    /// the journal) would lose bids for good. A standalone server is its own majority. The time limit turns
    /// a replica set without a majority into a retryable error rather than a write that waits forever.
    /// </summary>
    internal static readonly WriteConcern Durable = new(WriteConcern.WValue.Parse("majority"), wTimeout: TimeSpan.FromSeconds(10), journal: true);

    private readonly IMongoCollection<BsonDocument> _users = Collection(database, MongoQueries.Users);
    private readonly IMongoCollection<BsonDocument> _items = Collection(database, MongoQueries.Items);
    private readonly IMongoCollection<BsonDocument> _events = Collection(database, MongoQueries.Events);
    private readonly IMongoCollection<BsonDocument> _idempotencyKeys = Collection(database, MongoQueries.IdempotencyKeys);

    private static IMongoCollection<BsonDocument> Collection(IMongoDatabase database, string name) =>
        database.GetCollection<BsonDocument>(name).WithWriteConcern(Durable);

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        GuardAsync(() => MongoErrors.RefusedIndexIsConfiguration(async () =>
        {
            // Creating an index that already exists with the same keys and options is a no-op, so every process may run this.
            await _events.Indexes.CreateManyAsync(MongoQueries.EventIndexes, cancellationToken);
            await _items.Indexes.CreateManyAsync(MongoQueries.ItemIndexes, cancellationToken);
            try
            {
                await _items.Indexes.DropOneAsync(MongoQueries.RetiredItemIndex, cancellationToken);
            }
            catch (MongoCommandException ex) when (ex.Code == IndexNotFound)
            {
                // Never there (a database made since), or another process dropped it first.
            }

            await _idempotencyKeys.Indexes.CreateManyAsync(MongoQueries.IdempotencyKeyIndexes, cancellationToken);
        }), "creating the indexes", cancellationToken);

    public Task CreateUserAsync(User user, CancellationToken cancellationToken) =>
        GuardAsync(() => _users.InsertOneAsync(MongoDocuments.ToDocument(user), cancellationToken: cancellationToken), "creating a user", cancellationToken);

    public Task<User?> GetUserAsync(Guid id, CancellationToken cancellationToken) =>
        FindOneAsync(_users, id, MongoDocuments.ToUser, "reading a user", cancellationToken);

    public Task<Page<User>> ListUsersAsync(PageRequest page, CancellationToken cancellationToken) =>
        ListAsync(_users, MongoQueries.UsersPage(page.After), MongoQueries.NewestFirst, page.Limit, MongoDocuments.ToUser,
            user => new Cursor(0, user.Id), "listing users", cancellationToken);

    public Task CreateItemAsync(Item item, CancellationToken cancellationToken) =>
        GuardAsync(() => _items.InsertOneAsync(MongoDocuments.ToDocument(item), cancellationToken: cancellationToken), "creating an item", cancellationToken);

    public Task<Item?> GetItemAsync(Guid id, CancellationToken cancellationToken) =>
        FindOneAsync(_items, id, MongoDocuments.ToItem, "reading an item", cancellationToken);

    public Task<Page<Item>> ListItemsAsync(ItemStatus? status, PageRequest page, CancellationToken cancellationToken) =>
        ListAsync(_items, MongoQueries.ItemsPage(status, page.After), MongoQueries.ItemsOrder(status), page.Limit, MongoDocuments.ToItem,
            item => new Cursor(status is null ? 0 : item.BiddingEndDate.ToUnixTimeMilliseconds(), item.Id), "listing items", cancellationToken);

    public Task<Bid?> GetBidAsync(Guid id, CancellationToken cancellationToken) =>
        FindOneAsync(_events, id, MongoDocuments.ToBid, "reading a bid", cancellationToken);

    public Task<Page<Bid>> ListBidsAsync(BidStatus? status, PageRequest page, CancellationToken cancellationToken) =>
        ListAsync(_events, MongoQueries.BidsPage(status, page.After), MongoQueries.NewestFirst, page.Limit, MongoDocuments.ToBid,
            bid => new Cursor(0, bid.Id), "listing bids", cancellationToken);

    public Task<Page<Bid>> ListItemBidsAsync(Guid itemId, PageRequest page, CancellationToken cancellationToken) =>
        ListAsync(_events, MongoQueries.ItemBidsPage(itemId, page.After), MongoQueries.HighestFirst, page.Limit, MongoDocuments.ToBid,
            bid => new Cursor(Money.ToCents(bid.Value), bid.Id), "listing an item's bids", cancellationToken);

    public Task<Page<Bid>> ListUserBidsAsync(Guid userId, BidStatus? status, PageRequest page, CancellationToken cancellationToken) =>
        ListAsync(_events, MongoQueries.UserBidsPage(userId, status, page.After), MongoQueries.NewestFirst, page.Limit, MongoDocuments.ToBid,
            bid => new Cursor(0, bid.Id), "listing a user's bids", cancellationToken);

    public Task<IdempotencyRecord> ClaimIdempotencyKeyAsync(IdempotencyRecord record, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            while (true)
            {
                try
                {
                    await _idempotencyKeys.InsertOneAsync(MongoDocuments.ToDocument(record), cancellationToken: cancellationToken);
                    return record;
                }
                catch (MongoWriteException ex) when (ex.WriteError?.Category == ServerErrorCategory.DuplicateKey)
                {
                    var existing = await _idempotencyKeys.Find(MongoQueries.ByKey(record.Key)).FirstOrDefaultAsync(cancellationToken);
                    if (existing is not null)
                    {
                        return MongoDocuments.ToIdempotencyRecord(existing);
                    }

                    // The first claim expired between our insert and our read: the key is free again, so claim it.
                }
            }
        }, "claiming an idempotency key", cancellationToken);

    public Task<bool> RenewIdempotencyLeaseAsync(string key, DateTimeOffset expected, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        GuardAsync(
            // Matched, not modified: the filter is the compare, and a move to the same instant still wins the race.
            async () => (await _idempotencyKeys.UpdateOneAsync(MongoQueries.LeaseAt(key, expected), MongoQueries.MoveLease(leaseUntil), cancellationToken: cancellationToken)).MatchedCount == 1,
            "renewing an idempotency key's lease",
            cancellationToken);

    public Task MarkIdempotencyKeyProducedAsync(string key, CancellationToken cancellationToken) =>
        GuardAsync(
            () => _idempotencyKeys.UpdateOneAsync(MongoQueries.ByKey(key), MongoQueries.MarkProduced, cancellationToken: cancellationToken),
            "marking an idempotency key produced",
            cancellationToken);

    public Task<long> DeleteIdempotencyKeysAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken) =>
        GuardAsync(
            async () => (await _idempotencyKeys.DeleteManyAsync(MongoQueries.CreatedBefore(createdBefore), cancellationToken)).DeletedCount,
            "deleting old idempotency keys",
            cancellationToken);

    public Task<IReadOnlyDictionary<Guid, Item>> GetItemsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        GuardAsync<IReadOnlyDictionary<Guid, Item>>(async () =>
        {
            if (ids.Count == 0)
            {
                return new Dictionary<Guid, Item>();
            }

            var documents = await _items.Find(MongoQueries.ByIds(ids.Distinct())).ToListAsync(cancellationToken);
            return documents.Select(MongoDocuments.ToItem).ToDictionary(item => item.Id);
        }, "reading items", cancellationToken);

    public Task<IReadOnlySet<Guid>> FindUsersAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        GuardAsync<IReadOnlySet<Guid>>(async () =>
        {
            if (ids.Count == 0)
            {
                return new HashSet<Guid>();
            }

            var documents = await _users.Find(MongoQueries.ByIds(ids.Distinct())).Project(MongoQueries.IdOnly).ToListAsync(cancellationToken);
            return documents.Select(document => MongoDocuments.ReadUuid(document["_id"])).ToHashSet();
        }, "finding users", cancellationToken);

    public Task<IReadOnlyDictionary<Guid, Bid>> GetBidsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        GuardAsync<IReadOnlyDictionary<Guid, Bid>>(async () =>
        {
            if (ids.Count == 0)
            {
                return new Dictionary<Guid, Bid>();
            }

            var documents = await _events.Find(MongoQueries.BidsAmong(ids)).ToListAsync(cancellationToken);
            return documents.Select(MongoDocuments.ToBid).ToDictionary(bid => bid.Id);
        }, "reading bids", cancellationToken);

    public Task<IReadOnlySet<Guid>> FindIncompleteBidsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        GuardAsync<IReadOnlySet<Guid>>(async () =>
        {
            if (ids.Count == 0)
            {
                return new HashSet<Guid>();
            }

            var documents = await _events.Find(MongoQueries.PendingAmong(ids)).Project(MongoQueries.IdOnly).ToListAsync(cancellationToken);
            return documents.Select(document => MongoDocuments.ReadUuid(document["_id"])).ToHashSet();
        }, "finding incompletely recorded bids", cancellationToken);

    /// <summary>The steps of a batch stand alone (no multi-document transaction without a replica set): none is taken back.</summary>
    public bool RefusesRecordedBids => false;

    /// <summary>
    /// Atomic in effect rather than in a transaction. Multi-document transactions need a replica set, and the
    /// containers mode runs a standalone mongo:8 (as Aspire's MongoDB resource does), like many single-node
    /// deployments; so every step is idempotent on its own, and the steps run in an order where a cut
    /// anywhere (a crash, a failed write) leaves what a retry completes:
    /// 1. insert the bids, each one that changed its item (accepted, or outbid and so raising the price) marked
    /// <c>pending</c> (<see cref="MongoQueries.IsPendingUntilRecorded"/>); 2. count each pending accepted bid into
    /// its user (guarded per bid, <see cref="MongoQueries.CountBid"/>); 3. apply the item states (guarded by
    /// version and value); 4. clear <c>pending</c>. A retry after a cut before step 4 finds the bids pending
    /// (<see cref="FindIncompleteBidsAsync"/>); the streamer passes them again, and steps 2 and 3 do for them
    /// only what is missing. After step 4 a replay changes nothing.
    /// <see cref="ItemBiddingState.DecidedFrom"/> is not applied: refusing a state could not take back the bids step 1
    /// stored, so the newest version wins, as before it. Two writers on one partition at once (a replica that lost it,
    /// not knowing yet) can so leave bids their item's final state does not hold; a transaction on a replica set would
    /// refuse the batch whole, as SQLite does.
    /// </summary>
    public Task RecordBatchAsync(ProcessedBatch batch, CancellationToken cancellationToken) => batch.BidsAreNew
        ? throw new ArgumentException("This store cannot refuse a batch whole (RefusesRecordedBids): its bids are looked up before deciding.", nameof(batch))
        : GuardAsync(async () =>
        {
            var changing = batch.Bids.Where(MongoQueries.IsPendingUntilRecorded).DistinctBy(bid => bid.Id).ToList();
            var inserted = await InsertNewBidsAsync(batch.Bids, cancellationToken);
            var pending = changing.Where(bid => inserted.Contains(bid.Id)).Select(bid => bid.Id).ToHashSet();

            var alreadyStored = changing.Where(bid => !inserted.Contains(bid.Id)).Select(bid => bid.Id).ToList();
            if (alreadyStored.Count > 0)
            {
                var left = await _events.Find(MongoQueries.PendingAmong(alreadyStored)).Project(MongoQueries.IdOnly).ToListAsync(cancellationToken);
                pending.UnionWith(left.Select(document => MongoDocuments.ReadUuid(document["_id"])));
            }

            var toCount = changing.Where(bid => bid.Status == BidStatus.Accepted && pending.Contains(bid.Id)).ToList();
            if (toCount.Count > 0)
            {
                await _users.BulkWriteAsync(
                    toCount.Select(bid => MongoQueries.CountBid(bid.UserId, bid.Id)), Unordered, cancellationToken);
            }

            if (batch.Items.Count > 0)
            {
                await _items.BulkWriteAsync(batch.Items.Select(MongoQueries.ApplyItemState), Unordered, cancellationToken);
            }

            if (pending.Count > 0)
            {
                await _events.UpdateManyAsync(MongoQueries.ByIds(pending), MongoQueries.MarkRecorded, cancellationToken: cancellationToken);
            }
        }, "recording a batch", cancellationToken);

    /// <summary>
    /// Two bounded reads, each from its partial index in end-date order after the cursor and cut at the limit: the
    /// due open items and the closes not yet announced; merged here in the same order (.NET orders UUIDs as their
    /// RFC bytes, as the server orders standard UUIDs).
    /// </summary>
    public Task<IReadOnlyList<Item>> FindItemsToCloseAsync(DateTimeOffset endedBy, int limit, Cursor? after, CancellationToken cancellationToken)
    {
        // MongoDB reads a limit of 0 as "no limit".
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return GuardAsync<IReadOnlyList<Item>>(async () =>
        {
            var due = await _items.Find(MongoQueries.DueToClose(endedBy, after)).Sort(MongoQueries.EndingFirst).Limit(limit).ToListAsync(cancellationToken);
            var unannounced = await _items.Find(MongoQueries.ClosesToPublishAfter(after)).Sort(MongoQueries.EndingFirst).Limit(limit).ToListAsync(cancellationToken);
            return due.Concat(unannounced)
                .Select(MongoDocuments.ToItem)
                .OrderBy(item => item.BiddingEndDate)
                .ThenBy(item => item.Id)
                .Take(limit)
                .ToList();
        }, "finding auctions to close", cancellationToken);
    }

    public Task MarkClosesPublishedAsync(IReadOnlyCollection<Guid> itemIds, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            if (itemIds.Count > 0)
            {
                await _items.UpdateManyAsync(MongoQueries.ClosedAmong(itemIds), MongoQueries.MarkClosePublished, cancellationToken: cancellationToken);
            }
        }, "marking closes published", cancellationToken);

    /// <summary>Inserts the bids not stored yet; returns the ids it stored.</summary>
    private async Task<IReadOnlySet<Guid>> InsertNewBidsAsync(IReadOnlyList<Bid> bids, CancellationToken cancellationToken)
    {
        if (bids.Count == 0)
        {
            return new HashSet<Guid>();
        }

        try
        {
            await _events.InsertManyAsync(bids.Select(MongoDocuments.ToNewEvent), new InsertManyOptions { IsOrdered = false }, cancellationToken);
            return bids.Select(bid => bid.Id).ToHashSet();
        }
        catch (MongoBulkWriteException<BsonDocument> ex)
            when (ex.WriteConcernError is null && ex.WriteErrors.All(error => error.Category == ServerErrorCategory.DuplicateKey))
        {
            var refused = ex.WriteErrors.Select(error => error.Index).ToHashSet();
            return bids.Where((_, index) => !refused.Contains(index)).Select(bid => bid.Id).ToHashSet();
        }
    }

    private static Task<T?> FindOneAsync<T>(
        IMongoCollection<BsonDocument> collection, Guid id, Func<BsonDocument, T> map, string operation, CancellationToken cancellationToken)
        where T : class =>
        GuardAsync(async () =>
        {
            var document = await collection.Find(MongoQueries.ById(id)).FirstOrDefaultAsync(cancellationToken);
            return document is null ? null : map(document);
        }, operation, cancellationToken);

    private static Task<Page<T>> ListAsync<T>(
        IMongoCollection<BsonDocument> collection,
        FilterDefinition<BsonDocument> filter,
        SortDefinition<BsonDocument> sort,
        int limit,
        Func<BsonDocument, T> map,
        Func<T, Cursor> cursorOf,
        string operation,
        CancellationToken cancellationToken)
    {
        // MongoDB reads a limit of 0 (and, for a negative one, its absolute value) as something else than "nothing".
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return GuardAsync(async () =>
        {
            // One record more than asked tells whether a next page exists without counting.
            var documents = await collection.Find(filter).Sort(sort).Limit(limit + 1).ToListAsync(cancellationToken);
            var items = documents.Take(limit).Select(map).ToList();
            var next = documents.Count > limit ? cursorOf(items[^1]).Encode() : null;
            return new Page<T>(items, next);
        }, operation, cancellationToken);
    }
}

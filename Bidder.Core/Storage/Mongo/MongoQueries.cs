using Bidder.Domain;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Bidder.Core.Storage.Mongo;

/// <summary>
/// Every filter, sort, update and index the MongoDB store sends, kept as data so tests can render them
/// without a server. Values always go in as typed BSON values, so no caller string can become an operator.
/// </summary>
internal static class MongoQueries
{
    public const string Users = "users";
    public const string Items = "items";
    public const string Events = "events";
    public const string IdempotencyKeys = "idempotency_keys";

    private static FilterDefinitionBuilder<BsonDocument> Filter => Builders<BsonDocument>.Filter;

    private static IndexKeysDefinitionBuilder<BsonDocument> Keys => Builders<BsonDocument>.IndexKeys;

    /// <summary>
    /// Standard (subtype 4) UUIDs store the bytes in RFC order, so UUIDv7 ids compare by creation time,
    /// whatever the driver's global GUID settings are.
    /// </summary>
    public static BsonBinaryData Uuid(Guid id) => new(id, GuidRepresentation.Standard);

    public static BsonValue OptionalUuid(Guid? id) => id is { } value ? Uuid(value) : BsonNull.Value;

    public static BsonDateTime Date(DateTimeOffset value) => new(value.ToUnixTimeMilliseconds());

    public static string StatusName(BidStatus status) => status switch
    {
        BidStatus.Accepted => "accepted",
        BidStatus.Rejected => "rejected",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown bid status."),
    };

    public static FilterDefinition<BsonDocument> ById(Guid id) => Filter.Eq("_id", Uuid(id));

    public static FilterDefinition<BsonDocument> ByKey(string key) => Filter.Eq("_id", new BsonString(key));

    /// <summary>Idempotency keys created before a time (the TTL index removes them too, within a minute or so).</summary>
    public static FilterDefinition<BsonDocument> CreatedBefore(DateTimeOffset time) => Filter.Lt("created_date", Date(time));

    public static FilterDefinition<BsonDocument> ByIds(IEnumerable<Guid> ids) => Filter.In("_id", ids.Select(Uuid));

    /// <summary>The processed bids among <paramref name="ids"/>, each id asked once: how the streamer recognizes a replay.</summary>
    public static FilterDefinition<BsonDocument> BidsAmong(IEnumerable<Guid> ids) => ByIds(ids.Distinct());

    public static ProjectionDefinition<BsonDocument> IdOnly { get; } = Builders<BsonDocument>.Projection.Include("_id");

    /// <summary>
    /// An accepted bid is stored with <c>pending: true</c> until its user's counter and its item's state
    /// include it, so a retry or replay can tell a stored bid whose batch was cut short (by a crash or a
    /// failed write) from one that is fully recorded, and finish recording it.
    /// </summary>
    public static FilterDefinition<BsonDocument> PendingAmong(IEnumerable<Guid> ids) =>
        Filter.And(ByIds(ids.Distinct()), Filter.Eq(PendingField, BsonBoolean.True));

    public const string PendingField = "pending";

    public static UpdateDefinition<BsonDocument> MarkRecorded { get; } = Builders<BsonDocument>.Update.Unset(PendingField);

    /// <summary>
    /// Counts one accepted bid into its user's counter unless the user lists it among the bids it counted
    /// last: the check and the increment are one atomic update of one document, so a retry or replay of a
    /// batch cut before <see cref="MarkRecorded"/> cannot count it twice. The list keeps the user's latest
    /// <see cref="CountedBidsKept"/> ids (a capped array: no later step to forget them, and so no window
    /// between forgetting and marking in which a second writer could count again), far more than a batch
    /// can leave pending.
    /// </summary>
    public static UpdateOneModel<BsonDocument> CountBid(Guid userId, Guid bidId) => new(
        Filter.And(Filter.Eq("_id", Uuid(userId)), Filter.Ne("counting_bids", Uuid(bidId))),
        Builders<BsonDocument>.Update.Inc("bids", 1L).PushEach("counting_bids", new BsonValue[] { Uuid(bidId) }, slice: -CountedBidsKept));

    public const int CountedBidsKept = 1000;

    /// <summary>
    /// An item's bid count and winning bid only grow, so a state with fewer or as many bids, or a winning
    /// bid that is not higher, is older or already there: no write can lower a winning bid. Decimal128
    /// compares numerically on the server.
    /// </summary>
    public static UpdateOneModel<BsonDocument> ApplyItemState(ItemBiddingState state) => new(
        Filter.And(
            Filter.Eq("_id", Uuid(state.ItemId)),
            Filter.Lt("bids", new BsonInt64(state.Bids)),
            Filter.Lt("winning_bid", new BsonDecimal128(state.WinningBid))),
        Builders<BsonDocument>.Update
            .Set("winning_bid", new BsonDecimal128(state.WinningBid))
            .Set("winning_user_id", OptionalUuid(state.WinningUserId))
            .Set("winning_bid_id", OptionalUuid(state.WinningBidId))
            .Set("bids", new BsonInt64(state.Bids)));

    /// <summary>Users, items and bids listed by id: newest first.</summary>
    public static SortDefinition<BsonDocument> NewestFirst { get; } = Builders<BsonDocument>.Sort.Descending("_id");

    /// <summary>An item's accepted bids: highest first, the later bid first among equal values.</summary>
    public static SortDefinition<BsonDocument> HighestFirst { get; } =
        Builders<BsonDocument>.Sort.Descending("value_cents").Descending("_id");

    public static FilterDefinition<BsonDocument> UsersPage(Cursor? after) => AllOf(OlderThan(after));

    public static FilterDefinition<BsonDocument> ItemsPage(ItemStatus? status, DateTimeOffset now, Cursor? after) =>
        AllOf(
            status switch
            {
                ItemStatus.Open => Filter.Gt("bidding_enddate", Date(now)),
                ItemStatus.Closed => Filter.Lte("bidding_enddate", Date(now)),
                null => null,
                _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown item status."),
            },
            OlderThan(after));

    public static FilterDefinition<BsonDocument> BidsPage(BidStatus? status, Cursor? after) =>
        AllOf(WithStatus(status), OlderThan(after));

    public static FilterDefinition<BsonDocument> UserBidsPage(Guid userId, BidStatus? status, Cursor? after) =>
        AllOf(Filter.Eq("user_id", Uuid(userId)), WithStatus(status), OlderThan(after));

    public static FilterDefinition<BsonDocument> ItemBidsPage(Guid itemId, Cursor? after) =>
        AllOf(
            Filter.Eq("item_id", Uuid(itemId)),
            WithStatus(BidStatus.Accepted),
            // The top-level bound caps the index scan at the cursor's value; the $or alone would leave it unbounded.
            after is { } bound ? Filter.Lte("value_cents", new BsonInt64(bound.SortValue)) : null,
            after is { } cursor
                ? Filter.Or(
                    Filter.Lt("value_cents", new BsonInt64(cursor.SortValue)),
                    Filter.And(Filter.Eq("value_cents", new BsonInt64(cursor.SortValue)), Filter.Lt("_id", Uuid(cursor.Id))))
                : null);

    public static UpdateDefinition<BsonDocument> MarkProduced { get; } = Builders<BsonDocument>.Update.Set("produced", BsonBoolean.True);

    /// <summary>
    /// The key's lease, moved only if it still ends where the caller saw it and the bid is not produced:
    /// a compare-and-set on one document, so of two requests racing for a key exactly one wins.
    /// </summary>
    public static FilterDefinition<BsonDocument> LeaseAt(string key, DateTimeOffset expected) =>
        Filter.And(
            ByKey(key),
            Filter.Eq("produced", BsonBoolean.False),
            expected == IdempotencyRecord.Released
                // A key stored before leases existed has none (null matches a missing field): it is released too.
                ? Filter.Or(Filter.Eq("lease_until", Date(expected)), Filter.Eq("lease_until", BsonNull.Value))
                : Filter.Eq("lease_until", Date(expected)));

    public static UpdateDefinition<BsonDocument> MoveLease(DateTimeOffset leaseUntil) =>
        Builders<BsonDocument>.Update.Set("lease_until", Date(leaseUntil));

    /// <summary>One index per bid listing, its equality fields then its sort, so a page is a bounded index scan.</summary>
    public static IReadOnlyList<CreateIndexModel<BsonDocument>> EventIndexes { get; } =
    [
        new(Keys.Ascending("status").Descending("_id")),
        new(Keys.Ascending("item_id").Ascending("status").Descending("value_cents").Descending("_id")),
        new(Keys.Ascending("user_id").Descending("_id")),
        new(Keys.Ascending("user_id").Ascending("status").Descending("_id")),
    ];

    /// <summary>
    /// Narrows the open or closed listing to its side of now. A range on the end date cannot also yield
    /// id order, so that range is sorted in memory: the cost grows with the open (or closed) items.
    /// </summary>
    public static IReadOnlyList<CreateIndexModel<BsonDocument>> ItemIndexes { get; } =
    [
        new(Keys.Ascending("bidding_enddate").Descending("_id")),
    ];

    public static IReadOnlyList<CreateIndexModel<BsonDocument>> IdempotencyKeyIndexes { get; } =
    [
        new(Keys.Ascending("created_date"), new CreateIndexOptions { ExpireAfter = IdempotencyRecord.Lifetime }),
    ];

    private static FilterDefinition<BsonDocument>? WithStatus(BidStatus? status) =>
        status is { } value ? Filter.Eq("status", new BsonString(StatusName(value))) : null;

    private static FilterDefinition<BsonDocument>? OlderThan(Cursor? after) =>
        after is { } cursor ? Filter.Lt("_id", Uuid(cursor.Id)) : null;

    private static FilterDefinition<BsonDocument> AllOf(params FilterDefinition<BsonDocument>?[] conditions)
    {
        var present = conditions.OfType<FilterDefinition<BsonDocument>>().ToList();
        return present.Count switch
        {
            0 => Filter.Empty,
            1 => present[0],
            _ => Filter.And(present),
        };
    }
}

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

    public static BsonValue OptionalDate(DateTimeOffset? value) => value is { } date ? Date(date) : BsonNull.Value;

    /// <summary>Money as Decimal128 (exact, compared numerically on the server), or null.</summary>
    public static BsonValue OptionalMoney(decimal? value) => value is { } amount ? new BsonDecimal128(amount) : BsonNull.Value;

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
    /// A bid that changed its item (accepted, or rejected as outbid, which raised the price) is stored with
    /// <c>pending: true</c> until its item's state (and, when accepted, its user's counter) includes it, so a
    /// retry or replay can tell a stored bid whose batch was cut short (by a crash or a failed write) from one
    /// that is fully recorded, and finish recording it. An accepted bid always changed its item, whether or not
    /// it says which version it made.
    /// </summary>
    public static bool IsPendingUntilRecorded(Bid bid) => bid.Status == BidStatus.Accepted || bid.ItemVersion is not null;

    /// <summary>The stored bids among <paramref name="ids"/> still <see cref="IsPendingUntilRecorded">pending</see>.</summary>
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
    /// An item takes a bidding state only if it is newer (a higher version) and its winning bid not lower, so
    /// states applied in any order, or again, leave the newest: no write lowers a winning bid or reopens a
    /// closed auction (its close is its last change). An item written before versions has none: version 0,
    /// older than any state the streamer writes. The state is set whole, every field of
    /// <see cref="AuctionState"/>; the close also queues the item's announcement (<see cref="ClosesToPublish"/>),
    /// which an item written before closes existed would otherwise never get, lacking the field.
    /// </summary>
    public static UpdateOneModel<BsonDocument> ApplyItemState(ItemBiddingState itemState)
    {
        var state = itemState.State;
        var update = Builders<BsonDocument>.Update
            .Set("winning_bid", new BsonDecimal128(state.WinningBid))
            .Set("winning_user_id", OptionalUuid(state.WinningUserId))
            .Set("winning_bid_id", OptionalUuid(state.WinningBidId))
            .Set("leader_max", OptionalMoney(state.LeaderMax))
            .Set("bids", new BsonInt64(state.Bids))
            .Set("version", new BsonInt64(state.Version))
            .Set("bidding_enddate", Date(state.EndDate))
            .Set("closed_at", OptionalDate(state.ClosedAt))
            .Set("result", MongoDocuments.OptionalString(state.Result));
        return new UpdateOneModel<BsonDocument>(
            Filter.And(
                Filter.Eq("_id", Uuid(itemState.ItemId)),
                // A closed auction takes no state after its close, whatever version a stale writer gives it.
                IsOpen,
                Filter.Or(Filter.Lt("version", new BsonInt64(state.Version)), Filter.Eq("version", BsonNull.Value)),
                Filter.Lte("winning_bid", new BsonDecimal128(state.WinningBid))),
            state.IsClosed ? update.Set(ClosePublishedField, BsonBoolean.False) : update);
    }

    public const string ClosePublishedField = "close_published";

    /// <summary>
    /// An open item: no close yet. Equality with null also matches a missing field, so an item written before
    /// closes existed is open with nothing to migrate; and it is one of the expressions a partial index filter may
    /// hold ($ne and $exists: false are not). The listing and the due-close query use this very filter, so the
    /// planner sees the index's condition in them and may use the index.
    /// </summary>
    public static FilterDefinition<BsonDocument> IsOpen { get; } = Filter.Eq("closed_at", BsonNull.Value);

    /// <summary>A closed item: its close is a date (a $type test, which a partial index filter may hold).</summary>
    public static FilterDefinition<BsonDocument> IsClosed { get; } = Filter.Type("closed_at", BsonType.DateTime);

    /// <summary>Closed items whose record the auctions topic has not confirmed yet (<see cref="MarkClosePublished"/>).</summary>
    public static FilterDefinition<BsonDocument> ClosesToPublish { get; } = Filter.And(IsClosed, Filter.Eq(ClosePublishedField, BsonBoolean.False));

    /// <summary>
    /// Open items whose end date has come: the auctions the streamer has to close; after the cursor's (end date, id),
    /// ending soonest first, read in order from the open items' partial index, whose condition (<see cref="IsOpen"/>) it repeats.
    /// </summary>
    public static FilterDefinition<BsonDocument> DueToClose(DateTimeOffset endedBy, Cursor? after) =>
        AllOf([IsOpen, Filter.Lte("bidding_enddate", Date(endedBy)), .. AfterByEnd(after, ascending: true)]);

    /// <summary>The <see cref="ClosesToPublish"/> after the cursor's (end date, id), ending soonest first, read in order from their partial index.</summary>
    public static FilterDefinition<BsonDocument> ClosesToPublishAfter(Cursor? after) =>
        AllOf([ClosesToPublish, .. AfterByEnd(after, ascending: true)]);

    /// <summary>Closed items only: an open item marked by mistake would otherwise never have its close announced.</summary>
    public static FilterDefinition<BsonDocument> ClosedAmong(IEnumerable<Guid> ids) => Filter.And(ByIds(ids.Distinct()), IsClosed);

    public static UpdateDefinition<BsonDocument> MarkClosePublished { get; } = Builders<BsonDocument>.Update.Set(ClosePublishedField, BsonBoolean.True);

    /// <summary>Users, items and bids listed by id: newest first.</summary>
    public static SortDefinition<BsonDocument> NewestFirst { get; } = Builders<BsonDocument>.Sort.Descending("_id");

    /// <summary>Open items, and the closes to announce: ending soonest first.</summary>
    public static SortDefinition<BsonDocument> EndingFirst { get; } = Builders<BsonDocument>.Sort.Ascending("bidding_enddate").Ascending("_id");

    /// <summary>Closed items: the latest end first.</summary>
    public static SortDefinition<BsonDocument> EndedLastFirst { get; } = Builders<BsonDocument>.Sort.Descending("bidding_enddate").Descending("_id");

    /// <summary>The order of an item listing: newest first without a status, else by end date (see <see cref="ItemsPage"/>).</summary>
    public static SortDefinition<BsonDocument> ItemsOrder(ItemStatus? status) => status switch
    {
        null => NewestFirst,
        ItemStatus.Open => EndingFirst,
        ItemStatus.Closed => EndedLastFirst,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown item status."),
    };

    /// <summary>An item's accepted bids: highest first, the later bid first among equal values.</summary>
    public static SortDefinition<BsonDocument> HighestFirst { get; } =
        Builders<BsonDocument>.Sort.Descending("value_cents").Descending("_id");

    public static FilterDefinition<BsonDocument> UsersPage(Cursor? after) => AllOf(OlderThan(after));

    /// <summary>
    /// Without a status, newest first after the cursor's id. Open items, ending soonest first, and closed ones, the
    /// latest end first, continue after the cursor's (end date, id): each read in order from its partial index, whose
    /// condition (<see cref="IsOpen"/>, <see cref="IsClosed"/>) it repeats.
    /// </summary>
    public static FilterDefinition<BsonDocument> ItemsPage(ItemStatus? status, Cursor? after) => status switch
    {
        null => AllOf(OlderThan(after)),
        ItemStatus.Open => AllOf([IsOpen, .. AfterByEnd(after, ascending: true)]),
        ItemStatus.Closed => AllOf([IsClosed, .. AfterByEnd(after, ascending: false)]),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown item status."),
    };

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
    /// Partial, so each costs writes only for the items it serves: the open items by end date (the open listing
    /// and the due closes), the closed ones by end date descending (the closed listing), and the few closes not
    /// yet announced, led by their constant flag so that no two share a key pattern (which servers before 5.0
    /// refuse even for partial indexes with different filters). Named, so a log or explain reads as the SQLite schema.
    /// </summary>
    public static IReadOnlyList<CreateIndexModel<BsonDocument>> ItemIndexes { get; } =
    [
        new(Keys.Ascending("bidding_enddate").Ascending("_id"), Partial("open_by_end", IsOpen)),
        new(Keys.Descending("bidding_enddate").Descending("_id"), Partial("closed_by_end", IsClosed)),
        new(Keys.Ascending(ClosePublishedField).Ascending("bidding_enddate").Ascending("_id"), Partial("closes_to_publish", ClosesToPublish)),
    ];

    /// <summary>
    /// Served the listings when open meant "ends after now" (its default name): a range on the end date then
    /// sorted by id in memory. Nothing queries it any more, and every item insert paid for it.
    /// </summary>
    public const string RetiredItemIndex = "bidding_enddate_1__id_-1";

    public static IReadOnlyList<CreateIndexModel<BsonDocument>> IdempotencyKeyIndexes { get; } =
    [
        new(Keys.Ascending("created_date"), new CreateIndexOptions { ExpireAfter = IdempotencyRecord.Lifetime }),
    ];

    private static FilterDefinition<BsonDocument>? WithStatus(BidStatus? status) =>
        status is { } value ? Filter.Eq("status", new BsonString(StatusName(value))) : null;

    private static FilterDefinition<BsonDocument>? OlderThan(Cursor? after) =>
        after is { } cursor ? Filter.Lt("_id", Uuid(cursor.Id)) : null;

    /// <summary>
    /// After the cursor's (end date, id) in the given direction: a bound on the end date, which caps the index
    /// scan at the cursor (the $or alone would leave it unbounded), then past the cursor's id among equal ends.
    /// </summary>
    private static FilterDefinition<BsonDocument>[] AfterByEnd(Cursor? after, bool ascending)
    {
        if (after is not { } cursor)
        {
            return [];
        }

        var end = new BsonDateTime(cursor.SortValue);
        var id = Uuid(cursor.Id);
        return ascending
            ? [Filter.Gte("bidding_enddate", end), Filter.Or(Filter.Gt("bidding_enddate", end), Filter.And(Filter.Eq("bidding_enddate", end), Filter.Gt("_id", id)))]
            : [Filter.Lte("bidding_enddate", end), Filter.Or(Filter.Lt("bidding_enddate", end), Filter.And(Filter.Eq("bidding_enddate", end), Filter.Lt("_id", id)))];
    }

    private static CreateIndexOptions<BsonDocument> Partial(string name, FilterDefinition<BsonDocument> filter) =>
        new() { Name = name, PartialFilterExpression = filter };

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

using Bidder.Domain;
using MongoDB.Bson;

namespace Bidder.Core.Storage.Mongo;

/// <summary>
/// Records to BSON documents and back, by hand rather than by class maps, so the stored field names and
/// BSON types (standard UUIDs, Decimal128 money, UTC dates) never depend on driver conventions or global
/// settings. Kept apart from the store, next to <see cref="MongoQueries"/>, as the SQLite adapter keeps its rows.
/// </summary>
internal static class MongoDocuments
{
    internal static BsonDocument ToNewEvent(Bid bid)
    {
        var document = ToDocument(bid);
        if (MongoQueries.IsPendingUntilRecorded(bid))
        {
            document.Add(MongoQueries.PendingField, true);
        }

        return document;
    }

    internal static BsonDocument ToDocument(User user) => new()
    {
        { "_id", MongoQueries.Uuid(user.Id) },
        { "name", user.Name },
        { "bids", new BsonInt64(user.Bids) },
        { "created_date", MongoQueries.Date(user.CreatedDate) },
    };

    internal static User ToUser(BsonDocument document) => new(
        ReadUuid(document["_id"]),
        document["name"].AsString,
        document["bids"].ToInt64(),
        ReadDate(document["created_date"]));

    internal static BsonDocument ToDocument(Item item) => new()
    {
        { "_id", MongoQueries.Uuid(item.Id) },
        { "name", item.Name },
        { "init_bid", new BsonDecimal128(item.InitBid) },
        { "winning_bid", new BsonDecimal128(item.WinningBid) },
        { "winning_user_id", MongoQueries.OptionalUuid(item.WinningUserId) },
        { "winning_bid_id", MongoQueries.OptionalUuid(item.WinningBidId) },
        { "currency", item.Currency },
        { "pictures", new BsonArray(item.Pictures) },
        { "bids", new BsonInt64(item.Bids) },
        { "created_date", MongoQueries.Date(item.CreatedDate) },
        { "bidding_enddate", MongoQueries.Date(item.BiddingEndDate) },
        // Left out, not null, when unknown: an item without a seller then has the same document as one written
        // before items knew their seller, so there is one shape to read and nothing to migrate.
        { "seller_id", MongoQueries.OptionalUuid(item.SellerId), item.SellerId is not null },
        { "bid_increment", new BsonDecimal128(item.BidIncrement) },
        { "reserve_price", MongoQueries.OptionalMoney(item.ReservePrice) },
        { "soft_close_seconds", item.SoftCloseSeconds },
        { "leader_max", MongoQueries.OptionalMoney(item.LeaderMax) },
        { "version", new BsonInt64(item.Version) },
        { "closed_at", MongoQueries.OptionalDate(item.ClosedAt) },
        { "result", OptionalString(item.Result) },
        { MongoQueries.ClosePublishedField, false },
    };

    internal static Item ToItem(BsonDocument document) => new(
        ReadUuid(document["_id"]),
        document["name"].AsString,
        ReadMoney(document["init_bid"]),
        ReadMoney(document["winning_bid"]),
        ReadOptionalUuid(document["winning_user_id"]),
        ReadOptionalUuid(document["winning_bid_id"]),
        document["currency"].AsString,
        [.. document["pictures"].AsBsonArray.Select(picture => picture.AsString)],
        document["bids"].ToInt64(),
        ReadDate(document["created_date"]),
        ReadDate(document["bidding_enddate"]),
        ReadOptionalUuid(Field(document, "seller_id")),
        // An item written before auction terms has today's: any higher bid, no reserve, no soft close; version 0
        // (its state counts its bids as its version), open.
        ReadOptionalMoney(Field(document, "bid_increment")) ?? AuctionTerms.DefaultBidIncrement,
        ReadOptionalMoney(Field(document, "reserve_price")),
        Field(document, "soft_close_seconds") is { IsBsonNull: false } softClose ? softClose.ToInt32() : 0,
        ReadOptionalMoney(Field(document, "leader_max")),
        Field(document, "version") is { IsBsonNull: false } version ? version.ToInt64() : 0,
        ReadOptionalDate(Field(document, "closed_at")),
        ReadOptionalString(Field(document, "result")));

    internal static BsonDocument ToDocument(Bid bid) => new()
    {
        { "_id", MongoQueries.Uuid(bid.Id) },
        { "item_id", MongoQueries.Uuid(bid.ItemId) },
        { "user_id", MongoQueries.Uuid(bid.UserId) },
        { "value", new BsonDecimal128(bid.Value) },
        // The keyset cursor carries the sort value as a long, so the highest-first order runs on exact integer
        // cents. A value too large for cents (only ever a rejected bid's, never listed by value) has none.
        { "value_cents", Money.TryToCents(bid.Value, out var cents) ? new BsonInt64(cents) : BsonNull.Value },
        { "client", bid.Client },
        { "bid_date", MongoQueries.Date(bid.BidDate) },
        { "created_date", MongoQueries.Date(bid.CreatedDate) },
        { "status", MongoQueries.StatusName(bid.Status) },
        { "reason", OptionalString(bid.Reason) },
        { "detail", OptionalString(bid.Detail) },
        // Left out when none, as in a bid written before automatic bidding: one shape to read, and most bids carry neither.
        { "max_value", MongoQueries.OptionalMoney(bid.MaxValue), bid.MaxValue is not null },
        { "item_version", bid.ItemVersion is { } itemVersion ? new BsonInt64(itemVersion) : BsonNull.Value, bid.ItemVersion is not null },
    };

    internal static Bid ToBid(BsonDocument document) => new(
        ReadUuid(document["_id"]),
        ReadUuid(document["item_id"]),
        ReadUuid(document["user_id"]),
        ReadMoney(document["value"]),
        document["client"].AsString,
        ReadDate(document["bid_date"]),
        ReadDate(document["created_date"]),
        document["status"].AsString switch
        {
            "accepted" => BidStatus.Accepted,
            "rejected" => BidStatus.Rejected,
            var other => throw new FormatException($"Bid {document["_id"]} has an unknown status '{other}'."),
        },
        ReadOptionalString(document["reason"]),
        ReadOptionalString(document["detail"]),
        ReadOptionalMoney(Field(document, "max_value")),
        Field(document, "item_version") is { IsBsonNull: false } itemVersion ? itemVersion.ToInt64() : null);

    internal static BsonDocument ToDocument(IdempotencyRecord record) => new()
    {
        { "_id", record.Key },
        { "request_hash", record.RequestHash },
        {
            "bid", new BsonDocument
            {
                { "id", MongoQueries.Uuid(record.Bid.Id) },
                { "item_id", MongoQueries.Uuid(record.Bid.ItemId) },
                { "user_id", MongoQueries.Uuid(record.Bid.UserId) },
                { "value", new BsonDecimal128(record.Bid.Value) },
                { "client", record.Bid.Client },
                { "bid_date", MongoQueries.Date(record.Bid.BidDate) },
                { "max_value", MongoQueries.OptionalMoney(record.Bid.MaxValue), record.Bid.MaxValue is not null },
            }
        },
        { "produced", record.Produced },
        { "created_date", MongoQueries.Date(record.CreatedDate) },
        { "lease_until", MongoQueries.Date(record.LeaseUntil) },
    };

    internal static IdempotencyRecord ToIdempotencyRecord(BsonDocument document)
    {
        var bid = document["bid"].AsBsonDocument;
        return new IdempotencyRecord(
            document["_id"].AsString,
            document["request_hash"].AsString,
            new PostedBid(
                ReadUuid(bid["id"]),
                ReadUuid(bid["item_id"]),
                ReadUuid(bid["user_id"]),
                ReadMoney(bid["value"]),
                bid["client"].AsString,
                ReadDate(bid["bid_date"]),
                ReadOptionalMoney(Field(bid, "max_value"))),
            document["produced"].AsBoolean,
            ReadDate(document["created_date"]),
            // Keys stored before leases existed have none: released.
            document.TryGetValue("lease_until", out var lease) ? ReadDate(lease) : IdempotencyRecord.Released);
    }

    internal static BsonValue OptionalString(string? text) => text is null ? BsonNull.Value : new BsonString(text);

    internal static Guid ReadUuid(BsonValue value) => value.AsBsonBinaryData.ToGuid(GuidRepresentation.Standard);

    internal static Guid? ReadOptionalUuid(BsonValue value) => value.IsBsonNull ? null : ReadUuid(value);

    internal static string? ReadOptionalString(BsonValue value) => value.IsBsonNull ? null : value.AsString;

    internal static decimal ReadMoney(BsonValue value) => Decimal128.ToDecimal(value.AsDecimal128);

    internal static decimal? ReadOptionalMoney(BsonValue value) => value.IsBsonNull ? null : ReadMoney(value);

    internal static DateTimeOffset? ReadOptionalDate(BsonValue value) => value.IsBsonNull ? null : ReadDate(value);

    /// <summary>A field that documents written before it existed lack: missing reads as null.</summary>
    internal static BsonValue Field(BsonDocument document, string name) => document.GetValue(name, BsonNull.Value);

    internal static DateTimeOffset ReadDate(BsonValue value) =>
        DateTimeOffset.FromUnixTimeMilliseconds(value.AsBsonDateTime.MillisecondsSinceEpoch);
}

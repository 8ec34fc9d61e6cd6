using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bidder.Domain.Contracts;

/// <summary>
/// A closed auction as the streamer announces it on the auctions topic (key: the item id), for other
/// backends to consume: one record per closed item. It is made from the item as stored, so a record sent
/// again after a crash is the same record, byte for byte. Every field is written, null included; times are
/// UTC with a trailing Z, as the API writes them.
/// </summary>
public sealed record AuctionClosedMessage(
    Guid ItemId,
    string Result,
    decimal WinningBid,
    Guid? WinningUserId,
    Guid? WinningBidId,
    Guid? SellerId,
    long Bids,
    DateTime ClosedAt)
{
    /// <summary>The record of a closed item, as the item reads: <see cref="WinningBid"/> 0 and no winner when nobody bid.</summary>
    public static AuctionClosedMessage From(Item item) => new(
        item.Id,
        item.Result ?? throw new ArgumentException($"Item {item.Id} is not closed.", nameof(item)),
        item.WinningBid,
        item.WinningUserId,
        item.WinningBidId,
        item.SellerId,
        item.Bids,
        item.ClosedAt!.Value.UtcDateTime);

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, AuctionClosedJson.Default.AuctionClosedMessage);

    public static AuctionClosedMessage? FromUtf8Json(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize(json, AuctionClosedJson.Default.AuctionClosedMessage);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(AuctionClosedMessage))]
internal sealed partial class AuctionClosedJson : JsonSerializerContext;

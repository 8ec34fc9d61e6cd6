using System.Text.Json;
using System.Text.Json.Serialization;
using Bidder.Domain;
using Bidder.Domain.Contracts;

namespace Bidder.Core.Live;

/// <summary>
/// What the live streams tell about an item: its public bidding state after a change (a new winning bid, an
/// end moved by a soft close, the close), <c>event: item</c>; or the auction's close record as the auctions topic
/// carries it (<see cref="CloseRecord"/>), <c>event: closed</c>. <see cref="Version"/> orders an item's states (a
/// client keeps the highest it has seen; a close record has none, 0 here); private fields (the leader's automatic
/// maximum, the reserve) are never part of either.
/// </summary>
public sealed record ItemEvent(
    Guid ItemId,
    decimal WinningBid,
    Guid? WinningUserId,
    long Bids,
    long Version,
    DateTime? BiddingEnddate,
    string Status,
    string? Result,
    DateTime? ClosedAt)
{
    /// <summary>The close record an <c>event: closed</c> carries, as the auctions topic does; null for an item state.</summary>
    [JsonIgnore]
    public AuctionClosedMessage? CloseRecord { get; init; }

    /// <summary>The event type on the stream: <c>closed</c> for the auctions topic's record of a close, <c>item</c> for every state.</summary>
    [JsonIgnore]
    public string Type => CloseRecord is null ? "item" : "closed";

    public static ItemEvent From(Item item) => new(
        item.Id, item.WinningBid, item.WinningUserId, item.Bids, item.State.Version, item.BiddingEndDate.UtcDateTime,
        Name(item.Status), item.Result, item.ClosedAt?.UtcDateTime);

    private static string Name(ItemStatus status) => status == ItemStatus.Open ? "open" : "closed";

    /// <summary>A record of the item-changelog topic (the streamer's table), read for its public fields only; null when it is not one.</summary>
    public static ItemEvent? FromChangelog(byte[] json)
    {
        try
        {
            if (JsonSerializer.Deserialize(json, LiveJson.Default.ChangelogRecord) is not { ItemId: var id } record || id == Guid.Empty || record.Version <= 0)
            {
                return null;
            }

            return new ItemEvent(id, record.WinningBid, record.WinningUserId, record.Bids, record.Version, record.BiddingEnddate?.UtcDateTime,
                Name(record.ClosedAt is null ? ItemStatus.Open : ItemStatus.Closed), record.Result, record.ClosedAt?.UtcDateTime);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A record of the auctions topic; null when it is not one.</summary>
    public static ItemEvent? FromAuction(byte[] json)
    {
        try
        {
            return AuctionClosedMessage.FromUtf8Json(json) is { ItemId: var id } closed && id != Guid.Empty
                ? new ItemEvent(id, closed.WinningBid, closed.WinningUserId, closed.Bids, Version: 0, BiddingEnddate: null, Name(ItemStatus.Closed), closed.Result, closed.ClosedAt)
                {
                    CloseRecord = closed,
                }
                : null;
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The event's data: the close record's fields for <c>closed</c>, the item's public state for <c>item</c>.</summary>
    public byte[] ToUtf8Json() => CloseRecord?.ToUtf8Json() ?? JsonSerializer.SerializeToUtf8Bytes(this, LiveJson.Default.ItemEvent);
}

/// <summary>The public fields of an item-changelog record (the streamer writes more; the rest is skipped).</summary>
internal sealed record ChangelogRecord(
    Guid ItemId, decimal WinningBid, Guid? WinningUserId, long Bids, long Version, DateTimeOffset? BiddingEnddate, DateTimeOffset? ClosedAt, string? Result);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(ItemEvent))]
[JsonSerializable(typeof(ChangelogRecord))]
internal sealed partial class LiveJson : JsonSerializerContext;

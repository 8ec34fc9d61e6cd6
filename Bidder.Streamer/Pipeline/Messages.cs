using System.Text.Json;
using System.Text.Json.Serialization;
using Bidder.Domain;
using Bidder.Domain.Contracts;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// A rejected bid on the invalid-bids topic (key: the item id, when known). <see cref="Event"/> is the bid
/// as it was posted; for a message that could not be decoded it is null and <see cref="Raw"/> carries the
/// bytes (base64), with the partition and offset it came from.
/// </summary>
public sealed record InvalidBidMessage(
    BidMessage? Event,
    string Reason,
    string Detail,
    DateTimeOffset RejectedAt,
    string? Raw = null,
    int? Partition = null,
    long? Offset = null);

/// <summary>
/// A record of the item-changelog topic (key: the item id): the item's bidding state after a change (a bid
/// accepted, a price raised by an automatic bid, the close). <see cref="Version"/> orders an item's records
/// (it grows with every change), then <see cref="SourceOffset"/>, the bids-topic offset at which the item was
/// in this state, so a restore keeps the newest state whatever order two writers (around a rebalance) left
/// the records in. <see cref="LeaderMax"/> is the leading bid's automatic maximum: the table needs it to
/// decide the next bid, so this internal topic carries it; whatever serves the topic to people must not.
/// Records written before versions (version 0) are skipped on restore: the database holds their state.
/// </summary>
public sealed record ItemChangelogMessage(
    Guid ItemId,
    decimal WinningBid,
    Guid? WinningUserId,
    Guid? WinningBidId,
    long Bids,
    DateTimeOffset UpdatedAt,
    long SourceOffset,
    long Version = 0,
    decimal? LeaderMax = null,
    DateTimeOffset? BiddingEnddate = null,
    DateTimeOffset? ClosedAt = null,
    string? Result = null)
{
    public static ItemChangelogMessage From(Guid itemId, AuctionState state, DateTimeOffset updatedAt, long sourceOffset) =>
        new(itemId, state.WinningBid, state.WinningUserId, state.WinningBidId, state.Bids, updatedAt, sourceOffset,
            state.Version, state.LeaderMax, state.EndDate, state.ClosedAt, state.Result);

    /// <summary>The row this record restores; null for a record from before versions (or without an end date).</summary>
    public ItemTableEntry? ToEntry() => Version <= 0 || BiddingEnddate is not { } end
        ? null
        : new(new AuctionState(WinningBid, WinningUserId, WinningBidId, LeaderMax, Bids, Version, end, ClosedAt, Result), UpdatedAt, SourceOffset);
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip)]
[JsonSerializable(typeof(BidMessage))]
[JsonSerializable(typeof(InvalidBidMessage))]
[JsonSerializable(typeof(ItemChangelogMessage))]
internal sealed partial class PipelineJson : JsonSerializerContext
{
    public static byte[] Serialize(InvalidBidMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, Default.InvalidBidMessage);

    public static byte[] Serialize(ItemChangelogMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, Default.ItemChangelogMessage);
}

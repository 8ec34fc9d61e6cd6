using System.Text.Json;
using System.Text.Json.Serialization;
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
/// A record of the item-changelog topic (key: the item id): the item's bidding state after a bid was
/// accepted. <see cref="Bids"/> orders an item's records (it only grows), then <see cref="SourceOffset"/>,
/// the bids-topic offset at which the item was in this state, so a restore keeps the newest state whatever
/// order two writers (around a rebalance) left the records in.
/// </summary>
public sealed record ItemChangelogMessage(
    Guid ItemId,
    decimal WinningBid,
    Guid? WinningUserId,
    Guid? WinningBidId,
    long Bids,
    DateTimeOffset UpdatedAt,
    long SourceOffset);

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

using System.Text.Json;
using System.Text.Json.Serialization;
using Bidder.Domain;

namespace Bidder.Domain.Contracts;

/// <summary>
/// A posted bid as it travels on the bids topic (key: the item id). <see cref="SchemaVersion"/> lets the
/// streamer refuse a shape it does not know instead of guessing. <see cref="MaxValue"/> (automatic bidding)
/// came later within version 1: optional, and left out when absent, so older readers and writers agree.
/// </summary>
public sealed record BidMessage(
    int SchemaVersion,
    Guid Id,
    Guid ItemId,
    Guid UserId,
    decimal Value,
    string Client,
    DateTimeOffset BidDate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] decimal? MaxValue = null)
{
    public const int CurrentSchemaVersion = 1;

    public static BidMessage From(PostedBid bid) =>
        new(CurrentSchemaVersion, bid.Id, bid.ItemId, bid.UserId, bid.Value, bid.Client, bid.BidDate, bid.MaxValue);

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, BidMessageJson.Default.BidMessage);

    public PostedBid ToPostedBid() => new(Id, ItemId, UserId, Value, Client, BidDate, MaxValue);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BidMessage))]
internal sealed partial class BidMessageJson : JsonSerializerContext;

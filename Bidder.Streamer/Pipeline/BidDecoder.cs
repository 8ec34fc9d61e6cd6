using System.Text.Json;
using Bidder.Core.Contracts;
using Bidder.Core.Domain;
using Confluent.Kafka;

namespace Bidder.Streamer.Pipeline;

/// <summary>A message of the bids topic, decoded: the bid, or why it is not one.</summary>
public sealed record DecodedBid(ConsumeResult<string, byte[]> Source, BidMessage? Bid, string? Problem)
{
    public bool IsMalformed => Bid is null;
}

/// <summary>Stage 1, decode: bytes to a bid, strictly. Anything that is not a complete, known bid is malformed.</summary>
public static class BidDecoder
{
    public static DecodedBid Decode(ConsumeResult<string, byte[]> message)
    {
        var bytes = message.Message.Value;
        if (bytes is null || bytes.Length == 0)
        {
            return new(message, null, "The message has no payload.");
        }

        BidMessage? bid;
        try
        {
            bid = JsonSerializer.Deserialize(bytes, PipelineJson.Default.BidMessage);
        }
        catch (JsonException ex)
        {
            return new(message, null, $"The payload is not a bid: {ex.Message}");
        }

        return Check(bid) is { } problem ? new(message, null, problem) : new(message, bid, null);
    }

    private static string? Check(BidMessage? bid) => bid switch
    {
        null => "The payload is JSON null.",
        { SchemaVersion: not BidMessage.CurrentSchemaVersion } => $"Unknown schema version {bid.SchemaVersion}; this streamer reads version {BidMessage.CurrentSchemaVersion}.",
        _ when bid.Id == Guid.Empty || bid.ItemId == Guid.Empty || bid.UserId == Guid.Empty => "The bid's id, item_id and user_id must be UUIDs.",
        _ when bid.Value <= 0 || !Money.HasAtMostTwoDecimals(bid.Value) => "The value must be positive with at most 2 decimal places.",
        _ when string.IsNullOrWhiteSpace(bid.Client) => "The client must not be empty.",
        _ when bid.BidDate == default => "The bid_date is missing.",
        _ => null,
    };
}

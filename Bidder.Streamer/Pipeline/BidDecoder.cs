using System.Text.Json;
using Bidder.Domain.Contracts;
using Bidder.Domain;
using Confluent.Kafka;

namespace Bidder.Streamer.Pipeline;

/// <summary>A message of the bids topic, decoded: the bid, or why it is not one.</summary>
public sealed record DecodedBid(ConsumeResult<string, byte[]> Source, BidMessage? Bid, string? Problem)
{
    public bool IsMalformed => Bid is null;
}

/// <summary>
/// Stage 1, decode: bytes to a bid, strictly. Anything on the topic may come from any producer, so
/// anything that is not a complete bid as the API would have posted it is malformed, with a detail that
/// names the field: undecodable bytes, wrong JSON types, a field the API would have refused, a message
/// not keyed by its item (per-item order and the single writer per item rely on the key), or a bid date
/// far from the message's own timestamp (the API sets both to the same instant). Decoding never throws.
/// </summary>
public static class BidDecoder
{
    /// <summary>The longest message key quoted back in a detail.</summary>
    private const int MaxQuotedKey = 64;

    public static DecodedBid Decode(ConsumeResult<string, byte[]> message, TimeSpan maxClockSkew)
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
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or InvalidOperationException or NotSupportedException)
        {
            // Values the reader refuses outside JsonException (a date beyond the calendar once offset, say).
            return new(message, null, $"The payload is not a bid: {ex.GetType().Name}: {ex.Message}");
        }

        return Check(bid, message, maxClockSkew) is { } problem ? new(message, null, problem) : new(message, bid, null);
    }

    private static string? Check(BidMessage? bid, ConsumeResult<string, byte[]> message, TimeSpan maxClockSkew) => bid switch
    {
        null => "The payload is JSON null.",
        { SchemaVersion: not BidMessage.CurrentSchemaVersion } => $"Unknown schema version {bid.SchemaVersion}; this streamer reads version {BidMessage.CurrentSchemaVersion}.",
        _ when bid.Id == Guid.Empty => "The field 'id' must be a UUID other than the nil UUID.",
        _ when bid.ItemId == Guid.Empty => "The field 'item_id' must be a UUID other than the nil UUID.",
        _ when bid.UserId == Guid.Empty => "The field 'user_id' must be a UUID other than the nil UUID.",
        _ when bid.Value <= 0 || !Money.HasAtMostTwoDecimals(bid.Value) => "The field 'value' must be positive with at most 2 decimal places.",
        _ when bid.MaxValue is { } max && (max < bid.Value || !Money.HasAtMostTwoDecimals(max)) =>
            "The field 'max_value' must be at least 'value', with at most 2 decimal places.",
        _ when TextRules.Problem(bid.Client, TextRules.MaxClientLength) is { } problem => $"The field 'client' {problem}",
        _ when bid.BidDate == default => "The field 'bid_date' is missing.",
        _ when !IsKeyOf(message.Message.Key, bid.ItemId) =>
            $"The message key {Quote(message.Message.Key)} is not the bid's item_id {bid.ItemId}: bids are keyed by item, so that each item's bids stay in order on one partition.",
        _ when SkewFromTimestamp(bid, message) is { } skew && skew.Duration() > maxClockSkew =>
            $"The field 'bid_date' ({bid.BidDate.UtcDateTime:O}) is {skew.Duration().TotalMinutes:0.#} minutes from the message's timestamp; at most {maxClockSkew.TotalMinutes:0.#} are allowed.",
        _ => null,
    };

    /// <summary>Whether the key is the item id exactly as the API writes it (<see cref="Guid.ToString()"/>), compared without a string per bid.</summary>
    private static bool IsKeyOf(string? key, Guid itemId)
    {
        Span<char> expected = stackalloc char[36];
        return key is { Length: 36 } && itemId.TryFormat(expected, out _) && key.AsSpan().SequenceEqual(expected);
    }

    private static TimeSpan? SkewFromTimestamp(BidMessage bid, ConsumeResult<string, byte[]> message) =>
        message.Message.Timestamp.Type == TimestampType.NotAvailable
            ? null
            : TimeSpan.FromMilliseconds((double)bid.BidDate.ToUnixTimeMilliseconds() - message.Message.Timestamp.UnixTimestampMs);

    private static string Quote(string? key) => key switch
    {
        null => "(none)",
        // Cut before a surrogate pair rather than through it: half a pair cannot be written as JSON.
        { Length: > MaxQuotedKey } => $"'{key[..(char.IsHighSurrogate(key[MaxQuotedKey - 1]) ? MaxQuotedKey - 1 : MaxQuotedKey)]}…' ({key.Length} characters)",
        _ => $"'{key}'",
    };
}

using System.Text;
using Bidder.Core.Contracts;
using Bidder.Streamer.Pipeline;
using Confluent.Kafka;

namespace Bidder.Tests.Streamer;

public class BidDecoderTests
{
    [Fact]
    public void A_bid_produced_by_the_api_decodes_to_the_same_bid_unicode_client_included()
    {
        var bid = new BidMessage(1, Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), 12.34m, "app 📱",
            DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_123));

        var decoded = BidDecoder.Decode(Message(bid.ToUtf8Json()));

        Assert.Equal(bid, decoded.Bid);
        Assert.False(decoded.IsMalformed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"schema_version": 2, "id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "client": "web", "bid_date": "2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"schema_version": 1, "id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 10, "client": "web", "bid_date": "2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"schema_version": 1, "id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": "10", "client": "web", "bid_date": "2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"schema_version": 1, "id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": -3, "client": "web", "bid_date": "2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"schema_version": 1, "id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 1.001, "client": "web", "bid_date": "2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"schema_version": 1, "id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 1e400, "client": "web", "bid_date": "2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"schema_version": 1, "id": "00000000-0000-0000-0000-000000000000", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 1, "client": "web", "bid_date": "2026-01-01T00:00:00Z"}""")]
    [InlineData("""{"schema_version": 1, "id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "item_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "user_id": "0194f3a2-8c1d-7b3e-9f00-2a5b6c7d8e9f", "value": 1, "client": null, "bid_date": "2026-01-01T00:00:00Z"}""")]
    public void Anything_that_is_not_a_complete_known_bid_is_malformed_with_a_reason(string payload)
    {
        var decoded = BidDecoder.Decode(Message(Encoding.UTF8.GetBytes(payload)));

        Assert.True(decoded.IsMalformed);
        Assert.False(string.IsNullOrWhiteSpace(decoded.Problem));
    }

    [Fact]
    public void Undecodable_bytes_are_malformed()
    {
        var decoded = BidDecoder.Decode(Message([0xff, 0xfe, 0x00, 0x80, 0xc3]));

        Assert.True(decoded.IsMalformed);
    }

    private static ConsumeResult<string, byte[]> Message(byte[] value) => new()
    {
        Message = new Message<string, byte[]> { Key = "k", Value = value },
        TopicPartitionOffset = new TopicPartitionOffset("bids", 0, 0),
    };
}

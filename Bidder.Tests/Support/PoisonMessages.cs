using System.Text;
using Bidder.Domain.Contracts;
using Confluent.Kafka;

namespace Bidder.Tests.Support;

/// <summary>
/// Messages any producer could put on the bids topic that the API would never send: each with the reject
/// reason the streamer must give it. Shared by the decoder's unit tests and the test through the topic.
/// </summary>
internal static class PoisonMessages
{
    public sealed record Poison(string Name, string? Key, byte[]? Value, DateTimeOffset Timestamp, string Reason)
    {
        public Message<string, byte[]> ToMessage() => new() { Key = Key!, Value = Value!, Timestamp = new Timestamp(Timestamp) };

        public override string ToString() => Name;
    }

    public static IReadOnlyList<Poison> Table(Guid itemId, Guid userId, DateTimeOffset now)
    {
        var key = itemId.ToString();
        static string Quoted(object value) => $"\"{value}\"";
        string Bid(string? value = null, string? client = null, string? bidDate = null, string? id = null, string? item = null, string? user = null) =>
            $$"""{"schema_version": 1, "id": {{id ?? Quoted(Guid.CreateVersion7())}}, "item_id": {{item ?? Quoted(itemId)}}, "user_id": {{user ?? Quoted(userId)}}, "value": {{value ?? "10"}}, "client": {{client ?? "\"web\""}}, "bid_date": {{bidDate ?? Quoted(now.UtcDateTime.ToString("O"))}}}""";
        Poison Malformed(string name, string payload, string? messageKey = null) => new(name, messageKey ?? key, Encoding.UTF8.GetBytes(payload), now, "malformed");

        return
        [
            new("value beyond cents", key, Encoding.UTF8.GetBytes(Bid(value: "100000000000000000000")), now, "value_too_high"),
            new("decimal.MaxValue", key, Encoding.UTF8.GetBytes(Bid(value: decimal.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture))), now, "value_too_high"),
            Malformed("value beyond decimal", Bid(value: "1e400")),
            Malformed("value beyond decimal, written out", Bid(value: "7922816251426433759354395033500")),
            Malformed("value as a string", Bid(value: "\"10\"")),
            Malformed("value as an object", Bid(value: "{\"$gt\": 0}")),
            Malformed("value as NaN text", Bid(value: "NaN")),
            Malformed("id as a number", Bid(id: "5")),
            Malformed("item_id as an object", Bid(item: "{}")),
            Malformed("nil user_id", Bid(user: "\"00000000-0000-0000-0000-000000000000\"")),
            Malformed("first day of the calendar", Bid(bidDate: Quoted("0001-01-01T00:00:00Z"))),
            Malformed("last instant of the calendar", Bid(bidDate: Quoted("9999-12-31T23:59:59.9999999Z"))),
            Malformed("before the calendar once offset", Bid(bidDate: Quoted("0001-01-01T00:00:00+01:00"))),
            Malformed("bid_date an hour from the timestamp", Bid(bidDate: Quoted(now.AddHours(1).UtcDateTime.ToString("O")))),
            Malformed("200 KB client", Bid(client: "\"" + new string('x', 200_000) + "\"")),
            Malformed("unpaired surrogate in client", Bid(client: "\"\\ud800\"")),
            Malformed("control character in client", Bid(client: "\"a\\u0007b\"")),
            Malformed("client as an array", Bid(client: "[\"web\"]")),
            Malformed("deep nesting", Bid(client: new string('[', 10_000) + new string(']', 10_000))),
            Malformed("JSON null", "null"),
            Malformed("not JSON", "\u00ff\u00fe not json"),
            Malformed("keyed by another item", Bid(), Guid.CreateVersion7().ToString()),
            Malformed("keyed by the item id in upper case", Bid(), key.ToUpperInvariant()),
            Malformed("a 10 KB key", Bid(), new string('k', 10_000)),
            new("no key", null, Encoding.UTF8.GetBytes(Bid()), now, "malformed"),
            new("no payload", key, null, now, "malformed"),
        ];
    }
}

using System.Net;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Bidder.Domain.Contracts;
using Bidder.Tests.Support;
using Confluent.Kafka;

namespace Bidder.Tests.Streamer;

/// <summary>Whatever a producer puts on the bids topic, the streamer gives it a reason and moves on.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class PoisonTableTests(EmbeddedApp fixture)
{
    // Seen failing on main before this change: recording the bid of decimal.MaxValue overflowed its cents and
    // stopped the streamer (the dashboard showed it Finished), so the bid after it was never processed.
    [Fact]
    [Trait("Category", "Fault")]
    public async Task Every_poison_message_is_rejected_with_a_reason_and_the_bids_after_it_are_processed()
    {
        var http = fixture.Admin.Api;
        var user = Guid.Parse((await http.CreateUserAsync("poison")).Id());
        var item = Guid.Parse((await http.CreateItemAsync(initBid: 1m)).Id());
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        var table = PoisonMessages.Table(item, user, DateTimeOffset.UtcNow);
        var after = new BidMessage(1, Guid.CreateVersion7(), item, user, 5m, "web", DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));

        var landed = new Dictionary<string, TopicPartitionOffset>();
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, MessageMaxBytes = 2_000_000 }).Build())
        {
            foreach (var poison in table)
            {
                landed[poison.Name] = (await producer.ProduceAsync("bids", poison.ToMessage(), TestContext.Current.CancellationToken)).TopicPartitionOffset;
            }

            await producer.ProduceAsync("bids", new Message<string, byte[]> { Key = item.ToString(), Value = after.ToUtf8Json(), Timestamp = new Timestamp(after.BidDate) }, TestContext.Current.CancellationToken);
        }

        var processed = await Eventually.WaitAsync(async () =>
        {
            using var response = await http.GetAsync($"/events/{after.Id}", TestContext.Current.CancellationToken);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }, r => r.StatusCode == HttpStatusCode.OK, "the bid after the poison to be processed");
        Assert.Equal("accepted", JsonNode.Parse(processed.Body)!["status"]!.GetValue<string>());

        var rejects = TopicReader.ReadAll(bootstrapServers, "invalid-bids").Select(r => JsonNode.Parse(r.Message.Value)!.AsObject()).ToList();
        foreach (var poison in table)
        {
            if (poison.Reason == "malformed")
            {
                var at = landed[poison.Name];
                var reject = rejects.SingleOrDefault(r => r["partition"]?.GetValue<int>() == at.Partition.Value && r["offset"]?.GetValue<long>() == at.Offset.Value);
                Assert.True(reject is not null, $"{poison.Name}: no reject for partition {at.Partition.Value}, offset {at.Offset.Value}");
                Assert.Equal("malformed", reject["reason"]!.GetValue<string>());
                Assert.False(string.IsNullOrWhiteSpace(reject["detail"]!.GetValue<string>()), poison.Name);
            }
            else
            {
                // Decodable but beyond any ceiling: rejected by the rules, and recorded like any reject.
                var id = JsonNode.Parse(poison.Value!)!["id"]!.GetValue<string>();
                Assert.Contains(rejects, r => r["event"]?["id"]?.GetValue<string>() == id && r["reason"]!.GetValue<string>() == poison.Reason);
                var bid = await http.GetObjectAsync($"/events/{id}");
                Assert.Equal(poison.Reason, bid["reason"]!.GetValue<string>());
            }
        }

        Assert.Equal("Running", fixture.State("streamer").Snapshot.State?.Text);
        await fixture.WaitHealthyAsync();
    }
}

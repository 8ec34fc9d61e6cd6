using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Streamer;

/// <summary>The streamer seen through the API and the topics, on the app started from the AppHost.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class PipelineTests(EmbeddedApp fixture)
{
    private readonly HttpClient _http = fixture.App.CreateHttpClient("api", "http");

    [Fact]
    public async Task Posted_bids_move_the_winning_bid_live_and_a_rejected_bid_tells_why()
    {
        var alice = await _http.CreateUserAsync("alice");
        var bob = await _http.CreateUserAsync("bob");
        var item = await _http.CreateItemAsync(initBid: 10m);

        var first = await PostAsync(item, alice, 12m);
        var second = await PostAsync(item, bob, 15.5m);
        var low = await PostAsync(item, alice, 15.5m);
        var below = await PostAsync(item, alice, 9.99m);

        var lowResult = await ProcessedAsync(low);
        Assert.Equal("rejected", lowResult["status"]!.GetValue<string>());
        Assert.Equal("too_low", lowResult["reason"]!.GetValue<string>());
        Assert.Equal("below_init_bid", (await ProcessedAsync(below))["reason"]!.GetValue<string>());
        Assert.Equal("accepted", (await ProcessedAsync(first))["status"]!.GetValue<string>());
        Assert.Equal("accepted", (await ProcessedAsync(second))["status"]!.GetValue<string>());

        var live = await _http.GetObjectAsync($"/items/{item.Id()}");
        Assert.Equal(15.5m, live["winning_bid"]!.GetValue<decimal>());
        Assert.Equal(bob.Id(), live["winning_user_id"]!.GetValue<string>());
        Assert.Equal(2, live["bids"]!.GetValue<long>());
        Assert.Equal(1, (await _http.GetObjectAsync($"/users/{alice.Id()}"))["bids"]!.GetValue<long>());
        Assert.Equal([second, first], (await _http.WalkAsync($"/items/{item.Id()}/bids", 1)).Select(b => b.Id()));
        Assert.Equal([below, low, first], (await _http.WalkAsync($"/users/{alice.Id()}/bids", 2)).Select(b => b.Id()));
        Assert.Equal([below, low], (await _http.WalkAsync($"/users/{alice.Id()}/bids?status=rejected", 5)).Select(b => b.Id()));
    }

    [Fact]
    public async Task Rejects_reach_the_invalid_topic_and_wins_the_item_changelog()
    {
        var user = await _http.CreateUserAsync();
        var item = await _http.CreateItemAsync(initBid: 100m);
        var win = await PostAsync(item, user, 150m);
        var tooHigh = await PostAsync(item, user, 100_000.01m);
        var unknownUser = await PostAsync(item, new JsonObject { ["id"] = Guid.CreateVersion7().ToString() }, 200m);
        await ProcessedAsync(win);
        await ProcessedAsync(tooHigh);
        await ProcessedAsync(unknownUser);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;

        var invalid = TopicReader.ReadAll(bootstrapServers, "invalid-bids")
            .Where(r => r.Message.Key == item.Id())
            .Select(r => JsonNode.Parse(r.Message.Value)!.AsObject())
            .ToDictionary(r => r["event"]!["id"]!.GetValue<string>(), r => r["reason"]!.GetValue<string>());
        var changelog = TopicReader.ReadAll(bootstrapServers, "item-changelog")
            .Where(r => r.Message.Key == item.Id())
            .Select(r => JsonNode.Parse(r.Message.Value)!.AsObject())
            .ToList();

        Assert.Equal(new Dictionary<string, string> { [tooHigh] = "value_too_high", [unknownUser] = "unknown_user" }, invalid);
        var state = Assert.Single(changelog);
        Assert.Equal(150m, state["winning_bid"]!.GetValue<decimal>());
        Assert.Equal(user.Id(), state["winning_user_id"]!.GetValue<string>());
        Assert.Equal(win, state["winning_bid_id"]!.GetValue<string>());
        Assert.Equal(1, state["bids"]!.GetValue<long>());
    }

    // The first case, seen failing on main before this change: the copy re-applied the 125.50 win
    // over 200 (bids 3), and a following 150 was accepted.
    [Fact]
    public async Task A_copy_of_an_accepted_bid_sent_to_the_topic_after_a_higher_bid_changes_nothing()
    {
        var alice = await _http.CreateUserAsync("alice");
        var bob = await _http.CreateUserAsync("bob");
        var item = await _http.CreateItemAsync(initBid: 100m);
        var first = await PostAsync(item, alice, 125.50m);
        var higher = await PostAsync(item, bob, 200m);
        await ProcessedAsync(first);
        await ProcessedAsync(higher);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;

        // The exact message again, as kcat or a producer's retry would send it: same key, same bytes, a new timestamp.
        var original = TopicReader.ReadAll(bootstrapServers, "bids").Single(r => r.Message.Value is { } value && Encoding.UTF8.GetString(value).Contains(first, StringComparison.Ordinal));
        using (var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = bootstrapServers }).Build())
        {
            await producer.ProduceAsync("bids", new Confluent.Kafka.Message<string, byte[]> { Key = original.Message.Key, Value = original.Message.Value }, TestContext.Current.CancellationToken);
        }

        var after = await ProcessedAsync(await PostAsync(item, alice, 150m));

        Assert.Equal("too_low", after["reason"]!.GetValue<string>());
        var live = await _http.GetObjectAsync($"/items/{item.Id()}");
        Assert.Equal(200m, live["winning_bid"]!.GetValue<decimal>());
        Assert.Equal(bob.Id(), live["winning_user_id"]!.GetValue<string>());
        Assert.Equal(2, live["bids"]!.GetValue<long>());
        Assert.Equal(1, (await _http.GetObjectAsync($"/users/{alice.Id()}"))["bids"]!.GetValue<long>());
        Assert.Equal([higher, first], (await _http.WalkAsync($"/items/{item.Id()}/bids", 10)).Select(b => b.Id()));
    }

    private async Task<string> PostAsync(JsonObject item, JsonObject user, decimal value)
    {
        using var response = await _http.PostJsonAsync("/events/",
            $$"""{"item_id": "{{item.Id()}}", "user_id": "{{user.Id()}}", "value": {{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.ReadObjectAsync()).Id();
    }

    private async Task<JsonObject> ProcessedAsync(string bidId)
    {
        var status = await Eventually.WaitAsync(async () =>
        {
            using var response = await _http.GetAsync($"/events/{bidId}", TestContext.Current.CancellationToken);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }, r => r.StatusCode == HttpStatusCode.OK, $"bid {bidId} to be processed");
        return JsonNode.Parse(status.Body)!.AsObject();
    }
}

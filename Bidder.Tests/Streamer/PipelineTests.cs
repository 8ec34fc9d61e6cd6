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
    private readonly HttpClient _http = fixture.Admin.Api;

    [Fact]
    public async Task Posted_bids_move_the_winning_bid_live_and_a_rejected_bid_tells_why()
    {
        using var alice = await fixture.App.RegisterAsync("alice");
        using var bob = await fixture.App.RegisterAsync("bob");
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
        Assert.Equal(bob.Id.ToString(), live["winning_user_id"]!.GetValue<string>());
        Assert.Equal(2, live["bids"]!.GetValue<long>());
        Assert.Equal(1, (await alice.Api.GetObjectAsync($"/users/{alice.Id}"))["bids"]!.GetValue<long>());
        Assert.Equal([second, first], (await _http.WalkAsync($"/items/{item.Id()}/bids", 1)).Select(b => b.Id()));
        Assert.Equal([below, low, first], (await alice.Api.WalkAsync($"/users/{alice.Id}/bids", 2)).Select(b => b.Id()));
        Assert.Equal([below, low], (await alice.Api.WalkAsync($"/users/{alice.Id}/bids?status=rejected", 5)).Select(b => b.Id()));
    }

    [Fact]
    public async Task Rejects_reach_the_invalid_topic_and_wins_the_item_changelog()
    {
        using var user = await fixture.App.RegisterAsync("rejects");
        var item = await _http.CreateItemAsync(initBid: 100m);
        var win = await PostAsync(item, user, 150m);
        var tooHigh = await PostAsync(item, user, 100_000.01m);
        // The API only takes bids from signed-in users; a bid naming no user reaches the topic from elsewhere.
        var unknownUser = await ProduceAsync(item, Guid.CreateVersion7(), 200m);
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
        Assert.Equal(user.Id.ToString(), state["winning_user_id"]!.GetValue<string>());
        Assert.Equal(win, state["winning_bid_id"]!.GetValue<string>());
        Assert.Equal(1, state["bids"]!.GetValue<long>());
    }

    // The first case, seen failing on main before this change: the copy re-applied the 125.50 win
    // over 200 (bids 3), and a following 150 was accepted.
    [Fact]
    public async Task A_copy_of_an_accepted_bid_sent_to_the_topic_after_a_higher_bid_changes_nothing()
    {
        using var alice = await fixture.App.RegisterAsync("alice");
        using var bob = await fixture.App.RegisterAsync("bob");
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
        Assert.Equal(bob.Id.ToString(), live["winning_user_id"]!.GetValue<string>());
        Assert.Equal(2, live["bids"]!.GetValue<long>());
        Assert.Equal(1, (await _http.GetObjectAsync($"/users/{alice.Id}"))["bids"]!.GetValue<long>());
        Assert.Equal([higher, first], (await _http.WalkAsync($"/items/{item.Id()}/bids", 10)).Select(b => b.Id()));
        // Recognized as the accepted bid it copies, not decided again as a new one (which would reject it as too low):
        // invalid-bids has the later bid's reject and nothing for the copy, which came before it on the same partition.
        var afterId = after["id"]!.GetValue<string>();
        var rejects = await Eventually.WaitAsync(
            () => Task.FromResult(TopicReader.ReadAll(bootstrapServers, "invalid-bids")
                .Where(r => r.Message.Key == item.Id())
                .Select(r => JsonNode.Parse(r.Message.Value)!["event"]!["id"]!.GetValue<string>())
                .ToList()),
            ids => ids.Contains(afterId), "the later bid's reject on invalid-bids");
        Assert.Equal([afterId], rejects);
    }

    [Fact]
    public async Task A_streamer_that_lagged_has_every_offset_committed_once_it_caught_up()
    {
        var (users, items) = await Seed.StreamUsersAndItemsAsync(fixture, userCount: 10, itemCount: 20);
        var bootstrapServers = (await fixture.ConnectionStringAsync("kafka"))!;
        // Thousands of bids on the topic at once: full batches, so the streamer commits at most once per CommitInterval
        // meanwhile. Once they are all written no bid comes to complete another batch, yet every offset must be
        // committed then, or a restart would decide them all again.
        var stream = new BidStream(seed: 20261127, users, items, count: 3000);
        stream.Produce(bootstrapServers);
        await stream.RecordedAsync((await fixture.ConnectionStringAsync("bidderdb"))!);

        using var group = new Confluent.Kafka.ConsumerBuilder<Confluent.Kafka.Ignore, Confluent.Kafka.Ignore>(
            new Confluent.Kafka.ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = Bidder.Streamer.Pipeline.BidPipeline.ConsumerGroup }).Build();
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = bootstrapServers }).Build();
        var partitions = admin.GetMetadata("bids", TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new Confluent.Kafka.TopicPartition("bids", p.PartitionId)).ToList();
        long Uncommitted() => group.Committed(partitions, TimeSpan.FromSeconds(10)).Sum(committed =>
            group.QueryWatermarkOffsets(committed.TopicPartition, TimeSpan.FromSeconds(10)).High.Value - Math.Max(0, committed.Offset.Value));

        await Eventually.WaitAsync(() => Task.FromResult(Uncommitted()), lag => lag == 0,
            "the streamer's committed offsets to reach the end of the bids topic", lag => $"{lag} messages uncommitted");
    }

    [Fact]
    public async Task A_sellers_bid_on_their_own_item_is_rejected_and_the_item_names_its_seller()
    {
        using var seller = await fixture.App.RegisterAsync("seller");
        using var bidder = await fixture.App.RegisterAsync("bidder");
        var item = await seller.Api.CreateItemAsync(initBid: 10m);
        var elsewhere = await _http.CreateItemAsync(initBid: 10m);

        var own = await ProcessedAsync(await PostAsync(item, seller, 50m));
        var other = await ProcessedAsync(await PostAsync(item, bidder, 20m));
        var sellerElsewhere = await ProcessedAsync(await PostAsync(elsewhere, seller, 20m));

        Assert.Equal("own_item", own["reason"]?.GetValue<string>());
        Assert.Equal("A seller cannot bid on their own item.", own["detail"]!.GetValue<string>());
        Assert.Equal("accepted", other["status"]!.GetValue<string>());
        Assert.Equal("accepted", sellerElsewhere["status"]!.GetValue<string>());
        var live = await _http.GetObjectAsync($"/items/{item.Id()}");
        Assert.Equal(seller.Id.ToString(), live["seller_id"]!.GetValue<string>());
        Assert.Equal(20m, live["winning_bid"]!.GetValue<decimal>());
        Assert.Equal(bidder.Id.ToString(), live["winning_user_id"]!.GetValue<string>());
        Assert.Equal(fixture.Admin.Id.ToString(), (await _http.GetObjectAsync($"/items/{elsewhere.Id()}"))["seller_id"]!.GetValue<string>());
    }

    /// <summary>The bid as its bidder posts it, signed in (the API takes the bidder from the token).</summary>
    private static async Task<string> PostAsync(JsonObject item, SignedIn bidder, decimal value)
    {
        using var response = await bidder.Api.PostJsonAsync("/events/",
            $$"""{"item_id": "{{item.Id()}}", "value": {{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.ReadObjectAsync()).Id();
    }

    /// <summary>A bid written straight to the bids topic, as any producer could; returns its id.</summary>
    private async Task<string> ProduceAsync(JsonObject item, Guid userId, decimal value)
    {
        var bid = new Bidder.Domain.Contracts.BidMessage(1, Guid.CreateVersion7(), Guid.Parse(item.Id()), userId, value, "web", DateTimeOffset.UtcNow);
        using var producer = new Confluent.Kafka.ProducerBuilder<string, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = (await fixture.ConnectionStringAsync("kafka"))! }).Build();
        await producer.ProduceAsync("bids", new Confluent.Kafka.Message<string, byte[]> { Key = item.Id(), Value = bid.ToUtf8Json() }, TestContext.Current.CancellationToken);
        return bid.Id.ToString();
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

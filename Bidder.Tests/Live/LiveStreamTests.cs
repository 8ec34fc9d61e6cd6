using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bidder.AppHost.Infrastructure;
using Bidder.EmbeddedKafka;
using Bidder.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bidder.Tests.Live;

/// <summary>
/// The live streams over real HTTP, as an EventSource client reads them: one item's stream starts with its
/// state and follows its bids; a client that reconnects with Last-Event-ID gets what it missed; an idle stream
/// gets heartbeats; the stream goes on after the broker was down.
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public class LiveStreamTests(EmbeddedApp fixture)
{
    [Fact]
    public async Task An_items_stream_starts_with_its_state_and_follows_its_bids()
    {
        using var seller = await fixture.App.RegisterAsync("seller");
        var item = await CreateItemAsync(seller);
        using var stream = await SseStream.OpenAsync(Api(), $"/items/{item}/live");

        var first = await stream.NextAsync();
        Assert.Equal(("item", 0m, "open"), (first.Type, first.Data["winning_bid"]!.GetValue<decimal>(), first.Data["status"]!.GetValue<string>()));
        Assert.Null(first.Data["leader_max"]);

        await fixture.Bidder.Api.PostJsonAsync("/events/", new JsonObject { ["item_id"] = item, ["value"] = 12, ["max_value"] = 40 }.ToJsonString());
        var next = await stream.NextAsync(e => e.Data["winning_bid"]!.GetValue<decimal>() > 0);
        Assert.Equal(12m, next.Data["winning_bid"]!.GetValue<decimal>());
        Assert.Equal(fixture.Bidder.Id.ToString(), next.Data["winning_user_id"]!.GetValue<string>());
        // The automatic maximum is its bidder's secret: never on the stream.
        Assert.Null(next.Data["leader_max"]);
        Assert.DoesNotContain(next.Data, field => field.Value is JsonValue value && value.TryGetValue<decimal>(out var amount) && amount == 40m);
    }

    [Fact]
    public async Task A_client_that_reconnects_with_Last_Event_ID_gets_the_events_it_missed()
    {
        using var seller = await fixture.App.RegisterAsync("seller");
        var item = await CreateItemAsync(seller);
        string lastId;
        using (var stream = await SseStream.OpenAsync(Api(), "/items/live"))
        {
            await BidAndWaitAsync(item, 10m);
            lastId = (await stream.NextAsync(e => e.Data["item_id"]?.GetValue<string>() == item)).Id;
        }

        // Missed while away.
        await BidAndWaitAsync(item, 11m);
        await BidAndWaitAsync(item, 12m);

        using var resumed = await SseStream.OpenAsync(Api(), "/items/live", lastId);
        var missed = new List<decimal>();
        while (missed.Count < 2)
        {
            missed.Add((await resumed.NextAsync(e => e.Data["item_id"]?.GetValue<string>() == item)).Data["winning_bid"]!.GetValue<decimal>());
        }

        Assert.Equal([11m, 12m], missed);

        // An id this server does not know (another replica's, or from before a restart): told to reload.
        using var foreign = await SseStream.OpenAsync(Api(), "/items/live", "0123456789ab.7");
        Assert.Equal("reset", (await foreign.NextAsync()).Type);
    }

    [Fact]
    [Trait("Category", "Fault")]
    public async Task The_stream_goes_on_after_the_broker_was_down()
    {
        using var seller = await fixture.App.RegisterAsync("seller");
        var item = await CreateItemAsync(seller);
        using var stream = await SseStream.OpenAsync(Api(), $"/items/{item}/live");
        await stream.NextAsync();
        await BidAndWaitAsync(item, 10m);
        await stream.NextAsync(e => e.Data["winning_bid"]!.GetValue<decimal>() == 10m);

        var cluster = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<EmbeddedKafkaResource>().Single().Cluster!;
        cluster.SetBrokerDown();
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        cluster.SetBrokerUp();

        await BidAndWaitAsync(item, 20m);
        var after = await stream.NextAsync(e => e.Data["winning_bid"]!.GetValue<decimal>() == 20m);
        Assert.Equal("open", after.Data["status"]!.GetValue<string>());
        await fixture.WaitHealthyAsync();
    }

    [Fact]
    public async Task An_idle_items_stream_gets_heartbeats_and_stays_open()
    {
        // The suite's apps beat every second (Accounts.AppSettings), passed on by the AppHost.
        Assert.Contains(fixture.State("api").Snapshot.EnvironmentVariables, v => v is { Name: "Bidder__Live__Heartbeat", Value: "00:00:01" });
        using var seller = await fixture.App.RegisterAsync("seller");
        var item = await CreateItemAsync(seller);
        using var stream = await SseStream.OpenAsync(Api(), $"/items/{item}/live");

        Assert.Equal("item", (await stream.NextAsync()).Type);
        // Nobody bids on it: the stream is kept alive by comments, one after another.
        Assert.Equal("heartbeat", await stream.NextCommentAsync());
        Assert.Equal("heartbeat", await stream.NextCommentAsync());
    }

    [Fact]
    public async Task A_quiet_items_stream_gets_heartbeats_while_other_items_change()
    {
        using var seller = await fixture.App.RegisterAsync("seller");
        var quiet = await CreateItemAsync(seller);
        var busy = await CreateItemAsync(seller);
        using var stream = await SseStream.OpenAsync(Api(), $"/items/{quiet}/live");
        Assert.Equal("item", (await stream.NextAsync()).Type);

        // Another item changes several times a heartbeat (1 s here) for as long as this stream waits: the events the
        // stream hears and does not write must not count as its own, or it never gets its comment while they come.
        var heartbeat = stream.NextCommentAsync();
        var bids = 0;
        while (!heartbeat.IsCompleted && bids < 40)
        {
            using var response = await fixture.Bidder.Api.PostJsonAsync("/events/", new JsonObject { ["item_id"] = busy, ["value"] = 10 + bids++ }.ToJsonString());
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            await Task.WhenAny(heartbeat, Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken));
        }

        Assert.True(heartbeat.IsCompleted, $"no heartbeat on the quiet stream while {bids} bids changed another item");
        Assert.Equal("heartbeat", await heartbeat);
        var busyItem = await fixture.Bidder.Api.GetObjectAsync($"/items/{busy}");
        Assert.True(busyItem["bids"]!.GetValue<long>() > 0, "the other item's bids were not processed: nothing changed meanwhile");
    }

    [Fact]
    public async Task A_close_comes_as_the_auctions_record()
    {
        using var seller = await fixture.App.RegisterAsync("seller");
        var item = await CreateItemAsync(seller, DateTimeOffset.UtcNow.AddSeconds(4));
        using var stream = await SseStream.OpenAsync(Api(), $"/items/{item}/live");
        Assert.Equal("item", (await stream.NextAsync()).Type);
        await BidAndWaitAsync(item, 7m);

        var closed = await stream.NextAsync(e => e.Type == "closed");
        var stored = await fixture.Bidder.Api.GetObjectAsync($"/items/{item}");
        var bid = Assert.Single((await fixture.Bidder.Api.GetObjectAsync($"/items/{item}/bids"))["items"]!.AsArray())!;

        // The record the auctions topic carries, field for field (README, Closing), as the item reads after its close.
        Assert.Equal(["bids", "closed_at", "item_id", "result", "seller_id", "winning_bid", "winning_bid_id", "winning_user_id"],
            closed.Data.Select(field => field.Key).Order(StringComparer.Ordinal));
        Assert.Equal(item, closed.Data["item_id"]!.GetValue<string>());
        Assert.Equal("sold", closed.Data["result"]!.GetValue<string>());
        Assert.Equal(7m, closed.Data["winning_bid"]!.GetValue<decimal>());
        Assert.Equal(fixture.Bidder.Id.ToString(), closed.Data["winning_user_id"]!.GetValue<string>());
        Assert.Equal(bid["id"]!.GetValue<string>(), closed.Data["winning_bid_id"]!.GetValue<string>());
        Assert.Equal(seller.Id.ToString(), closed.Data["seller_id"]!.GetValue<string>());
        Assert.Equal(1, closed.Data["bids"]!.GetValue<long>());
        Assert.Equal(DateTimeOffset.Parse(stored["closed_at"]!.GetValue<string>()), DateTimeOffset.Parse(closed.Data["closed_at"]!.GetValue<string>()));
    }

    [Fact]
    public async Task An_unknown_item_has_no_stream()
    {
        using var response = await Api().GetAsync($"/items/{Guid.CreateVersion7()}/live", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var bad = await Api().GetAsync("/items/not-an-id/live", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    /// <summary>A client without resilience handlers: a stream is read for as long as the test needs it.</summary>
    private HttpClient Api() => new() { BaseAddress = fixture.App.GetEndpoint("api", "http"), Timeout = Timeout.InfiniteTimeSpan };

    internal static async Task<string> CreateItemAsync(SignedIn seller, DateTimeOffset? end = null)
    {
        using var response = await seller.Api.PostAsJsonAsync("/items/", new Dictionary<string, object>
        {
            ["name"] = "live lot", ["init_bid"] = 5, ["bidding_enddate"] = (end ?? DateTimeOffset.UtcNow.AddDays(1)).ToString("O"),
        }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.ReadObjectAsync()).Id();
    }

    /// <summary>Posts a bid as the suite's bidder (retrying while Kafka cannot take it) and waits until it is processed.</summary>
    private Task BidAndWaitAsync(string item, decimal value) => BidAndWaitAsync(fixture.Bidder, item, value);

    /// <summary>Posts a bid (retrying while Kafka cannot take it) and waits until it is processed.</summary>
    internal static async Task BidAndWaitAsync(SignedIn bidder, string item, decimal value)
    {
        var bid = await Eventually.WaitAsync(async () =>
        {
            using var response = await bidder.Api.PostJsonAsync("/events/", new JsonObject { ["item_id"] = item, ["value"] = value }.ToJsonString());
            return response.StatusCode == HttpStatusCode.Accepted ? (await response.ReadObjectAsync()).Id() : null;
        }, id => id is not null, "the API to take the bid");
        await Eventually.WaitAsync(async () =>
        {
            using var response = await bidder.Api.GetAsync($"/events/{bid}", TestContext.Current.CancellationToken);
            return response.StatusCode;
        }, status => status == HttpStatusCode.OK, $"bid {bid} to be processed");
    }
}

/// <summary>Reads a text/event-stream response event by event, as a browser's EventSource does.</summary>
internal sealed class SseStream : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseStream(HttpResponseMessage response, StreamReader reader) => (_response, _reader) = (response, reader);

    public sealed record Event(string Id, string Type, JsonObject Data, string Raw);

    public static async Task<SseStream> OpenAsync(HttpClient client, string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseStream(response, new StreamReader(await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken)));
    }

    /// <summary>The next event (comments and the retry line skipped) that <paramref name="wanted"/> accepts.</summary>
    public async Task<Event> NextAsync(Func<Event, bool>? wanted = null)
    {
        var deadline = HangGuard.Token;
        while (true)
        {
            if (await ReadBlockAsync(deadline) is { Data: { } data } block)
            {
                var e = new Event(block.Id ?? "", block.Type, JsonNode.Parse(data)!.AsObject(), data);
                if (wanted is null || wanted(e))
                {
                    return e;
                }
            }
        }
    }

    /// <summary>
    /// The text of the next comment line (<c>: heartbeat</c> reads <c>heartbeat</c>), which an EventSource never
    /// shows; events before it are skipped.
    /// </summary>
    public async Task<string> NextCommentAsync()
    {
        var deadline = HangGuard.Token;
        while (true)
        {
            if ((await ReadBlockAsync(deadline)).Comments is [var comment, ..])
            {
                return comment;
            }
        }
    }

    private sealed record Block(string? Id, string Type, string? Data, IReadOnlyList<string> Comments);

    /// <summary>The lines up to the next blank line: an event's fields, or comments (or the retry field); the stream must not end first.</summary>
    private async Task<Block> ReadBlockAsync(CancellationToken deadline)
    {
        string? id = null, type = "message", data = null;
        var comments = new List<string>();
        string? line;
        while ((line = await _reader.ReadLineAsync(deadline)) is not null && line.Length > 0)
        {
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
            else if (line.StartsWith(':')) comments.Add(line[1..].TrimStart(' '));
        }

        Assert.NotNull(line);
        return new Block(id, type, data, comments);
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}

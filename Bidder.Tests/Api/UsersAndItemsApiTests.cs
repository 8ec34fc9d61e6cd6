using System.Net;
using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Api;

/// <summary>Users and items through HTTP, on the app started from the AppHost (embedded mode).</summary>
[Collection(EmbeddedAppCollection.Name)]
public class UsersAndItemsApiTests(EmbeddedApp fixture)
{
    private readonly HttpClient _http = fixture.Admin.Api;

    [Fact]
    public async Task A_created_user_is_answered_with_201_its_location_and_reads_back_the_same()
    {
        using var response = await _http.PostJsonAsync("/users/", """{"name": "Zoë 🐙 {\"$gt\": \"\"}", "unknown_field": [1, 2]}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.ReadObjectAsync();
        Assert.Equal($"/users/{created.Id()}", response.Headers.Location?.ToString());
        Assert.Equal("Zoë 🐙 {\"$gt\": \"\"}", created["name"]!.GetValue<string>());
        Assert.Equal(0, created["bids"]!.GetValue<long>());
        Assert.Equal(7, Guid.Parse(created.Id()).Version);
        Assert.EndsWith("Z", created["created_date"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(created, await _http.GetObjectAsync($"/users/{created.Id()}")));
    }

    [Fact]
    public async Task A_created_item_has_the_documented_defaults_and_reads_back_the_same()
    {
        var end = DateTimeOffset.UtcNow.AddDays(2);
        using var response = await _http.PostJsonAsync("/items/",
            $$"""{"name": "Lampe ✨", "init_bid": 12.5, "bidding_enddate": "{{end:O}}", "pictures": ["https://example.com/a.png"]}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var item = await response.ReadObjectAsync();
        Assert.Equal($"/items/{item.Id()}", response.Headers.Location?.ToString());
        Assert.Equal("Lampe ✨", item["name"]!.GetValue<string>());
        Assert.Equal(12.5m, item["init_bid"]!.GetValue<decimal>());
        Assert.Equal(0m, item["winning_bid"]!.GetValue<decimal>());
        Assert.Null(item["winning_user_id"]);
        Assert.Equal("EUR", item["currency"]!.GetValue<string>());
        Assert.Equal(["https://example.com/a.png"], item["pictures"]!.AsArray().Select(p => p!.GetValue<string>()));
        Assert.Equal(0, item["bids"]!.GetValue<long>());
        Assert.Equal("open", item["status"]!.GetValue<string>());
        Assert.Equal(end.ToUnixTimeMilliseconds(), DateTimeOffset.Parse(item["bidding_enddate"]!.GetValue<string>()).ToUnixTimeMilliseconds());
        Assert.True(JsonNode.DeepEquals(item, await _http.GetObjectAsync($"/items/{item.Id()}")));
    }

    [Fact]
    public async Task An_item_past_its_end_date_is_listed_as_closed()
    {
        var item = await _http.CreateItemAsync(end: DateTimeOffset.UtcNow.AddSeconds(1));
        var until = DateTimeOffset.UtcNow.AddSeconds(30);
        string status;
        do
        {
            status = (await _http.GetObjectAsync($"/items/{item.Id()}"))["status"]!.GetValue<string>();
        }
        while (status == "open" && DateTimeOffset.UtcNow < until && await Delay());

        Assert.Equal("closed", status);
        Assert.Contains(item.Id(), (await _http.WalkAsync("/items/?status=closed", 100)).Select(i => i.Id()));
        Assert.DoesNotContain(item.Id(), (await _http.WalkAsync("/items/?status=open", 100)).Select(i => i.Id()));
    }

    [Fact]
    public async Task Walking_the_user_pages_returns_every_user_once_newest_first_while_users_are_added()
    {
        var mine = new List<string>();
        for (var i = 0; i < 25; i++)
        {
            mine.Add((await _http.CreateUserAsync($"walker {i}")).Id());
        }

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await _http.CreateUserAsync("concurrent");
            }
        }, TestContext.Current.CancellationToken);
        List<JsonObject> walked;
        try
        {
            walked = await _http.WalkAsync("/users/", limit: 7);
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }

        var ids = walked.Select(u => u.Id()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Every user created before the walk, once, newest first: in the order they were created, even two
        // created within one millisecond (the API's ids rise strictly: TimeOrderedIds).
        Assert.Equal(Enumerable.Reverse(mine), ids.Where(mine.Contains));
        // Newest first: UUIDv7 ids in lower-case hex sort by creation time as ordinal strings.
        Assert.Equal(ids.OrderByDescending(id => id, StringComparer.Ordinal), ids);
    }

    [Fact]
    public async Task A_users_and_an_items_bid_lists_answer_on_the_new_and_the_original_routes()
    {
        var user = await _http.CreateUserAsync();
        var item = await _http.CreateItemAsync();

        foreach (var path in new[] { $"/users/{user.Id()}/bids", $"/users/items/{user.Id()}", $"/items/{item.Id()}/bids", $"/items/bids/{item.Id()}" })
        {
            var page = await _http.GetObjectAsync(path);
            Assert.Empty(page["items"]!.AsArray());
            Assert.Null(page["next_cursor"]);
        }
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(200);
        return true;
    }
}

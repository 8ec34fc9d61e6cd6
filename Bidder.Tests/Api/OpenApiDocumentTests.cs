using System.Text.Json.Nodes;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Api;

/// <summary>The OpenAPI document and the Scalar explorer, as a person trying the API would find them.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class OpenApiDocumentTests(EmbeddedApp fixture)
{
    private readonly HttpClient _http = fixture.Admin.Api;

    [Fact]
    public async Task The_document_describes_every_route_with_its_error_responses()
    {
        var document = await _http.GetObjectAsync("/openapi/v1.json");
        // .ci/run lints this copy with a standard OpenAPI linter.
        var copy = Path.Combine(Repository.Root, ".artifacts", "openapi.json");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        await File.WriteAllTextAsync(copy, document.ToJsonString(), TestContext.Current.CancellationToken);

        var paths = document["paths"]!.AsObject();
        string[][] expected =
        [
            ["/users", "post", "201", "400", "401", "403", "413", "415", "503"],
            ["/users", "get", "200", "400", "401", "403", "503"],
            ["/users/{id}", "get", "200", "400", "401", "403", "404", "503"],
            ["/users/{id}/bids", "get", "200", "400", "401", "403", "404", "503"],
            ["/items", "post", "201", "400", "401", "403", "413", "415", "429", "503"],
            ["/items", "get", "200", "400", "429", "503"],
            ["/items/{id}", "get", "200", "400", "404", "429", "503"],
            ["/items/{id}/bids", "get", "200", "400", "404", "429", "503"],
            ["/events", "post", "202", "400", "401", "403", "409", "413", "415", "422", "429", "503"],
            ["/events", "get", "200", "400", "401", "403", "503"],
            ["/events/{id}", "get", "200", "400", "401", "403", "404", "503"],
        ];
        foreach (var route in expected)
        {
            var operation = paths[route[0]]?[route[1]]?.AsObject();
            Assert.True(operation is not null, $"{route[1].ToUpperInvariant()} {route[0]} is missing from the document");
            Assert.Equal(route[2..].Order(), operation!["responses"]!.AsObject().Select(r => r.Key).Order());
            // An operation that answers 401 asks for the bearer token; the public reads ask for nothing.
            var security = operation["security"]?.AsArray().Select(r => string.Join(",", r!.AsObject().Select(s => s.Key))).ToList();
            Assert.Equal(route.Contains("401") ? ["bearer"] : null, security);
        }

        Assert.Equal("bearer", document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>());

        var listItems = paths["/items"]!["get"]!["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>());
        Assert.Equal(["status", "limit", "cursor"], listItems);
        Assert.Equal(["open", "closed"], paths["/items"]!["get"]!["parameters"]![0]!["schema"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal(["name", "init_bid", "bidding_enddate"],
            document["components"]!["schemas"]!["CreateItemRequest"]!["required"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    // Each limit the document states is the one the API enforces: read from the document, then tried at
    // the limit (taken) and one past it (a 400 naming the field). Before the rules were declared once the
    // document stated none of them.
    [Fact]
    public async Task Every_limit_the_document_states_is_the_one_the_api_enforces()
    {
        var schemas = (await _http.GetObjectAsync("/openapi/v1.json"))["components"]!["schemas"]!;
        var user = schemas["CreateUserRequest"]!["properties"]!;
        var item = schemas["CreateItemRequest"]!["properties"]!;
        var bid = schemas["CreateBidRequest"]!["properties"]!;

        var nameMax = user["name"]!["maxLength"]!.GetValue<int>();
        await AssertTakenAsync("/users/", new JsonObject { ["name"] = new string('n', nameMax) });
        await AssertRefusedAsync("/users/", new JsonObject { ["name"] = new string('n', nameMax + 1) }, "name");

        var itemNameMax = item["name"]!["maxLength"]!.GetValue<int>();
        var picturesMax = item["pictures"]!["maxItems"]!.GetValue<int>();
        var pictureMax = item["pictures"]!["items"]!["maxLength"]!.GetValue<int>();
        var minimum = item["init_bid"]!["minimum"]!.GetValue<decimal>();
        var maximum = item["init_bid"]!["maximum"]!.GetValue<decimal>();
        JsonObject Item(Action<JsonObject> change)
        {
            var body = new JsonObject { ["name"] = "lamp", ["init_bid"] = 10m, ["bidding_enddate"] = "2031-01-01T00:00:00Z" };
            change(body);
            return body;
        }

        string Url(int length) => "https://example.com/" + new string('p', length - "https://example.com/".Length);
        await AssertTakenAsync("/items/", Item(b => { b["name"] = new string('i', itemNameMax); b["init_bid"] = minimum; b["currency"] = "USD"; b["pictures"] = new JsonArray([.. Enumerable.Repeat(Url(pictureMax), picturesMax).Select(u => (JsonNode)u)]); }));
        await AssertTakenAsync("/items/", Item(b => b["init_bid"] = maximum));
        await AssertRefusedAsync("/items/", Item(b => b["name"] = new string('i', itemNameMax + 1)), "name");
        await AssertRefusedAsync("/items/", Item(b => b["init_bid"] = minimum - 0.01m), "init_bid");
        await AssertRefusedAsync("/items/", Item(b => b["init_bid"] = maximum + 0.01m), "init_bid");
        Assert.Equal("^[A-Z]{3}$", item["currency"]!["pattern"]!.GetValue<string>());
        await AssertRefusedAsync("/items/", Item(b => b["currency"] = "usd"), "currency");
        await AssertRefusedAsync("/items/", Item(b => b["pictures"] = new JsonArray([.. Enumerable.Repeat("https://example.com/a.png", picturesMax + 1).Select(u => (JsonNode)u)])), "pictures");
        await AssertRefusedAsync("/items/", Item(b => b["pictures"] = new JsonArray(Url(pictureMax + 1))), "pictures[0]");

        var incrementMin = item["bid_increment"]!["minimum"]!.GetValue<decimal>();
        var softCloseMin = item["soft_close_seconds"]!["minimum"]!.GetValue<int>();
        var softCloseMax = item["soft_close_seconds"]!["maximum"]!.GetValue<int>();
        await AssertTakenAsync("/items/", Item(b => { b["bid_increment"] = incrementMin; b["soft_close_seconds"] = softCloseMax; b["reserve_price"] = b["init_bid"]!.GetValue<decimal>(); }));
        await AssertTakenAsync("/items/", Item(b => b["soft_close_seconds"] = softCloseMin));
        await AssertRefusedAsync("/items/", Item(b => b["bid_increment"] = incrementMin - 0.01m), "bid_increment");
        await AssertRefusedAsync("/items/", Item(b => b["soft_close_seconds"] = softCloseMax + 1), "soft_close_seconds");
        await AssertRefusedAsync("/items/", Item(b => b["soft_close_seconds"] = softCloseMin - 1), "soft_close_seconds");
        // The reserve's floor is the item's own starting price (the schema's minimum is only money's).
        await AssertRefusedAsync("/items/", Item(b => b["reserve_price"] = b["init_bid"]!.GetValue<decimal>() - 0.01m), "reserve_price");
        var reserveMax = item["reserve_price"]!["maximum"]!.GetValue<decimal>();
        await AssertTakenAsync("/items/", Item(b => b["reserve_price"] = reserveMax));
        await AssertRefusedAsync("/items/", Item(b => b["reserve_price"] = reserveMax + 0.01m), "reserve_price");

        var clientMax = bid["client"]!["maxLength"]!.GetValue<int>();
        JsonObject Bid(Action<JsonObject> change)
        {
            var body = new JsonObject { ["item_id"] = Guid.CreateVersion7().ToString(), ["value"] = 10m };
            change(body);
            return body;
        }

        await AssertTakenAsync("/events/", Bid(b => b["client"] = new string('c', clientMax)));
        await AssertRefusedAsync("/events/", Bid(b => b["client"] = new string('c', clientMax + 1)), "client");
        await AssertRefusedAsync("/events/", Bid(b => b["value"] = bid["value"]!["maximum"]!.GetValue<decimal>() + 1m), "value");
        await AssertRefusedAsync("/events/", Bid(b => b["value"] = bid["value"]!["minimum"]!.GetValue<decimal>() - 0.01m), "value");

        // A maximum reaches from the bid's own value up to money's ceiling.
        await AssertTakenAsync("/events/", Bid(b => b["max_value"] = b["value"]!.GetValue<decimal>()));
        await AssertTakenAsync("/events/", Bid(b => b["max_value"] = bid["max_value"]!["maximum"]!.GetValue<decimal>()));
        await AssertRefusedAsync("/events/", Bid(b => b["max_value"] = b["value"]!.GetValue<decimal>() - 0.01m), "max_value");
        await AssertRefusedAsync("/events/", Bid(b => b["max_value"] = bid["max_value"]!["maximum"]!.GetValue<decimal>() + 1m), "max_value");
    }

    [Fact]
    public async Task The_document_describes_the_auction_terms_the_listing_order_and_what_is_private()
    {
        var document = await _http.GetObjectAsync("/openapi/v1.json");
        var schemas = document["components"]!["schemas"]!;

        var create = schemas["CreateItemRequest"]!["properties"]!.AsObject();
        Assert.Equal(0.01m, create["bid_increment"]!["minimum"]!.GetValue<decimal>());
        Assert.Equal(0.01m, create["bid_increment"]!["default"]!.GetValue<decimal>());
        Assert.Equal(0, create["soft_close_seconds"]!["minimum"]!.GetValue<int>());
        Assert.Equal(3600, create["soft_close_seconds"]!["maximum"]!.GetValue<int>());
        Assert.Equal(0, create["soft_close_seconds"]!["default"]!.GetValue<int>());
        Assert.Contains("init_bid", Description(create["reserve_price"]));
        Assert.Equal(["name", "init_bid", "bidding_enddate"], schemas["CreateItemRequest"]!["required"]!.AsArray().Select(v => v!.GetValue<string>()));

        var item = schemas["ItemResponse"]!["properties"]!.AsObject();
        foreach (var field in (string[])["bid_increment", "reserve_price", "reserve_met", "soft_close_seconds", "minimum_next_bid", "result", "closed_at"])
        {
            Assert.True(item.ContainsKey(field), $"ItemResponse has no '{field}'");
            Assert.False(string.IsNullOrWhiteSpace(Description(item[field])), $"ItemResponse's '{field}' is not described");
        }

        Assert.Contains("seller", Description(item["reserve_price"]));
        Assert.Equal(["sold", "unsold", "reserve_not_met", null], (item["result"]!["enum"]?.AsArray() ?? []).Select(v => v?.GetValue<string>()));
        Assert.Contains("streamer closes", Description(item["status"]));

        Assert.Contains("max_value", schemas["CreateBidRequest"]!["properties"]!.AsObject().Select(p => p.Key));
        Assert.Equal(0.01m, schemas["CreateBidRequest"]!["properties"]!["max_value"]!["minimum"]!.GetValue<decimal>());
        var bid = schemas["BidResponse"]!["properties"]!.AsObject();
        Assert.Contains("private", Description(bid["max_value"]), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("`outbid`", Description(bid["reason"]));
        Assert.Contains("`outbid`", document["paths"]!["/events/{id}"]!["get"]!["description"]!.GetValue<string>());

        var listItems = document["paths"]!["/items"]!["get"]!;
        Assert.Contains("ending soonest first", listItems["description"]!.GetValue<string>());
        Assert.Contains("latest end first", listItems["description"]!.GetValue<string>());
        Assert.Contains("max_value", document["paths"]!["/items/{id}/bids"]!["get"]!["description"]!.GetValue<string>());
    }

    private static string Description(JsonNode? property) => property?["description"]?.GetValue<string>() ?? "";

    private async Task AssertTakenAsync(string path, JsonObject body)
    {
        using var response = await _http.PostJsonAsync(path, body.ToJsonString());
        Assert.True(response.IsSuccessStatusCode, $"{path} {body.ToJsonString()[..Math.Min(200, body.ToJsonString().Length)]}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task AssertRefusedAsync(string path, JsonObject body, string field)
    {
        using var response = await _http.PostJsonAsync(path, body.ToJsonString());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadObjectAsync())["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"{path}: expected an error for '{field}', got {errors.ToJsonString()}");
    }

    [Fact]
    public async Task The_scalar_explorer_is_served()
    {
        using var response = await _http.GetAsync("/scalar/", TestContext.Current.CancellationToken);

        Assert.True(response.IsSuccessStatusCode);
        var page = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("<title>Bidder API</title>", page);
        Assert.Contains("\"url\":\"openapi/v1.json\"", page);
    }

    [Fact]
    public async Task The_original_systems_docs_route_leads_to_the_explorer()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _http.BaseAddress };
        using var response = await client.GetAsync("/docs", TestContext.Current.CancellationToken);

        Assert.Equal(System.Net.HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/scalar/", response.Headers.Location?.OriginalString);
    }
}

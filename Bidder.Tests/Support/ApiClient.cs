using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Bidder.Tests.Support;

/// <summary>Small helpers to talk to the API as its clients do: JSON in, JSON (or problem+json) out.</summary>
internal static class ApiClient
{
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient http, string path, string json, string contentType = "application/json") =>
        http.PostAsync(path, new StringContent(json, Encoding.UTF8, contentType), TestContext.Current.CancellationToken);

    public static async Task<JsonObject> ReadObjectAsync(this HttpResponseMessage response) =>
        (JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)) as JsonObject)
        ?? throw new InvalidOperationException("The body is not a JSON object.");

    public static async Task<JsonObject> GetObjectAsync(this HttpClient http, string path)
    {
        using var response = await http.GetAsync(path, TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadObjectAsync();
    }

    public static async Task<JsonObject> CreateUserAsync(this HttpClient http, string name = "bidder")
    {
        using var response = await http.PostAsJsonAsync("/users/", new { name }, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.ReadObjectAsync();
    }

    public static async Task<JsonObject> CreateItemAsync(this HttpClient http, decimal initBid = 10m, DateTimeOffset? end = null, string name = "item")
    {
        using var response = await http.PostAsJsonAsync("/items/", new Dictionary<string, object>
        {
            ["name"] = name,
            ["init_bid"] = initBid,
            ["bidding_enddate"] = (end ?? DateTimeOffset.UtcNow.AddDays(1)).ToString("O"),
        }, TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return await response.ReadObjectAsync();
    }

    /// <summary>Follows next_cursor from the first page to the last and returns every record in order.</summary>
    public static async Task<List<JsonObject>> WalkAsync(this HttpClient http, string path, int limit)
    {
        var all = new List<JsonObject>();
        var separator = path.Contains('?') ? '&' : '?';
        string? cursor = null;
        do
        {
            var page = await http.GetObjectAsync($"{path}{separator}limit={limit}{(cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}")}");
            var items = page["items"]!.AsArray();
            Assert.True(items.Count <= limit);
            all.AddRange(items.Select(i => i!.AsObject()));
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        return all;
    }

    public static string Id(this JsonObject record) => record["id"]!.GetValue<string>();
}

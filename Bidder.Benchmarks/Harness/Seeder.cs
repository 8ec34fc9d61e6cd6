using System.Net.Http.Json;
using System.Text.Json;

namespace Bidder.Benchmarks.Harness;

/// <summary>An auction as the benchmark knows it: the item and the starting price its bids build on.</summary>
public sealed record SeededItem(Guid Id, decimal InitBid);

/// <summary>Creates users and items through the API, as its clients do, many at a time.</summary>
public static class Seeder
{
    private const int Concurrency = 32;

    public static async Task<List<Guid>> UsersAsync(HttpClient http, int count, string prefix)
    {
        var users = new Guid[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
            users[i] = await CreateAsync(http, "/users/", new { name = $"{prefix} user {i}" }, ct));
        return [.. users];
    }

    public static async Task<List<SeededItem>> ItemsAsync(HttpClient http, int count, string prefix)
    {
        var items = new SeededItem[count];
        var end = DateTimeOffset.UtcNow.AddDays(7).ToString("O");
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            var initBid = 10m + (i % 50);
            items[i] = new SeededItem(await CreateAsync(http, "/items/", new Dictionary<string, object>
            {
                ["name"] = $"{prefix} item {i}",
                ["init_bid"] = initBid,
                ["bidding_enddate"] = end,
            }, ct), initBid);
        });
        return [.. items];
    }

    private static async Task<Guid> CreateAsync(HttpClient http, string path, object body, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.PostAsJsonAsync(path, body, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
                return json.RootElement.GetProperty("id").GetGuid();
            }

            // A 503 (database busy) is retried as the API asks; anything else is a bug worth stopping for.
            if ((int)response.StatusCode != 503 || attempt == 5)
            {
                throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}

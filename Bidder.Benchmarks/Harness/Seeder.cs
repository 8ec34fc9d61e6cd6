using System.Text.Json;

namespace Bidder.Benchmarks.Harness;

/// <summary>An auction as the benchmark knows it: the item and the starting price its bids build on.</summary>
public sealed record SeededItem(Guid Id, decimal InitBid);

/// <summary>Creates users and items through the API, as its clients do, many at a time.</summary>
public static class Seeder
{
    private const int Concurrency = 32;

    /// <summary>
    /// Users whose bids are written straight to the topic (the pipeline benchmarks): they never call the API, so
    /// the administrator creates them on POST /users/, without an account each (registering hashes a password per
    /// user). Users that bid through the API are registered instead: <see cref="Accounts.RegisterManyAsync"/>.
    /// </summary>
    public static async Task<List<Guid>> UsersAsync(BenchApp app, int count, string prefix)
    {
        var admin = await Accounts.AdminAsync(app);
        var users = new Guid[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
            users[i] = await CreateAsync(app.Http, "/users/", new { name = $"{prefix} user {i}" }, admin, ct));
        return [.. users];
    }

    /// <summary>
    /// Items sold by <paramref name="seller"/> (the caller of POST /items/ is the seller). The seller is an account
    /// of its own that never bids, so no benchmark bid is rejected as <c>own_item</c>.
    /// </summary>
    public static async Task<List<SeededItem>> ItemsAsync(BenchApp app, SignedInUser seller, int count, string prefix)
    {
        var items = new SeededItem[count];
        var end = DateTimeOffset.UtcNow.AddDays(7).ToString("O");
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, ct) =>
        {
            var initBid = 10m + (i % 50);
            items[i] = new SeededItem(await CreateAsync(app.Http, "/items/", new Dictionary<string, object>
            {
                ["name"] = $"{prefix} item {i}",
                ["init_bid"] = initBid,
                ["bidding_enddate"] = end,
            }, seller, ct), initBid);
        });
        return [.. items];
    }

    private static async Task<Guid> CreateAsync(HttpClient http, string path, object body, SignedInUser caller, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(body);
        using var created = await Requests.SendAsync(http, () => Requests.Post(path, json, caller), cancellationToken);
        return created.RootElement.GetProperty("id").GetGuid();
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>
/// p99 time from POST /events/ to the new winning bid being visible in GET /items/{id}, at a steady
/// 1,000 bids/s, against the p99 of a bare produce -> consume round trip at the same rate on the same broker.
/// </summary>
public sealed class FreshnessBenchmark(BenchSizes sizes) : IBenchmark
{
    private const int BidsPerSecond = 1_000;

    // Every 20th bid is watched (50/s): watching each would put 1,000 polling clients on the API under test.
    private const int SampleEvery = 20;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    public string Name => BenchmarkNames.Freshness;

    public string Description => $"{BidsPerSecond:N0} bids/s for {sizes.FreshnessWindow.TotalSeconds} s, every {SampleEvery}th watched, vs a bare produce->consume round trip";

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var roundTrip = await RoundTrip.MeasureAsync(app, BidsPerSecond, sizes.FreshnessWindow);
        var freshness = await FreshnessAsync(app);

        var p99 = Percentiles.Of(freshness, 99);
        var baseline = Percentiles.Of(roundTrip, 99);
        var ratio = p99 / baseline;
        return new BenchResult(Name, ratio, "<=2", ratio <= 2, new Dictionary<string, double>
        {
            ["p99_ms"] = p99,
            ["p50_ms"] = Percentiles.Of(freshness, 50),
            ["roundtrip_p99_ms"] = baseline,
            ["roundtrip_p50_ms"] = Percentiles.Of(roundTrip, 50),
            ["samples"] = freshness.Count,
        }, app.TakeStageReports());
    }

    private async Task<List<double>> FreshnessAsync(BenchApp app)
    {
        // Bidders registered and signed in, each posting with their own token; the seller never bids.
        var seller = await Accounts.RegisterAsync(app, "freshness seller");
        var users = await Accounts.RegisterManyAsync(app, 10, "freshness");
        var items = await Seeder.ItemsAsync(app, seller, 100, "freshness");
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
        app.TakeStageReports();

        var latencies = new ConcurrentBag<double>();
        var failures = 0;
        await OpenLoop.RunAsync(BidsPerSecond, sizes.FreshnessWindow, async k =>
        {
            var item = items[(int)(k % items.Count)];
            var value = 100 + k / items.Count; // above every starting price, and rising: each bid wins
            var bidder = users[(int)(k % users.Count)];
            var started = Stopwatch.GetTimestamp();
            using var request = Requests.Post("/events/", $$"""{"item_id": "{{item.Id}}", "value": {{value}}}""", bidder);
            using var response = await app.Http.SendAsync(request);
            if ((int)response.StatusCode != 202)
            {
                Interlocked.Increment(ref failures);
                return;
            }

            if (k % SampleEvery == 0)
            {
                while (await WinningBidAsync(app.Http, item.Id) < value)
                {
                    await Task.Delay(PollInterval);
                }

                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });

        if (failures > 0)
        {
            Console.WriteLine($"   freshness: {failures} bid(s) were not answered 202");
        }

        return [.. latencies];
    }

    private static async Task<decimal> WinningBidAsync(HttpClient http, Guid item)
    {
        using var response = await http.GetAsync($"/items/{item}");
        if (!response.IsSuccessStatusCode)
        {
            return 0;
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        return json.RootElement.TryGetProperty("winning_bid", out var winning) && winning.ValueKind == JsonValueKind.Number ? winning.GetDecimal() : 0;
    }
}

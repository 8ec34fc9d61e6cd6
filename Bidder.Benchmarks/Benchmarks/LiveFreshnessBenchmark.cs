using System.Collections.Concurrent;
using System.Diagnostics;
using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>
/// The freshness benchmark as a live client sees it: p99 time from POST /events/ to the event that shows the new
/// winning bid on GET /items/{id}/live (Server-Sent Events), at a steady 1,000 bids/s, against the p99 of a bare
/// produce -> consume round trip at the same rate on the same broker.
/// </summary>
public sealed class LiveFreshnessBenchmark(BenchSizes sizes) : IBenchmark
{
    private const int BidsPerSecond = 1_000;
    private const int Items = 100;

    // Every 20th bid is timed, as in the polling benchmark: with 100 items those bids fall on 5 of them, one stream each.
    private const int SampleEvery = 20;

    // Long enough for a stalled pipeline to show as a slow sample rather than a missed one.
    private static readonly TimeSpan EventTimeout = TimeSpan.FromSeconds(30);

    public string Name => BenchmarkNames.FreshnessLive;

    public string Description => $"{BidsPerSecond:N0} bids/s for {sizes.FreshnessWindow.TotalSeconds} s, every {SampleEvery}th timed to its event on GET /items/{{id}}/live ({Items / SampleEvery} streams), vs a bare produce->consume round trip";

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var roundTrip = await RoundTrip.MeasureAsync(app, BidsPerSecond, sizes.FreshnessWindow);
        var (live, missed) = await LiveAsync(app);

        var p99 = Percentiles.Of(live, 99);
        var baseline = Percentiles.Of(roundTrip, 99);
        var ratio = p99 / baseline;
        return new BenchResult(Name, ratio, "<=5", ratio <= 5 && missed == 0, new Dictionary<string, double>
        {
            ["p99_ms"] = p99,
            ["p50_ms"] = Percentiles.Of(live, 50),
            ["roundtrip_p99_ms"] = baseline,
            ["roundtrip_p50_ms"] = Percentiles.Of(roundTrip, 50),
            ["samples"] = live.Count,
            ["missed"] = missed,
        }, app.TakeStageReports());
    }

    private async Task<(List<double> Latencies, int Missed)> LiveAsync(BenchApp app)
    {
        var seller = await Accounts.RegisterAsync(app, "live freshness seller");
        var users = await Accounts.RegisterManyAsync(app, 10, "live freshness");
        var items = await Seeder.ItemsAsync(app, seller, Items, "live freshness");
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(5));
        app.TakeStageReports();

        // Open before the first bid: a stream opened after the POST could only find the new price in its first event, the state it starts with.
        using var http = ItemLiveStream.CreateClient(app);
        var streams = new Dictionary<Guid, ItemLiveStream>();
        try
        {
            foreach (var item in items.Where((_, i) => i % SampleEvery == 0))
            {
                streams[item.Id] = await ItemLiveStream.OpenAsync(http, item.Id, EventTimeout);
            }

            var latencies = new ConcurrentBag<double>();
            var failures = 0;
            var missed = 0;
            await OpenLoop.RunAsync(BidsPerSecond, sizes.FreshnessWindow, async k =>
            {
                var item = items[(int)(k % items.Count)];
                var value = 100 + k / items.Count; // above every starting price, and rising: each bid wins, so each has an event
                var bidder = users[(int)(k % users.Count)];
                var started = Stopwatch.GetTimestamp();
                // Awaited before the POST: the event may come before the 202 does.
                var shown = k % SampleEvery == 0 ? streams[item.Id].ShownAsync(value) : null;
                using var request = Requests.Post("/events/", $$"""{"item_id": "{{item.Id}}", "value": {{value}}}""", bidder);
                using var response = await app.Http.SendAsync(request);
                if ((int)response.StatusCode != 202)
                {
                    Interlocked.Increment(ref failures);
                    return;
                }

                if (shown is not null)
                {
                    try
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(started, await shown.WaitAsync(EventTimeout)).TotalMilliseconds);
                    }
                    catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
                    {
                        if (Interlocked.Increment(ref missed) == 1)
                        {
                            Console.WriteLine($"   {Name}: a bid's event did not come: {ex.Message}");
                        }
                    }
                }
            });

            if (failures > 0)
            {
                Console.WriteLine($"   {Name}: {failures} bid(s) were not answered 202");
            }

            return ([.. latencies], missed);
        }
        finally
        {
            foreach (var stream in streams.Values)
            {
                await stream.DisposeAsync();
            }
        }
    }
}

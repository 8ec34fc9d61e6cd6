using System.Collections.Concurrent;
using System.Diagnostics;
using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>
/// Latency tails at a light, fixed rate: the load tool's mix of item reads, bid posts and item creates, sent in an
/// open loop (each request at its time whatever the earlier ones did), and for each kind the ratio of its p99 to
/// its p50. At a rate far below saturation a request should wait for nothing: a p99 many times the median is time
/// lost to something else (a pause, a lock, a queue), which this figure makes visible whatever the machine's speed.
/// </summary>
public sealed class TailBenchmark(BenchSizes sizes) : IBenchmark
{
    /// <summary>The README's load command's rate: light, a tenth or less of what the API takes here at saturation.</summary>
    public const int Rate = 200;

    private const int Bidders = 20;
    private const int Items = 100;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);

    public string Name => BenchmarkNames.Tail;

    public string Description =>
        $"p99 / p50 of reads, bid POSTs and item creates at {Rate} requests/s (open loop, the load tool's mix), {sizes.FreshnessWindow.TotalSeconds} s";

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var seller = await Accounts.RegisterAsync(app, "tail seller");
        var bidders = await Accounts.RegisterManyAsync(app, Bidders, "tail");
        var items = await Seeder.ItemsAsync(app, seller, Items, "tail");
        long nextValue = 0;

        // The load tool's default mix (bid 72, item reads 20, list 3, create 2, ...) with creates weighted up to 12
        // (bids down to 62) so that their p99 rests on some 700 samples rather than being the second-worst of 120.
        async Task<(string Kind, bool Ok)> SendAsync(long n)
        {
            var item = items[(int)(n % items.Count)].Id;
            var bidder = bidders[(int)(n % bidders.Count)];
            var pick = (int)((n * 7919) % 97);
            return pick switch
            {
                < 62 => ("bid", await StatusAsync(app.Http, Requests.Post("/events/",
                    $$"""{"item_id": "{{item}}", "value": {{10 + Interlocked.Increment(ref nextValue)}}}""", bidder)) == 202),
                < 72 => ("read", await StatusAsync(app.Http, new HttpRequestMessage(HttpMethod.Get, $"/items/{item}")) == 200),
                < 82 => ("read", await StatusAsync(app.Http, new HttpRequestMessage(HttpMethod.Get, $"/items/{item}/bids")) == 200),
                < 85 => ("read", await StatusAsync(app.Http, new HttpRequestMessage(HttpMethod.Get, "/items/?status=open")) == 200),
                _ => ("create", await StatusAsync(app.Http, Requests.Post("/items/",
                    $$"""{"name": "tail {{n}}", "init_bid": 10, "bidding_enddate": "{{DateTimeOffset.UtcNow.AddDays(1):O}}"}""", bidder)) == 201),
            };
        }

        var latencies = new ConcurrentDictionary<string, ConcurrentBag<double>>();
        long failed = 0;
        async Task TimedAsync(long n, bool keep)
        {
            var started = Stopwatch.GetTimestamp();
            var (kind, ok) = await SendAsync(n);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!keep)
            {
                return;
            }

            if (ok)
            {
                latencies.GetOrAdd(kind, _ => []).Add(ms);
            }
            else
            {
                Interlocked.Increment(ref failed);
            }
        }

        await OpenLoop.RunAsync(Rate, WarmUp, n => TimedAsync(n, keep: false));
        await app.WaitCaughtUpAsync(TimeSpan.FromMinutes(2));
        await OpenLoop.RunAsync(Rate, sizes.FreshnessWindow, n => TimedAsync(1_000_000 + n, keep: true));

        var figures = new Dictionary<string, double> { ["rate"] = Rate, ["errors"] = failed };
        var worst = 0.0;
        foreach (var kind in new[] { "read", "bid", "create" })
        {
            var samples = latencies.TryGetValue(kind, out var bag) ? bag.ToList() : [];
            var p50 = Percentiles.Of(samples, 50);
            var p99 = Percentiles.Of(samples, 99);
            figures[$"{kind}_p50_ms"] = Math.Round(p50, 2);
            figures[$"{kind}_p99_ms"] = Math.Round(p99, 2);
            figures[$"{kind}_samples"] = samples.Count;
            worst = Math.Max(worst, p99 / p50);
        }

        return new BenchResult(Name, worst, "<=10", worst <= 10 && failed == 0, figures, app.TakeStageReports());
    }

    private static async Task<int> StatusAsync(HttpClient http, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
            return (int)response.StatusCode;
        }
    }
}

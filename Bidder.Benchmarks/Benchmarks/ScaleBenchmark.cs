using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>
/// Pipeline bids/s with ten times the bids over ten times the items, against the smaller run; and each
/// service's peak memory over the whole benchmark run.
/// </summary>
public sealed class ScaleBenchmark(BenchSizes sizes) : IBenchmark
{
    private const double MemoryLimitMegabytes = 300;

    public string Name => BenchmarkNames.Scale;

    public string Description =>
        $"{sizes.LargeScaleBids:N0} bids over {sizes.LargeScaleItems:N0} items vs {sizes.SmallScaleBids:N0} over {sizes.SmallScaleItems:N0}";

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var users = await Seeder.UsersAsync(app, 1_000, "scale");
        var small = await PipelineRun.RunAsync(app, users,
            await Seeder.ItemsAsync(app, await Accounts.RegisterAsync(app, "scale small seller"), sizes.SmallScaleItems, "scale small"), sizes.SmallScaleBids, withBareConsumer: false);
        // Signed in anew: seeding the large run's items and draining the small run take minutes, tokens last 30.
        var large = await PipelineRun.RunAsync(app, users,
            await Seeder.ItemsAsync(app, await Accounts.RegisterAsync(app, "scale large seller"), sizes.LargeScaleItems, "scale large"), sizes.LargeScaleBids, withBareConsumer: false);

        // The goal is about the bid path's services; the identity service's peak is in the run's JSON report.
        var memory = app.PeakMemoryMegabytes();
        var ratio = large.StreamerPerSecond / small.StreamerPerSecond;
        var met = ratio >= 0.8 && memory["api"] <= MemoryLimitMegabytes && memory["streamer"] <= MemoryLimitMegabytes;
        return new BenchResult(Name, ratio, $">=0.8,peak<={MemoryLimitMegabytes}MB", met, new Dictionary<string, double>
        {
            ["large_bids_per_s"] = large.StreamerPerSecond,
            ["small_bids_per_s"] = small.StreamerPerSecond,
            ["large_streamer_cpu_us_per_bid"] = large.StreamerCpuPerBid.TotalMicroseconds,
            ["small_streamer_cpu_us_per_bid"] = small.StreamerCpuPerBid.TotalMicroseconds,
            ["api_peak_mb"] = memory["api"],
            ["streamer_peak_mb"] = memory["streamer"],
        }, app.TakeStageReports());
    }
}

using Bidder.Benchmarks.Harness;

namespace Bidder.Benchmarks.Benchmarks;

/// <summary>Streamer bids/s through decode, validate, persist, produce and table, against a bare consumer draining the same messages.</summary>
public sealed class PipelineBenchmark(BenchSizes sizes) : IBenchmark
{
    public string Name => BenchmarkNames.Pipeline;

    public string Description => $"{sizes.PipelineBids:N0} bids over {sizes.PipelineItems:N0} items, streamer vs a bare consumer";

    /// <summary>The streamer's bids/s of this run, once measured: the <c>store</c> benchmark's ratio is against it.</summary>
    public double? StreamerPerSecond { get; private set; }

    /// <summary>The streamer's CPU time per bid in the same run, for the store's line to set beside its own.</summary>
    public TimeSpan? StreamerCpuPerBid { get; private set; }

    public async Task<BenchResult> RunAsync(BenchApp app)
    {
        var users = await Seeder.UsersAsync(app, 1_000, "pipeline");
        var items = await Seeder.ItemsAsync(app, await Accounts.RegisterAsync(app, "pipeline seller"), sizes.PipelineItems, "pipeline");
        var run = await PipelineRun.RunAsync(app, users, items, sizes.PipelineBids, withBareConsumer: true);
        StreamerPerSecond = run.StreamerPerSecond;
        StreamerCpuPerBid = run.StreamerCpuPerBid;

        // No goal: a bare consumer does no work per message, so it is the broker's ceiling, not the pipeline's. The
        // pipeline's goal is against the store's own limit (the store benchmark's pipeline-vs-store line, issue 16).
        return BenchResult.Reference(Name, run.StreamerPerSecond / run.BareConsumerPerSecond, new Dictionary<string, double>
        {
            ["bids_per_s"] = run.StreamerPerSecond,
            ["bare_consumer_per_s"] = run.BareConsumerPerSecond,
            ["bids"] = run.Bids,
            ["streamer_cpu_us_per_bid"] = run.StreamerCpuPerBid.TotalMicroseconds,
            ["api_cpu_us_per_bid"] = run.ApiCpuPerBid.TotalMicroseconds,
            ["harness_cpu_us_per_bid"] = run.HarnessCpuPerBid.TotalMicroseconds,
            // The warm-up (PipelineRun): its rounds, and the share of the last one the streamer's compiler was busy.
            ["warm_up_rounds"] = app.WarmUpRounds.Count,
            ["warm_up_last_compiler_share"] = app.WarmUpRounds.LastOrDefault(),
        }, app.TakeStageReports());
    }
}

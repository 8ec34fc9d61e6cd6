using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Bidder.Streamer.Pipeline;

/// <summary>The stages of one batch, in order: where the pipeline's time goes.</summary>
public enum Stage
{
    Poll,
    Decode,
    Lookup,
    Decide,

    /// <summary>The loop waiting for the previous batch's write (persist and produce run beside the next batch's poll, lookups and decisions).</summary>
    Wait,
    Persist,
    Produce,
    Table,
    Commit,

    /// <summary>Closing ended auctions, between batches (not part of a batch's time).</summary>
    Close,
}

/// <summary>
/// Time spent per stage: a histogram (<c>bidder.pipeline.stage.duration</c>, tag <c>stage</c>) for the
/// dashboard, and every <see cref="ReportInterval"/> with work done a log line with each stage's share of
/// the time and the throughput, so "where does the time go" is answered from the logs of a running
/// streamer (the benchmark quotes these lines).
/// </summary>
public sealed partial class PipelineStages
{
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);

    private readonly Histogram<double> _duration;
    private readonly ILogger<PipelineStages> _logger;
    private readonly long[] _ticks = new long[Enum.GetValues<Stage>().Length];
    private long _intervalStart = Stopwatch.GetTimestamp();
    private long _batches;
    private long _bids;

    public PipelineStages(IMeterFactory meters, ILogger<PipelineStages> logger)
    {
        _duration = meters.Create(StreamerMetrics.MeterName)
            .CreateHistogram("bidder.pipeline.stage.duration", "s", "Time per batch in each pipeline stage.",
                advice: StreamerMetrics.SecondsBuckets);
        _logger = logger;
    }

    /// <summary>Times a stage until disposed: <c>using (stages.Time(Stage.Persist)) { ... }</c>.</summary>
    public StageTimer Time(Stage stage) => new(this, stage, Stopwatch.GetTimestamp());

    private void Add(Stage stage, long elapsed)
    {
        Interlocked.Add(ref _ticks[(int)stage], elapsed);
        _duration.Record((double)elapsed / Stopwatch.Frequency, new KeyValuePair<string, object?>("stage", StageName(stage)));
    }

    public readonly struct StageTimer(PipelineStages stages, Stage stage, long start) : IDisposable
    {
        public void Dispose() => stages.Add(stage, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>Counts a finished batch, and logs the shares when the interval is over.</summary>
    public void Completed(int bids)
    {
        _batches++;
        _bids += bids;
        var now = Stopwatch.GetTimestamp();
        var interval = Stopwatch.GetElapsedTime(_intervalStart, now);
        if (interval < ReportInterval)
        {
            return;
        }

        var total = Math.Max(1, now - _intervalStart);
        var shares = string.Join(", ", Enum.GetValues<Stage>().Select(stage =>
            $"{StageName(stage)} {100.0 * Interlocked.Exchange(ref _ticks[(int)stage], 0) / total:0}%"));
        LogStages(interval.TotalSeconds, _batches, _bids, _bids / interval.TotalSeconds, shares);
        (_intervalStart, _batches, _bids) = (now, 0, 0);
    }

    private static string StageName(Stage stage) => stage.ToString().ToLowerInvariant();

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Pipeline stages over {Seconds:0.0} s: {Batches} batches, {Bids} bids ({Rate:0}/s); time share: {Shares}")]
    private partial void LogStages(double seconds, long batches, long bids, double rate, string shares);
}

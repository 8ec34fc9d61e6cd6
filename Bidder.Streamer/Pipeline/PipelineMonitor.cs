namespace Bidder.Streamer.Pipeline;

/// <summary>
/// What the pipeline tells about itself, together: its health (for <c>/health</c>), its counters and
/// histograms (for the dashboard) and where its time goes (stage shares in the logs).
/// </summary>
public sealed record PipelineMonitor(PipelineHealth Health, StreamerMetrics Metrics, PipelineStages Stages);

using System.Diagnostics.Metrics;

namespace Bidder.Streamer.Pipeline;

/// <summary>The pipeline's instruments (meter "Bidder.Streamer").</summary>
public sealed class StreamerMetrics
{
    public const string MeterName = "Bidder.Streamer";

    /// <summary>
    /// Bucket boundaries for durations in seconds, from a tenth of a millisecond to a minute. The SDK's
    /// defaults (0, 5, 10, 25 ... meant for milliseconds) put every sub-second value in one bucket, which
    /// leaves the dashboard's percentiles meaningless.
    /// </summary>
    public static readonly InstrumentAdvice<double> SecondsBuckets = new()
    {
        HistogramBucketBoundaries = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

    private readonly Counter<long> _consumed;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _lost;
    private readonly Counter<long> _closed;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _delay;

    public StreamerMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _consumed = meter.CreateCounter<long>("bidder.bids.consumed", "{bid}", "Messages read from the bids topic.");
        _accepted = meter.CreateCounter<long>("bidder.bids.accepted", "{bid}", "Bids accepted: each became its item's winning bid.");
        _rejected = meter.CreateCounter<long>("bidder.bids.rejected", "{bid}", "Bids rejected, by reason.");
        _replayed = meter.CreateCounter<long>("bidder.bids.replayed", "{bid}", "Bids seen again after a crash or rebalance, and not counted twice.");
        _lost = meter.CreateCounter<long>("bidder.bids.lost", "{bid}", "Bids deleted by the broker's retention before the streamer reached them.");
        _closed = meter.CreateCounter<long>("bidder.auctions.closed", "{auction}", "Auctions closed, by result.");
        _batchSize = meter.CreateHistogram<int>("bidder.pipeline.batch.size", "{bid}", "Bids per processed batch.");
        _delay = meter.CreateHistogram("bidder.bids.end_to_end.delay", "s", "From bid_date (the API took the bid) to the batch being durable.",
            advice: SecondsBuckets);
    }

    public void Lost(long count) => _lost.Add(count);

    public void Closed(string result) => _closed.Add(1, new KeyValuePair<string, object?>("result", result));

    public void SetAside(int consumed)
    {
        _consumed.Add(consumed);
        _rejected.Add(consumed, new KeyValuePair<string, object?>("reason", Bidder.Domain.RejectReason.Unprocessable));
    }

    public void Record(BatchOutcome outcome, int consumed, IEnumerable<DateTimeOffset> bidDates, DateTimeOffset done)
    {
        _consumed.Add(consumed);
        _batchSize.Record(consumed);
        _accepted.Add(outcome.Accepted);
        _replayed.Add(outcome.Replayed);
        foreach (var (reason, count) in outcome.RejectedByReason)
        {
            _rejected.Add(count, new KeyValuePair<string, object?>("reason", reason));
        }

        foreach (var bidDate in bidDates)
        {
            _delay.Record((done - bidDate).TotalSeconds);
        }
    }
}

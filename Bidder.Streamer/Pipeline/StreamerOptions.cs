using System.ComponentModel.DataAnnotations;
using Bidder.Domain;

namespace Bidder.Streamer.Pipeline;

/// <summary>The pipeline's settings, bound from <c>Bidder:Streamer</c> and validated at start-up.</summary>
public sealed class StreamerOptions
{
    public const string SectionName = "Bidder:Streamer";

    /// <summary>
    /// The farthest a bid's <c>bid_date</c> may be from its message's Kafka timestamp. The API sets both to
    /// the same instant, so a bid beyond this was forged or broken and is rejected as malformed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>At most this many bids per batch: one database transaction and one produce burst each.</summary>
    [Range(1, 50_000)]
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>How long a poll waits for the first bid of a batch.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan PollTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// While lagging (each poll finds a full batch), written batches' offsets are committed at most this often: a
    /// commit is a round trip to the broker, which the loop waited for after every batch. Offsets not committed
    /// yet are committed as soon as the streamer catches up, before its partitions move and when it stops; after
    /// a crash their bids are replayed, which changes nothing (each bid is recorded once).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first retry delay after a failed batch; it doubles up to <see cref="MaxRetryDelay"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the streamer looks for auctions that have ended (also when no bid comes).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan CloseInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long after its end an auction waits before it is closed, and how far the streamer's partition must
    /// have got past the end: time for a bid the API took just before the end to reach the bids topic.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan CloseGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The health check turns Unhealthy when batches have been failing for this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan UnhealthyAfter { get; set; } = TimeSpan.FromSeconds(10);
}

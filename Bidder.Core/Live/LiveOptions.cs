using System.ComponentModel.DataAnnotations;

namespace Bidder.Core.Live;

/// <summary>The live streams' settings, bound from <c>Bidder:Live</c> and validated at start-up.</summary>
public sealed class LiveOptions
{
    public const string SectionName = "Bidder:Live";

    /// <summary>How many events a subscriber may fall behind before it is dropped.</summary>
    [Range(1, 1_000_000)]
    public int SubscriberBuffer { get; set; } = 1000;

    /// <summary>How many recent events are kept for clients that reconnect with Last-Event-ID.</summary>
    [Range(1, 1_000_000)]
    public int ReplayEvents { get; set; } = 10_000;

    /// <summary>
    /// How long this API process goes on reading the live topics after its last subscriber left. While nobody
    /// follows a stream it reads nothing: under bid load it would otherwise take every item change off the broker
    /// for no one. The next subscriber waits until it reads again, from the topics' ends, and a Last-Event-ID from
    /// before that gap gets <c>event: reset</c> (reload the current state).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan FeedIdleAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle stream gets a comment line, so proxies do not close it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan Heartbeat { get; set; } = TimeSpan.FromSeconds(15);
}

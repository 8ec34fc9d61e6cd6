using System.ComponentModel.DataAnnotations;

namespace Bidder.Core.Kafka;

/// <summary>
/// The application's topics, bound from <c>Bidder:Topics</c>. The AppHost reads the same section to
/// create them on the embedded broker and passes it on to both services, so all three agree.
/// </summary>
public sealed class KafkaTopicsOptions
{
    public const string SectionName = "Bidder:Topics";

    /// <summary>Posted bids, produced by the API, keyed by item id.</summary>
    [Required]
    public TopicOptions Bids { get; set; } = new() { Name = "bids", Partitions = 8 };

    /// <summary>Rejected bids with their reason, keyed by item id, for other backends to consume.</summary>
    [Required]
    public TopicOptions InvalidBids { get; set; } = new() { Name = "invalid-bids", Partitions = 8 };

    /// <summary>Changelog of the per-item winning-bid table; co-partitioned with <see cref="Bids"/>.</summary>
    [Required]
    public TopicOptions ItemChangelog { get; set; } = new() { Name = "item-changelog", Partitions = 8, Compacted = true };

    /// <summary>
    /// One record per closed auction (key: the item id) with its result and winner, for other backends to
    /// consume. Compacted: a record sent again after a crash is the same record, and compaction keeps one.
    /// </summary>
    [Required]
    public TopicOptions Auctions { get; set; } = new() { Name = "auctions", Partitions = 8, Compacted = true };

    public IEnumerable<TopicOptions> All => [Bids, InvalidBids, ItemChangelog, Auctions];
}

public sealed class TopicOptions
{
    [Required, RegularExpression("^[a-zA-Z0-9._-]{1,249}$")]
    public string Name { get; set; } = "";

    [Range(1, 1000)]
    public int Partitions { get; set; } = 1;

    /// <summary>Log-compacted where the cluster supports it (containers and external modes).</summary>
    public bool Compacted { get; set; }
}

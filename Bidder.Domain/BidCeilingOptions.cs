using System.ComponentModel.DataAnnotations;

namespace Bidder.Domain;

/// <summary>
/// The highest bid the house takes, <c>Bidder:Streamer:MaxBidValue</c>: one setting, bound by the streamer (its
/// <see cref="BidRules"/> reject a bid above it, <c>value_too_high</c>) and by the API (it refuses an item whose starting
/// price or reserve lies above it, since no bid could ever buy it); the AppHost passes it on to both.
/// </summary>
public sealed class BidCeilingOptions
{
    public const string SectionName = "Bidder:Streamer";

    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public decimal MaxBidValue { get; set; } = BidRules.DefaultMaxBidValue;
}

using System.ComponentModel.DataAnnotations;
using Bidder.Domain;

namespace Bidder.Api.Requests;

/// <summary>
/// The highest bid the house takes: the streamer's <c>Bidder:Streamer:MaxBidValue</c>, which the AppHost passes on to
/// the API as well (one setting for both). The streamer rejects a bid above it (<c>value_too_high</c>); the API refuses
/// an item whose starting price or reserve lies above it, since no bid could ever buy it.
/// </summary>
public sealed class BidCeilingOptions
{
    public const string SectionName = "Bidder:Streamer";

    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public decimal MaxBidValue { get; set; } = BidRules.DefaultMaxBidValue;
}

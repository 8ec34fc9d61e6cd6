using System.Text.Json.Serialization;

namespace Bidder.LoadTest.Api;

// Only the fields the tool reads or sends, in the API's snake_case (see BidderJsonContext). They are
// declared here, not shared with Bidder.Api, so that the tool depends on the wire format alone.

internal readonly record struct CreateUserBody(string Name);

internal readonly record struct CreateItemBody(string Name, decimal InitBid, string Currency, string[]? Pictures, DateTime BiddingEnddate);

internal readonly record struct CreateBidBody(Guid ItemId, Guid UserId, decimal Value, string Client);

internal sealed record UserDto(Guid Id, long Bids);

internal sealed record ItemDto(Guid Id, decimal InitBid, decimal WinningBid, Guid? WinningUserId, long Bids, DateTime BiddingEnddate);

/// <summary>A bid as the API shows it: pending in the 202, then accepted or rejected with a reason.</summary>
internal sealed record BidDto(Guid Id, Guid ItemId, Guid UserId, decimal Value, DateTime BidDate, DateTime? CreatedDate, string Status, string? Reason);

internal sealed record PageDto<T>(List<T> Items, string? NextCursor);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateUserBody))]
[JsonSerializable(typeof(CreateItemBody))]
[JsonSerializable(typeof(CreateBidBody))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(ItemDto))]
[JsonSerializable(typeof(BidDto))]
[JsonSerializable(typeof(PageDto<BidDto>))]
internal sealed partial class BidderJsonContext : JsonSerializerContext;

/// <summary>Money travels as decimals with at most 2 places; the tool keeps it as whole cents.</summary>
internal static class Money
{
    public const long MaxBidCents = 100_000_00;

    public static decimal FromCents(long cents) => cents / 100m;

    public static long ToCents(decimal value) => (long)decimal.Round(value * 100m);

    public static string Format(long cents) => FromCents(cents).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
}

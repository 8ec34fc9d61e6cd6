using System.Text.Json.Serialization;

namespace Bidder.LoadTest.Api;

// Only the fields the tool reads or sends, in the API's snake_case (see BidderJsonContext). They are
// declared here, not shared with Bidder.Api, so that the tool depends on the wire format alone.

internal readonly record struct RegisterBody(string Name, string Email, string Password);

internal readonly record struct CreateItemBody(string Name, decimal InitBid, string Currency, string[]? Pictures, DateTime BiddingEnddate);

/// <summary>No user_id: the API takes the bidder from the token.</summary>
internal readonly record struct CreateBidBody(Guid ItemId, decimal Value, string Client);

/// <summary>The identity service's new account: its id is the Bidder user id.</summary>
internal sealed record AccountDto(Guid Id);

/// <summary>The token endpoint's answer (OAuth 2.0, snake_case like the API).</summary>
internal sealed record TokenDto(string AccessToken, long ExpiresIn, string? RefreshToken);

internal sealed record UserDto(Guid Id, long Bids);

internal sealed record ItemDto(Guid Id, decimal InitBid, decimal WinningBid, Guid? WinningUserId, long Bids, DateTime BiddingEnddate);

/// <summary>A bid as the API shows it: pending in the 202, then accepted or rejected with a reason.</summary>
internal sealed record BidDto(Guid Id, Guid ItemId, Guid UserId, decimal Value, DateTime BidDate, DateTime? CreatedDate, string Status, string? Reason);

internal sealed record PageDto<T>(List<T> Items, string? NextCursor);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RegisterBody))]
[JsonSerializable(typeof(CreateItemBody))]
[JsonSerializable(typeof(CreateBidBody))]
[JsonSerializable(typeof(AccountDto))]
[JsonSerializable(typeof(TokenDto))]
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

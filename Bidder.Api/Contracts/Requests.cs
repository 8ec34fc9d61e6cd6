using System.ComponentModel.DataAnnotations;
using Bidder.Api.Apis;
using Bidder.Domain;

namespace Bidder.Api.Contracts;

// The request bodies, for the OpenAPI document. Each limit is the one constant the handler checks
// (Requests/JsonFields reads the bodies field by field, so every violation names its field): the attributes
// put the same constant into the document's schema (maxLength, minimum, maximum, pattern, maxItems).

public sealed record CreateUserRequest
{
    /// <summary>Stored exactly as sent; no control characters.</summary>
    [StringLength(UsersApi.MaxNameLength, MinimumLength = 1)]
    public required string Name { get; init; }
}

public sealed record CreateItemRequest
{
    /// <summary>Stored exactly as sent; no control characters.</summary>
    [StringLength(ItemsApi.MaxNameLength, MinimumLength = 1)]
    public required string Name { get; init; }

    /// <summary>The starting price: positive, at most 2 decimal places.</summary>
    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public required decimal InitBid { get; init; }

    /// <summary>3 upper-case letters (ISO 4217); EUR when omitted.</summary>
    [RegularExpression(ItemsApi.CurrencyPattern)]
    public string? Currency { get; init; }

    /// <summary>Absolute http(s) URLs.</summary>
    [MaxLength(ItemsApi.MaxPictures)]
    public IReadOnlyList<string>? Pictures { get; init; }

    /// <summary>When bidding closes: ISO-8601, in the future (UTC when no offset is given).</summary>
    public required DateTimeOffset BiddingEnddate { get; init; }
}

public sealed record CreateBidRequest
{
    /// <summary>The item bid on.</summary>
    public required Guid ItemId { get; init; }

    /// <summary>The bidder: the signed-in caller. May be left out; any other user's id is refused (403).</summary>
    public Guid? UserId { get; init; }

    /// <summary>The amount: positive, at most 2 decimal places, in the item's currency.</summary>
    [Range(typeof(decimal), Money.MinValueText, Money.MaxValueText)]
    public required decimal Value { get; init; }

    /// <summary>Where the bid comes from; "web" when omitted. No control characters.</summary>
    [StringLength(TextRules.MaxClientLength, MinimumLength = 1)]
    public string? Client { get; init; }
}

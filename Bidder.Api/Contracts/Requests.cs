namespace Bidder.Api.Contracts;

// The request bodies, for the OpenAPI document. The handlers read them field by field (Requests/JsonFields)
// so that every violation is reported with the field's name.

public sealed record CreateUserRequest
{
    /// <summary>1–100 characters, stored exactly as sent.</summary>
    public required string Name { get; init; }
}

public sealed record CreateItemRequest
{
    /// <summary>1–200 characters, stored exactly as sent.</summary>
    public required string Name { get; init; }

    /// <summary>The starting price: positive, at most 2 decimal places.</summary>
    public required decimal InitBid { get; init; }

    /// <summary>3 upper-case letters (ISO 4217); EUR when omitted.</summary>
    public string? Currency { get; init; }

    /// <summary>Up to 20 absolute http(s) URLs.</summary>
    public IReadOnlyList<string>? Pictures { get; init; }

    /// <summary>When bidding closes: ISO-8601, in the future (UTC when no offset is given).</summary>
    public required DateTimeOffset BiddingEnddate { get; init; }
}

public sealed record CreateBidRequest
{
    /// <summary>The item bid on.</summary>
    public required Guid ItemId { get; init; }

    /// <summary>The bidder.</summary>
    public required Guid UserId { get; init; }

    /// <summary>The amount: positive, at most 2 decimal places, in the item's currency.</summary>
    public required decimal Value { get; init; }

    /// <summary>Where the bid comes from; "web" when omitted.</summary>
    public string? Client { get; init; }
}

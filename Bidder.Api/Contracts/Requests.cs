namespace Bidder.Api.Contracts;

// The request bodies, for the OpenAPI document. The handlers read them field by field (Requests/JsonFields)
// so that every violation is reported with the field's name.

/// <param name="Name">1–100 characters.</param>
public sealed record CreateUserRequest(string Name);

/// <param name="Name">1–200 characters.</param>
/// <param name="InitBid">The starting price: positive, at most 2 decimals.</param>
/// <param name="Currency">3 upper-case letters (ISO 4217); EUR when omitted.</param>
/// <param name="Pictures">Up to 20 absolute http(s) URLs.</param>
/// <param name="BiddingEnddate">When bidding closes (ISO-8601, in the future; UTC when no offset is given).</param>
public sealed record CreateItemRequest(string Name, decimal InitBid, string? Currency, IReadOnlyList<string>? Pictures, DateTimeOffset BiddingEnddate);

/// <param name="ItemId">The item bid on.</param>
/// <param name="UserId">The bidder.</param>
/// <param name="Value">Positive, at most 2 decimals.</param>
/// <param name="Client">Where the bid comes from; "web" when omitted.</param>
public sealed record CreateBidRequest(Guid ItemId, Guid UserId, decimal Value, string? Client);

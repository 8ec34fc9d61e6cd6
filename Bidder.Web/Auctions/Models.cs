using System.Text.Json;
using System.Text.Json.Serialization;
using Bidder.Domain;

namespace Bidder.Web.Auctions;

// The API's JSON as this app reads it (snake_case names, UTC times). Only what the pages show.

public sealed record ItemView(
    Guid Id,
    string Name,
    decimal InitBid,
    decimal WinningBid,
    Guid? WinningUserId,
    string Currency,
    IReadOnlyList<string> Pictures,
    long Bids,
    DateTime BiddingEnddate,
    string Status,
    Guid? SellerId,
    decimal BidIncrement,
    decimal? ReservePrice,
    bool? ReserveMet,
    int SoftCloseSeconds,
    decimal? MinimumNextBid,
    string? Result,
    DateTime? ClosedAt,
    long Version)
{
    [JsonIgnore]
    public bool IsOpen => Status == "open";

    /// <summary>Whether a live event is newer than this state: item events by version; a close record always (it ends the auction).</summary>
    public bool IsOlderThan(LiveItemEvent change) => change.Version > Version || (change.Version == 0 && change.ClosedAt is not null && IsOpen);

    /// <summary>The item after a live event: the event's public state, with the next minimum worked out as the API does.</summary>
    public ItemView With(LiveItemEvent change)
    {
        var open = change.Status == "open";
        var winning = change.WinningUserId is not null;
        return this with
        {
            WinningBid = change.WinningBid,
            WinningUserId = change.WinningUserId,
            Bids = change.Bids,
            BiddingEnddate = change.BiddingEnddate ?? BiddingEnddate,
            Status = change.Status,
            Result = change.Result,
            ClosedAt = change.ClosedAt,
            MinimumNextBid = !open ? null : winning ? change.WinningBid + BidIncrement : InitBid,
            Version = Math.Max(Version, change.Version),
        };
    }
}

public sealed record BidView(
    Guid Id,
    Guid ItemId,
    Guid UserId,
    decimal Value,
    DateTime BidDate,
    string Status,
    string? Reason,
    string? Detail,
    decimal? MaxValue);

public sealed record PageView<T>(IReadOnlyList<T> Items, string? NextCursor);

/// <summary>An <c>event: item</c> or <c>event: closed</c> of the API's live stream.</summary>
public sealed record LiveItemEvent(
    Guid ItemId,
    decimal WinningBid,
    Guid? WinningUserId,
    long Bids,
    long Version,
    DateTime? BiddingEnddate,
    string Status,
    string? Result,
    DateTime? ClosedAt);

/// <summary>What the sell page sends.</summary>
public sealed record NewAuction(
    string Name,
    decimal InitBid,
    string Currency,
    IReadOnlyList<string> Pictures,
    DateTimeOffset BiddingEnddate,
    decimal? BidIncrement,
    decimal? ReservePrice,
    int? SoftCloseSeconds);

internal sealed record NewBid(Guid ItemId, decimal Value, decimal? MaxValue, string Client);

/// <summary>An RFC 9457 problem as the API writes it: its <c>errors</c> name the fields.</summary>
internal sealed record ProblemView(string? Title, string? Detail, int? Status, Dictionary<string, string[]>? Errors);

internal static class WebJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>The words a person reads for a result and a reject reason.</summary>
public static class Words
{
    public static string Result(string? result) => result switch
    {
        AuctionResult.Sold => "Sold",
        AuctionResult.Unsold => "Not sold (no bids)",
        AuctionResult.ReserveNotMet => "Not sold (the reserve price was not met)",
        _ => "Closed",
    };

    public static string Reason(string? reason) => reason switch
    {
        RejectReason.TooLow => "Too low",
        RejectReason.BelowInitBid => "Below the starting price",
        RejectReason.Outbid => "Outbid by another bidder's automatic bid",
        RejectReason.AuctionClosed => "The auction had already ended",
        RejectReason.OwnItem => "Sellers cannot bid on their own items",
        RejectReason.UnknownItem => "This item does not exist",
        RejectReason.UnknownUser => "Your account was not found",
        RejectReason.ValueTooHigh => "Above the highest amount allowed",
        _ => "The bid could not be processed",
    };

    public static string Money(decimal value, string currency) =>
        $"{value.ToString("N2", System.Globalization.CultureInfo.InvariantCulture)} {currency}";
}

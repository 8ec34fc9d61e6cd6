using System.Globalization;
using System.Text.RegularExpressions;
using System.Security.Claims;
using Bidder.Api.Contracts;
using Bidder.Api.Identity;
using Bidder.Api.Requests;
using Bidder.Core.Http;
using Bidder.Domain;
using Bidder.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Bidder.Api.Apis;

public static partial class ItemsApi
{
    public const int MaxNameLength = 200;
    public const int MaxPictures = 20;
    public const int MaxPictureUrlLength = 2048;
    public const string DefaultCurrency = "EUR";
    public const string CurrencyPattern = "^[A-Z]{3}$";

    private const string ReserveVisibility =
        "Anyone may read items, without a token; `reserve_price` is the seller's alone: it is shown when the caller (signed in) " +
        "is the item's seller, and null for everyone else. `reserve_met` is shown to everyone.";

    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/items").WithTags("Items")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPost("/", CreateItem).WithName(nameof(CreateItem)).WithSummary("Create an item (an auction): the caller is its seller")
            .RequireAuthorization().RequireRateLimiting(HttpLimits.Items)
            .Accepts<CreateItemRequest>("application/json")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        // The auction house's window: anyone may look, limited per signed-in caller, or per client address without a token.
        var reads = api.MapGroup("").AllowAnonymous().RequireRateLimiting(HttpLimits.Anonymous);
        reads.MapGet("/", ListItems).WithName(nameof(ListItems))
            .WithSummary("List items (open: ending soonest first; closed: latest end first; all: newest first)")
            .WithDescription("`?status=open`: the auctions still open, the one ending soonest first; `?status=closed`: the closed ones, " +
                "the latest end first; without a status: every item, the newest first. An item is open until the streamer closes it, " +
                "within a few seconds after its `bidding_enddate`. " + ReserveVisibility);
        reads.MapGet("/{id}", GetItem).WithName(nameof(GetItem)).WithSummary("Get an item with its live winning bid")
            .WithDescription(ReserveVisibility)
            .ProducesProblem(StatusCodes.Status404NotFound);
        reads.MapGet("/{id}/bids", ListItemBids).WithName(nameof(ListItemBids)).WithSummary("List an item's accepted bids, highest first")
            .WithDescription("Public: a bid's `max_value` (its bidder's automatic maximum) is never shown here (null).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        // The original system's route for the same listing, kept so its clients keep working.
        reads.MapGet("/bids/{id}", ListItemBids).WithName("ListItemBidsLegacy").WithSummary("List an item's bids (original route)")
            .ExcludeFromDescription();

        return app;
    }

    public static async Task<Results<Created<ItemResponse>, ValidationProblem, ProblemHttpResult>> CreateItem(
        HttpRequest request, ClaimsPrincipal caller, IAuctionStore store, TimeProvider time, IOptions<BidCeilingOptions> ceiling,
        CancellationToken cancellationToken)
    {
        if (caller.UserId() is not { } seller)
        {
            return Problems.Forbidden("The token names no Bidder user (its subject is not a user id).");
        }

        var (body, error) = await JsonBody.ReadAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        using (body)
        {
            var now = time.GetUtcNowMilliseconds();
            var fields = new JsonFields(body!.RootElement);
            var name = fields.RequiredText("name", MaxNameLength);
            var initBid = fields.RequiredMoney("init_bid");
            var currency = fields.OptionalText("currency", 3, DefaultCurrency);
            var pictures = fields.OptionalUrls("pictures", MaxPictures, MaxPictureUrlLength);
            var end = fields.RequiredDateTime("bidding_enddate");
            var increment = fields.OptionalMoney("bid_increment") ?? AuctionTerms.DefaultBidIncrement;
            var reserve = fields.OptionalMoney("reserve_price");
            var softClose = fields.OptionalWholeNumber("soft_close_seconds", 0, AuctionTerms.MaxSoftCloseSeconds, 0);
            fields.Check(currency is null || CurrencyCode().IsMatch(currency), "currency", "must be 3 upper-case letters (ISO 4217), such as EUR.");
            fields.Check(end is null || end > now, "bidding_enddate", "must be in the future.");
            fields.Check(reserve is null || initBid is null || reserve >= initBid, "reserve_price",
                $"must be at least 'init_bid' ({initBid?.ToString("0.00", CultureInfo.InvariantCulture)}).");
            // Terms no bid could meet: the item could never sell (its reserve never be met).
            var maxBid = ceiling.Value.MaxBidValue;
            fields.Check(initBid is null || initBid <= maxBid, "init_bid", AboveCeiling(maxBid));
            fields.Check(reserve is null || reserve <= maxBid, "reserve_price", AboveCeiling(maxBid));
            if (!fields.IsValid)
            {
                return Problems.Invalid(fields.Errors);
            }

            var item = new Item(TimeOrderedIds.Next(now), name!, initBid!.Value, 0m, null, null, currency!, pictures!, 0, now, end!.Value, seller,
                BidIncrement: increment, ReservePrice: reserve, SoftCloseSeconds: softClose!.Value);
            await store.CreateItemAsync(item, cancellationToken);
            return TypedResults.Created($"/items/{item.Id}", ItemResponse.From(item, seller));
        }
    }

    private static string AboveCeiling(decimal maxBid) =>
        $"must be at most {maxBid.ToString("0.00", CultureInfo.InvariantCulture)}, the highest bid this auction house takes.";

    public static async Task<Results<Ok<PageResponse<ItemResponse>>, ValidationProblem>> ListItems(
        [FromQuery] string? status, [AsParameters] PageQuery query, ClaimsPrincipal caller, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseStatus<ItemStatus>(status, out var itemStatus, out var error)
            || !Queries.TryParsePage(query, out var page, out error))
        {
            return error;
        }

        var items = await store.ListItemsAsync(itemStatus, page, cancellationToken);
        var viewer = caller.UserId();
        return TypedResults.Ok(PageResponse<ItemResponse>.From(items, item => ItemResponse.From(item, viewer)));
    }

    public static async Task<Results<Ok<ItemResponse>, ValidationProblem, ProblemHttpResult>> GetItem(
        string id, ClaimsPrincipal caller, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseId(id, out var error, out var itemId))
        {
            return error;
        }

        return await store.GetItemAsync(itemId, cancellationToken) is { } item
            ? TypedResults.Ok(ItemResponse.From(item, caller.UserId()))
            : Problems.NotFound("item", itemId);
    }

    public static async Task<Results<Ok<PageResponse<BidResponse>>, ValidationProblem, ProblemHttpResult>> ListItemBids(
        string id, [AsParameters] PageQuery query, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseId(id, out var error, out var itemId) || !Queries.TryParsePage(query, out var page, out error))
        {
            return error;
        }

        if (await store.GetItemAsync(itemId, cancellationToken) is null)
        {
            return Problems.NotFound("item", itemId);
        }

        var bids = await store.ListItemBidsAsync(itemId, page, cancellationToken);
        return TypedResults.Ok(PageResponse<BidResponse>.From(bids, BidResponse.Public));
    }

    [GeneratedRegex(CurrencyPattern)]
    private static partial Regex CurrencyCode();
}

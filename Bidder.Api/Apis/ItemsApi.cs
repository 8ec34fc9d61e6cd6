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

namespace Bidder.Api.Apis;

public static partial class ItemsApi
{
    public const int MaxNameLength = 200;
    public const int MaxPictures = 20;
    public const int MaxPictureUrlLength = 2048;
    public const string DefaultCurrency = "EUR";
    public const string CurrencyPattern = "^[A-Z]{3}$";

    public static IEndpointRouteBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/items").WithTags("Items")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPost("/", CreateItem).WithName(nameof(CreateItem)).WithSummary("Create an item (an auction): the caller is its seller")
            .RequireAuthorization().RequireRateLimiting(HttpLimits.Items)
            .Accepts<CreateItemRequest>("application/json")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        // The auction house's window: anyone may look, limited per client address.
        var reads = api.MapGroup("").AllowAnonymous().RequireRateLimiting(HttpLimits.Anonymous);
        reads.MapGet("/", ListItems).WithName(nameof(ListItems)).WithSummary("List items, newest first");
        reads.MapGet("/{id}", GetItem).WithName(nameof(GetItem)).WithSummary("Get an item with its live winning bid")
            .ProducesProblem(StatusCodes.Status404NotFound);
        reads.MapGet("/{id}/bids", ListItemBids).WithName(nameof(ListItemBids)).WithSummary("List an item's accepted bids, highest first")
            .ProducesProblem(StatusCodes.Status404NotFound);
        // The original system's route for the same listing, kept so its clients keep working.
        reads.MapGet("/bids/{id}", ListItemBids).WithName("ListItemBidsLegacy").WithSummary("List an item's bids (original route)")
            .ExcludeFromDescription();

        return app;
    }

    public static async Task<Results<Created<ItemResponse>, ValidationProblem, ProblemHttpResult>> CreateItem(
        HttpRequest request, ClaimsPrincipal caller, IAuctionStore store, TimeProvider time, CancellationToken cancellationToken)
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
            fields.Check(currency is null || CurrencyCode().IsMatch(currency), "currency", "must be 3 upper-case letters (ISO 4217), such as EUR.");
            fields.Check(end is null || end > now, "bidding_enddate", "must be in the future.");
            if (!fields.IsValid)
            {
                return Problems.Invalid(fields.Errors);
            }

            var item = new Item(TimeOrderedIds.Next(now), name!, initBid!.Value, 0m, null, null, currency!, pictures!, 0, now, end!.Value, seller);
            await store.CreateItemAsync(item, cancellationToken);
            return TypedResults.Created($"/items/{item.Id}", ItemResponse.From(item, now));
        }
    }

    public static async Task<Results<Ok<PageResponse<ItemResponse>>, ValidationProblem>> ListItems(
        [FromQuery] string? status, [AsParameters] PageQuery query, IAuctionStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseStatus<ItemStatus>(status, out var itemStatus, out var error)
            || !Queries.TryParsePage(query, out var page, out error))
        {
            return error;
        }

        var now = time.GetUtcNow();
        var items = await store.ListItemsAsync(itemStatus, now, page, cancellationToken);
        return TypedResults.Ok(PageResponse<ItemResponse>.From(items, item => ItemResponse.From(item, now)));
    }

    public static async Task<Results<Ok<ItemResponse>, ValidationProblem, ProblemHttpResult>> GetItem(
        string id, IAuctionStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseId(id, out var error, out var itemId))
        {
            return error;
        }

        return await store.GetItemAsync(itemId, cancellationToken) is { } item
            ? TypedResults.Ok(ItemResponse.From(item, time.GetUtcNow()))
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
        return TypedResults.Ok(PageResponse<BidResponse>.From(bids, BidResponse.From));
    }

    [GeneratedRegex(CurrencyPattern)]
    private static partial Regex CurrencyCode();
}

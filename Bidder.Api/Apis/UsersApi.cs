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

public static class UsersApi
{
    public const int MaxNameLength = TextRules.MaxUserNameLength;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/users").WithTags("Users")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        // People register on the identity service (POST /account/register there), which creates their user; this
        // route stays for the original system's clients, for administrators.
        api.MapPost("/", CreateUser).WithName(nameof(CreateUser)).WithSummary("Create a user (administrators)")
            .RequireAuthorization(CallerAuthentication.AdminPolicy)
            .Accepts<CreateUserRequest>("application/json")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/", ListUsers).WithName(nameof(ListUsers)).WithSummary("List users, newest first (administrators)")
            .RequireAuthorization(CallerAuthentication.AdminPolicy);
        api.MapGet("/{id}", GetUser).WithName(nameof(GetUser)).WithSummary("Get a user, with the number of its accepted bids")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id}/bids", ListUserBids).WithName(nameof(ListUserBids))
            .WithSummary("List a user's processed bids, newest first (one's own; administrators: anyone's)")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status404NotFound);
        // The original system's route for the same listing, kept so its clients keep working.
        api.MapGet("/items/{id}", ListUserBids).WithName("ListUserBidsLegacy").WithSummary("List a user's bids (original route)")
            .RequireAuthorization()
            .ExcludeFromDescription();

        return app;
    }

    public static async Task<Results<Created<UserResponse>, ValidationProblem, ProblemHttpResult>> CreateUser(
        HttpRequest request, IAuctionStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        using (body)
        {
            var fields = new JsonFields(body!.RootElement);
            var name = fields.RequiredText("name", MaxNameLength);
            if (!fields.IsValid)
            {
                return Problems.Invalid(fields.Errors);
            }

            var now = time.GetUtcNowMilliseconds();
            var user = new User(TimeOrderedIds.Next(now), name!, 0, now);
            await store.CreateUserAsync(user, cancellationToken);
            return TypedResults.Created($"/users/{user.Id}", UserResponse.From(user));
        }
    }

    public static async Task<Results<Ok<PageResponse<UserResponse>>, ValidationProblem>> ListUsers(
        [AsParameters] PageQuery query, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParsePage(query, out var page, out var error))
        {
            return error;
        }

        var users = await store.ListUsersAsync(page, cancellationToken);
        return TypedResults.Ok(PageResponse<UserResponse>.From(users, UserResponse.From));
    }

    public static async Task<Results<Ok<UserResponse>, ValidationProblem, ProblemHttpResult>> GetUser(
        string id, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseId(id, out var error, out var userId))
        {
            return error;
        }

        return await store.GetUserAsync(userId, cancellationToken) is { } user
            ? TypedResults.Ok(UserResponse.From(user))
            : Problems.NotFound("user", userId);
    }

    public static async Task<Results<Ok<PageResponse<BidResponse>>, ValidationProblem, ProblemHttpResult>> ListUserBids(
        string id, [FromQuery] string? status, [AsParameters] PageQuery query, ClaimsPrincipal caller, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseId(id, out var error, out var userId)
            || !Queries.TryParseStatus<BidStatus>(status, out var bidStatus, out error)
            || !Queries.TryParsePage(query, out var page, out error))
        {
            return error;
        }

        if (caller.UserId() != userId && !caller.IsAdmin())
        {
            return Problems.Forbidden("A user's bids are theirs to see (and administrators').");
        }

        if (await store.GetUserAsync(userId, cancellationToken) is null)
        {
            return Problems.NotFound("user", userId);
        }

        var bids = await store.ListUserBidsAsync(userId, bidStatus, page, cancellationToken);
        return TypedResults.Ok(PageResponse<BidResponse>.From(bids, BidResponse.From));
    }
}

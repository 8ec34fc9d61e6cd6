using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Security.Claims;
using Bidder.Api.Contracts;
using Bidder.Api.Identity;
using Bidder.Api.Kafka;
using Bidder.Api.Requests;
using Bidder.Core.Http;
using Bidder.Domain;
using Bidder.Core.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Bidder.Api.Apis;

/// <summary>
/// Bids ("events" in the original system's routes). Posting one does not touch the bid tables: it goes to
/// Kafka, and the streamer, which owns the bidding rules, records it as accepted or rejected.
/// </summary>
public static partial class EventsApi
{
    public const int MaxClientLength = TextRules.MaxClientLength;
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>Printable ASCII, no spaces: what a key may hold (the check below and the OpenAPI document share it).</summary>
    public const string IdempotencyKeyPattern = "^[!-~]+$";
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    public const string DefaultClient = "web";
    private const int RetryAfterSeconds = 5;
    private const int InFlightRetryAfterSeconds = 1;

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/events").WithTags("Bids")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPost("/", PostBid).WithName(nameof(PostBid))
            .WithSummary("Post a bid for processing: the caller is the bidder")
            .RequireAuthorization().RequireRateLimiting(HttpLimits.Bids)
            .WithDescription("Answers 202 once Kafka holds the bid; GET the Location to see whether the streamer accepted or rejected it. " +
                $"Send an {IdempotencyKeyHeader} header to make retries safe: the same key returns the same bid and posts it only once; " +
                "while another request with the key is still posting it, the answer is 409 with Retry-After. " +
                "With `max_value` the streamer bids for you (automatic bidding): your bid leads at the lowest price that beats the others, " +
                "and rises by itself up to `max_value` as others bid; a bid that an earlier automatic bid already matches is rejected as " +
                $"`{RejectReason.Outbid}`, and raises the leader's price. `max_value` is private: only you (and administrators) read it back.")
            .Accepts<CreateBidRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        api.MapGet("/", ListBids).WithName(nameof(ListBids)).WithSummary("List processed bids, newest first (administrators)")
            .RequireAuthorization(CallerAuthentication.AdminPolicy);
        api.MapGet("/{id}", GetBid).WithName(nameof(GetBid))
            .WithSummary("Get a processed bid: accepted, or rejected with the reason (one's own; administrators: anyone's)")
            .RequireAuthorization()
            .WithDescription("404 while the bid is still being processed, or when no bid has this id. A rejected bid's `reason` is one of " +
                string.Join(", ", RejectReason.All.Select(reason => $"`{reason}`")) + ".")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return app;
    }

    public static async Task<Results<Accepted<BidResponse>, ValidationProblem, ProblemHttpResult>> PostBid(
        HttpRequest request,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        ClaimsPrincipal caller,
        IIdempotencyKeys store,
        BidPublisher publisher,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (caller.UserId() is not { } bidder)
        {
            return Problems.Forbidden("The token names no Bidder user (its subject is not a user id).");
        }

        if (request.Headers[IdempotencyKeyHeader].Count > 1)
        {
            // Two keys are no key: which one a retry would send is anyone's guess (the binder would join them with a comma).
            return Problems.Invalid(IdempotencyKeyHeader, $"Send one '{IdempotencyKeyHeader}' header, not several.");
        }

        if (idempotencyKey is not null && !IsValidIdempotencyKey(idempotencyKey))
        {
            return Problems.Invalid(IdempotencyKeyHeader, $"'{IdempotencyKeyHeader}' must be 1–{MaxIdempotencyKeyLength} visible ASCII characters (no spaces).");
        }

        var (body, error) = await JsonBody.ReadAsync(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        PostedBid bid;
        using (body)
        {
            var fields = new JsonFields(body!.RootElement);
            var itemId = fields.RequiredUuid("item_id");
            var userId = fields.OptionalUuid("user_id") ?? bidder;
            var value = fields.RequiredMoney("value");
            var maxValue = fields.OptionalMoney("max_value");
            var client = fields.OptionalText("client", MaxClientLength, DefaultClient);
            fields.Check(maxValue is null || value is null || maxValue >= value, "max_value",
                $"must be at least 'value' ({value?.ToString("0.00", CultureInfo.InvariantCulture)}).");
            if (!fields.IsValid)
            {
                return Problems.Invalid(fields.Errors);
            }

            if (userId != bidder)
            {
                return Problems.Forbidden("A bid is placed by the signed-in bidder: 'user_id' must be the caller's own id, or be left out.");
            }

            var now = time.GetUtcNowMilliseconds();
            bid = new PostedBid(TimeOrderedIds.Next(now), itemId!.Value, userId, value!.Value, client!, now, maxValue);
        }

        var lease = IdempotencyRecord.Released;
        if (idempotencyKey is not null)
        {
            // Keys are per bidder: one user's key can never meet another's.
            idempotencyKey = $"{bidder:N}:{idempotencyKey}";
            lease = bid.BidDate + IdempotencyRecord.InFlightLease;
            var claimed = await store.ClaimIdempotencyKeyAsync(
                new IdempotencyRecord(idempotencyKey, RequestHash(bid), bid, Produced: false, bid.BidDate, lease), cancellationToken);
            if (claimed.RequestHash != RequestHash(bid))
            {
                return Problems.Create(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused",
                    $"This {IdempotencyKeyHeader} was first used for a different bid; use a new key for a new bid.");
            }

            // A retry gets the first bid back: the first answer if Kafka holds it, else the same bid (same id)
            // is sent now, by this request alone. The streamer also ignores a bid id it has seen.
            if (claimed.Produced)
            {
                return Accepted(claimed.Bid);
            }

            if (claimed.Bid.Id != bid.Id)
            {
                // Another request holds the key while it produces (IETF Idempotency-Key draft: 409): one key, one
                // message. A lease that ran out or was given back after a failure is taken over, by one request only.
                var now = time.GetUtcNowMilliseconds();
                lease = now + IdempotencyRecord.InFlightLease;
                if (claimed.LeaseUntil > now || !await store.RenewIdempotencyLeaseAsync(idempotencyKey, claimed.LeaseUntil, lease, cancellationToken))
                {
                    request.HttpContext.Response.Headers.RetryAfter = InFlightRetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                    return Problems.Create(StatusCodes.Status409Conflict, "Bid in progress",
                        $"A request with this {IdempotencyKeyHeader} is still posting the bid. Retry after the Retry-After delay to get its answer.");
                }

                bid = claimed.Bid;
            }
        }

        var outcome = await publisher.PublishAsync(bid);
        if (outcome != PublishOutcome.Persisted)
        {
            if (idempotencyKey is not null)
            {
                // Give the key back at once, so the client's retry need not wait for the lease to run out.
                await store.RenewIdempotencyLeaseAsync(idempotencyKey, lease, IdempotencyRecord.Released, CancellationToken.None);
            }

            request.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "Bids cannot be taken right now",
                outcome == PublishOutcome.PossiblyPersisted
                    ? $"Kafka did not confirm the bid in time: it may have been taken. Retry after the Retry-After delay with the same {IdempotencyKeyHeader}: the bid will then count once, whether or not it was."
                    : $"Kafka did not take the bid; it was not recorded. Retry after the Retry-After delay (with the same {IdempotencyKeyHeader}).");
        }

        if (idempotencyKey is not null)
        {
            await store.MarkIdempotencyKeyProducedAsync(idempotencyKey, cancellationToken);
        }

        return Accepted(bid);
    }

    public static async Task<Results<Ok<PageResponse<BidResponse>>, ValidationProblem>> ListBids(
        [FromQuery] string? status, [AsParameters] PageQuery query, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseStatus<BidStatus>(status, out var bidStatus, out var error)
            || !Queries.TryParsePage(query, out var page, out error))
        {
            return error;
        }

        var bids = await store.ListBidsAsync(bidStatus, page, cancellationToken);
        return TypedResults.Ok(PageResponse<BidResponse>.From(bids, BidResponse.From));
    }

    public static async Task<Results<Ok<BidResponse>, ValidationProblem, ProblemHttpResult>> GetBid(
        string id, ClaimsPrincipal caller, IAuctionStore store, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseId(id, out var error, out var bidId))
        {
            return error;
        }

        var bid = await store.GetBidAsync(bidId, cancellationToken);
        if (bid is null)
        {
            return Problems.Create(StatusCodes.Status404NotFound, "Not found",
                $"There is no processed bid with id {bidId}: it is unknown, or still being processed.");
        }

        return bid.UserId == caller.UserId() || caller.IsAdmin()
            ? TypedResults.Ok(BidResponse.From(bid))
            : Problems.Forbidden("A bid is its bidder's to see (and administrators').");
    }

    private static Accepted<BidResponse> Accepted(PostedBid bid) => TypedResults.Accepted($"/events/{bid.Id}", BidResponse.Pending(bid));

    private static bool IsValidIdempotencyKey(string key) =>
        key.Length is > 0 and <= MaxIdempotencyKeyLength && IdempotencyKey().IsMatch(key);

    [System.Text.RegularExpressions.GeneratedRegex(IdempotencyKeyPattern)]
    private static partial System.Text.RegularExpressions.Regex IdempotencyKey();

    // What makes two requests "the same bid": not the generated id or date, only what the client sent. The maximum
    // is added only when there is one, so a key taken before automatic bidding existed still matches its retry.
    private static string RequestHash(PostedBid bid) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Create(CultureInfo.InvariantCulture, $"{bid.ItemId:N}|{bid.UserId:N}|{bid.Value:0.00}|{bid.Client}{(bid.MaxValue is { } max ? "|" + max.ToString("0.00", CultureInfo.InvariantCulture) : "")}"))));
}

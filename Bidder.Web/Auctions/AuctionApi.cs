using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bidder.Web.Account;

namespace Bidder.Web.Auctions;

/// <summary>What a call to the API gave: the value, or an error in words a person understands (never the JSON).</summary>
public sealed record ApiResult<T>(T? Value, string? Error, IReadOnlyDictionary<string, string[]> FieldErrors, HttpStatusCode? Status = null)
{
    public bool Succeeded => Error is null;

    public static ApiResult<T> Ok(T value) => new(value, null, Empty);

    public static ApiResult<T> Failed(string error, IReadOnlyDictionary<string, string[]>? fields = null, HttpStatusCode? status = null) =>
        new(default, error, fields ?? Empty, status);

    private static readonly IReadOnlyDictionary<string, string[]> Empty = new Dictionary<string, string[]>();
}

/// <summary>
/// The Bidder API as the web pages use it: the item reads, the live item's bids, a person's own bids, posting a
/// bid and creating an auction. Each call says what went wrong in words; the JSON of a problem never reaches a page.
/// Calls go with the signed-in person's token (<paramref name="tokens"/>, a live page's own), so the API counts
/// each person's reads and writes against their own limits; an anonymous visitor's go in their name (<paramref name="visitor"/>,
/// <see cref="WebCallerProof"/>); without either (<see cref="SharedReads"/>) they are the web app's own.
/// </summary>
public sealed class AuctionApi(HttpClient http, CircuitTokens? tokens = null, CircuitVisitor? visitor = null)
{
    public const int PageSize = 12;

    /// <summary>Where each press of "Place bid" starts its trace, so it reads from the button to the streamer's write.</summary>
    public static readonly ActivitySource Telemetry = new("Bidder.Web");

    public Task<ApiResult<PageView<ItemView>>> ListItemsAsync(string status, string? cursor, CancellationToken cancellationToken) =>
        GetAsync<PageView<ItemView>>($"/items/?status={status}&limit={PageSize}{Cursor(cursor)}", cancellationToken);

    public Task<ApiResult<ItemView>> GetItemAsync(Guid id, CancellationToken cancellationToken) =>
        GetAsync<ItemView>($"/items/{id}", cancellationToken);

    public Task<ApiResult<PageView<BidView>>> ListItemBidsAsync(Guid id, CancellationToken cancellationToken) =>
        GetAsync<PageView<BidView>>($"/items/{id}/bids?limit=20", cancellationToken);

    public Task<ApiResult<PageView<BidView>>> ListUserBidsAsync(Guid userId, string? cursor, CancellationToken cancellationToken) =>
        GetAsync<PageView<BidView>>($"/users/{userId}/bids?limit=20{Cursor(cursor)}", cancellationToken);

    /// <summary>A processed bid; a success with null while the streamer has not decided it yet.</summary>
    public async Task<ApiResult<BidView?>> GetBidAsync(Guid id, CancellationToken cancellationToken)
    {
        var result = await GetAsync<BidView>($"/events/{id}", cancellationToken, notFoundIsEmpty: true);
        return result.Succeeded ? ApiResult<BidView?>.Ok(result.Value) : ApiResult<BidView?>.Failed(result.Error!, status: result.Status);
    }

    public async Task<ApiResult<BidView>> PlaceBidAsync(Guid itemId, decimal value, decimal? maxValue, CancellationToken cancellationToken)
    {
        // A trace of its own: on a live page the ambient activity is the page's WebSocket request, hours long, and
        // every bid made on the page would otherwise land in that one trace. (Only this call's flow is changed.)
        Activity.Current = null;
        using var activity = Telemetry.StartActivity("place bid", ActivityKind.Client);
        activity?.SetTag("bidder.item.id", itemId.ToString());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/events/")
        {
            Content = JsonContent.Create(new NewBid(itemId, value, maxValue, "web"), options: WebJson.Options),
        };
        // The API keeps the bid once per key: a resent request (a retry, a double press) cannot bid twice.
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return await SendAsync<BidView>(request, cancellationToken);
    }

    public async Task<ApiResult<ItemView>> CreateItemAsync(NewAuction auction, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/items/")
        {
            Content = JsonContent.Create(auction, options: WebJson.Options),
        };
        return await SendAsync<ItemView>(request, cancellationToken);
    }

    private static string Cursor(string? cursor) => cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}";

    private async Task<ApiResult<T>> GetAsync<T>(string uri, CancellationToken cancellationToken, bool notFoundIsEmpty = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        return await SendAsync<T>(request, cancellationToken, notFoundIsEmpty);
    }

    private async Task<ApiResult<T>> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken, bool notFoundIsEmpty = false)
    {
        try
        {
            if (tokens is not null && await tokens.AccessTokenAsync(cancellationToken) is { } token)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }

            if (visitor?.Address is { } address)
            {
                // With a token too: the API counts a valid one's person first, and a read whose token has run out
                // (refused, but counted all the same) against its visitor rather than this app.
                request.Options.Set(WebCallerProof.Visitor, address);
            }
            else if (tokens is null && visitor is null)
            {
                // Made for no page (SharedReads): the app's own read. A page whose visitor is not known names nobody.
                request.Options.Set(WebCallerProof.OwnRead, true);
            }

            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                var value = await response.Content.ReadFromJsonAsync<T>(WebJson.Options, cancellationToken);
                return value is null ? ApiResult<T>.Failed(Unavailable) : ApiResult<T>.Ok(value);
            }

            if (notFoundIsEmpty && response.StatusCode == HttpStatusCode.NotFound)
            {
                return ApiResult<T>.Ok(default!);
            }

            return await FailureAsync<T>(response, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The network, a timeout, the resilience handler's open circuit or a body that is not the API's: a page
            // says "try again" rather than failing (only the page's own cancellation, when it closes, is let through).
            return ApiResult<T>.Failed(Unavailable);
        }
    }

    private const string Unavailable = "The auction service cannot be reached right now. Please try again in a moment.";

    private static async Task<ApiResult<T>> FailureAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        ProblemView? problem = null;
        try
        {
            problem = await response.Content.ReadFromJsonAsync<ProblemView>(WebJson.Options, cancellationToken);
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's page, say): the status alone tells what to say.
        }

        var message = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "Your sign-in has expired. Please sign in again.",
            HttpStatusCode.Forbidden => "You are not allowed to do that.",
            HttpStatusCode.NotFound => "It was not found: it may never have existed.",
            HttpStatusCode.TooManyRequests => "Too many requests in a short time. Please wait a moment and try again.",
            HttpStatusCode.BadRequest when problem?.Errors is { Count: > 0 } => "Please correct the highlighted fields.",
            HttpStatusCode.BadRequest or HttpStatusCode.Conflict when problem?.Detail is { Length: > 0 } detail => detail,
            HttpStatusCode.ServiceUnavailable => "Bidding is briefly unavailable. Please try again in a moment.",
            _ when (int)response.StatusCode >= 500 => "Something went wrong on our side. Please try again in a moment.",
            _ => problem?.Detail ?? problem?.Title ?? "The request could not be completed.",
        };
        return ApiResult<T>.Failed(message, problem?.Errors, response.StatusCode);
    }
}

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bidder.LoadTest.Api;

/// <summary>
/// The Bidder HTTP API, as the tool uses it. The routes that need a user take that user's <c>Authorization</c>
/// value (<c>Bearer</c> and its access token), put on the request itself: every user of the run shares the one
/// connection pool. Item reads are public and go without one, as a visitor's would.
/// </summary>
internal sealed class BidderClient(Uri baseUrl, int maxConnections, TimeSpan timeout) : IDisposable
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private readonly ApiConnection _connection = new(baseUrl, maxConnections, timeout);
    private readonly BidderJsonContext _json = BidderJsonContext.Default;

    /// <summary>The seller is the caller.</summary>
    public Task<ApiResponse<ItemDto>> CreateItemAsync(CreateItemBody item, string authorization, CancellationToken cancellationToken, bool readError = false) =>
        SendOwnedAsync(Post("/items/", Json(item, _json.CreateItemBody)), authorization, _json.ItemDto, cancellationToken, readError);

    /// <summary>The bidder is the caller.</summary>
    public Task<ApiResponse<BidDto>> PostBidAsync(CreateBidBody bid, string? idempotencyKey, string authorization, CancellationToken cancellationToken)
    {
        var request = Post("/events/", Json(bid, _json.CreateBidBody));
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);
        }

        return SendOwnedAsync(request, authorization, _json.BidDto, cancellationToken);
    }

    /// <summary>Any signed-in user may read any user.</summary>
    public Task<ApiResponse<UserDto>> GetUserAsync(Guid id, string authorization, CancellationToken cancellationToken) =>
        SendOwnedAsync(Get($"/users/{id}"), authorization, _json.UserDto, cancellationToken);

    public Task<ApiResponse<ItemDto>> GetItemAsync(Guid id, CancellationToken cancellationToken) =>
        SendOwnedAsync(Get($"/items/{id}"), null, _json.ItemDto, cancellationToken);

    /// <summary>A bid is its bidder's to see: <paramref name="authorization"/> must be theirs.</summary>
    public Task<ApiResponse<BidDto>> GetBidAsync(Guid id, string authorization, CancellationToken cancellationToken) =>
        SendOwnedAsync(Get($"/events/{id}"), authorization, _json.BidDto, cancellationToken);

    /// <summary>One page of bids: <c>/items/{id}/bids</c> (public) or <c>/users/{id}/bids</c> (that user's own).</summary>
    public Task<ApiResponse<PageDto<BidDto>>> GetBidPageAsync(string path, string? authorization, CancellationToken cancellationToken) =>
        SendOwnedAsync(Get(path), authorization, _json.PageDtoBidDto, cancellationToken);

    /// <summary>A read whose body only has to arrive: it is not parsed, so the tool's own cost stays out of the latency.</summary>
    public Task<ApiResponse<bool>> GetAsync(string path, string? authorization, CancellationToken cancellationToken) =>
        SendOwnedAsync<bool>(Get(path), authorization, null, cancellationToken);

    public void Dispose() => _connection.Dispose();

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Post(string path, HttpContent content) => new(HttpMethod.Post, path) { Content = content };

    private async Task<ApiResponse<T>> SendOwnedAsync<T>(
        HttpRequestMessage request, string? authorization, JsonTypeInfo<T>? bodyType, CancellationToken cancellationToken, bool readError = false)
    {
        using (request)
        {
            return await _connection.SendAsync(request, authorization, bodyType, readError, cancellationToken);
        }
    }

    private static ByteArrayContent Json<T>(T body, JsonTypeInfo<T> type)
    {
        // SerializeToUtf8Bytes writes through the runtime's pooled writer: the small body array is the only allocation.
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, type));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bidder.LoadTest.Api;

/// <summary>What came back: an HTTP status, or <see cref="ApiStatus.Timeout"/>/<see cref="ApiStatus.NetworkError"/> when nothing did.</summary>
internal readonly record struct ApiResponse<T>(int Status, T? Body, TimeSpan Elapsed, TimeSpan? RetryAfter = null)
{
    public bool Answered => Status >= 100;

    /// <summary>
    /// Whether a write may or may not have happened: no answer, any 5xx (the API's 503 includes "Kafka did not
    /// confirm the bid in time: it may have been taken"), or a 409 (another request with the same
    /// Idempotency-Key is still posting it). Every other 4xx is a clear "not taken".
    /// </summary>
    public bool OutcomeUnknown => !Answered || Status >= 500 || Status == (int)HttpStatusCode.Conflict;
}

internal static class ApiStatus
{
    public const int Timeout = -1;
    public const int NetworkError = -2;
    public const int UnreadableBody = -3;

    public static string Describe(int status) => status switch
    {
        Timeout => "timeout",
        NetworkError => "network error",
        UnreadableBody => "unreadable body",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// The Bidder HTTP API, as the tool uses it. One HttpClient over one SocketsHttpHandler for the whole run, with
/// enough connections for every request in flight, so that connection setup and socket exhaustion never show
/// up as latency. Every call measures from just before sending to the last byte of the response.
/// </summary>
internal sealed class BidderClient : IDisposable
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private readonly HttpClient _http;
    private readonly BidderJsonContext _json = BidderJsonContext.Default;

    public BidderClient(Uri baseUrl, int maxConnections, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            // Long enough to never reconnect mid-run for no reason, short enough to follow DNS changes of a deployment.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = timeout,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        _http = new HttpClient(handler) { BaseAddress = baseUrl, Timeout = timeout };
    }

    public Task<ApiResponse<UserDto>> CreateUserAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/users/", Json(new CreateUserBody(name), _json.CreateUserBody), null, _json.UserDto, cancellationToken);

    public Task<ApiResponse<ItemDto>> CreateItemAsync(CreateItemBody item, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/items/", Json(item, _json.CreateItemBody), null, _json.ItemDto, cancellationToken);

    public Task<ApiResponse<BidDto>> PostBidAsync(CreateBidBody bid, string? idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "/events/", Json(bid, _json.CreateBidBody), idempotencyKey, _json.BidDto, cancellationToken);

    public Task<ApiResponse<UserDto>> GetUserAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"/users/{id}", null, null, _json.UserDto, cancellationToken);

    public Task<ApiResponse<ItemDto>> GetItemAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"/items/{id}", null, null, _json.ItemDto, cancellationToken);

    public Task<ApiResponse<BidDto>> GetBidAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"/events/{id}", null, null, _json.BidDto, cancellationToken);

    /// <summary>One page of bids: <c>/items/{id}/bids</c> or <c>/users/{id}/bids</c>.</summary>
    public Task<ApiResponse<PageDto<BidDto>>> GetBidPageAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, null, _json.PageDtoBidDto, cancellationToken);

    /// <summary>A read whose body only has to arrive: it is not parsed, so the tool's own cost stays out of the latency.</summary>
    public Task<ApiResponse<bool>> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync<bool>(HttpMethod.Get, path, null, null, null, cancellationToken);

    public void Dispose() => _http.Dispose();

    private static ByteArrayContent Json<T>(T body, JsonTypeInfo<T> type)
    {
        // SerializeToUtf8Bytes writes through the runtime's pooled writer: the small body array is the only allocation.
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, type));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        return content;
    }

    private async Task<ApiResponse<T>> SendAsync<T>(
        HttpMethod method, string path, HttpContent? content, string? idempotencyKey, JsonTypeInfo<T>? bodyType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, idempotencyKey);
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            // The whole body is read before SendAsync returns, so the timeout covers it too and the latency ends at
            // its last byte; the bodies are small (a page of 100 bids is about 30 KB).
            using var response = await _http.SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            T? body = default;
            if (response.IsSuccessStatusCode && bodyType is not null)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                body = await JsonSerializer.DeserializeAsync(stream, bodyType, cancellationToken);
            }

            var retryAfter = response.Headers.RetryAfter?.Delta;
            return new ApiResponse<T>(status, body, Stopwatch.GetElapsedTime(started), retryAfter);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient.Timeout surfaces as a cancellation that nobody asked for.
            return new ApiResponse<T>(ApiStatus.Timeout, default, Stopwatch.GetElapsedTime(started));
        }
        catch (JsonException)
        {
            return new ApiResponse<T>(ApiStatus.UnreadableBody, default, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException)
        {
            return new ApiResponse<T>(ApiStatus.NetworkError, default, Stopwatch.GetElapsedTime(started));
        }
    }
}

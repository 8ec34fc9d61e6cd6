using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bidder.LoadTest.Api;

/// <summary>What came back: an HTTP status, or <see cref="ApiStatus.Timeout"/>/<see cref="ApiStatus.NetworkError"/> when nothing did.</summary>
/// <param name="Detail">The start of an error's body, only where the caller asked for it (setup and sign-in failures are reported with it).</param>
internal readonly record struct ApiResponse<T>(int Status, T? Body, TimeSpan Elapsed, TimeSpan? RetryAfter = null, string? Detail = null)
{
    public bool Answered => Status >= 100;

    /// <summary>The server refused the request for its rate limit: it did no work, and says when to come back.</summary>
    public bool RateLimited => Status == (int)HttpStatusCode.TooManyRequests;

    /// <summary>
    /// Whether a write may or may not have happened: no answer, any 5xx (the API's 503 includes "Kafka did not
    /// confirm the bid in time: it may have been taken"), or a 409 (another request with the same
    /// Idempotency-Key is still posting it). Every other 4xx is a clear "not taken", 401 and 429 included:
    /// those are refused before the request is read.
    /// </summary>
    public bool OutcomeUnknown => !Answered || Status >= 500 || Status == (int)HttpStatusCode.Conflict;

    /// <summary>The status, with the error's text when there is one: for messages to people.</summary>
    public string Describe() => Detail is null ? ApiStatus.Describe(Status) : $"{ApiStatus.Describe(Status)}: {Detail}";
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
/// One service's HTTP connection, as the tool uses it. One HttpClient over one SocketsHttpHandler for the whole
/// run, with enough connections for every request in flight, so that connection setup and socket exhaustion never
/// show up as latency. Every call measures from just before sending to the last byte of the response.
/// </summary>
internal sealed class ApiConnection : IDisposable
{
    private const int MaxDetailLength = 300;

    private readonly HttpClient _http;

    public ApiConnection(Uri baseUrl, int maxConnections, TimeSpan timeout)
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

    public Uri BaseUrl => _http.BaseAddress!;

    /// <param name="authorization">The caller's <c>Authorization</c> value, set on this request only: many users share the client.</param>
    /// <param name="readError">Whether to keep the start of an error's body in <see cref="ApiResponse{T}.Detail"/>.</param>
    public async Task<ApiResponse<T>> SendAsync<T>(
        HttpRequestMessage request, string? authorization, JsonTypeInfo<T>? bodyType, bool readError, CancellationToken cancellationToken)
    {
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            // The whole body is read before SendAsync returns, so the timeout covers it too and the latency ends at
            // its last byte; the bodies are small (a page of 100 bids is about 30 KB).
            using var response = await _http.SendAsync(request, cancellationToken);
            var status = (int)response.StatusCode;
            T? body = default;
            string? detail = null;
            if (response.IsSuccessStatusCode && bodyType is not null)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
                body = await JsonSerializer.DeserializeAsync(stream, bodyType, cancellationToken);
            }
            else if (!response.IsSuccessStatusCode && readError)
            {
                var text = (await response.Content.ReadAsStringAsync(cancellationToken)).ReplaceLineEndings(" ").Trim();
                detail = text.Length == 0 ? null : text.Length <= MaxDetailLength ? text : text[..MaxDetailLength] + "…";
            }

            var retryAfter = response.Headers.RetryAfter?.Delta;
            return new ApiResponse<T>(status, body, Stopwatch.GetElapsedTime(started), retryAfter, detail);
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

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// Where the tool needs the answer (setup, sign-in, the end-state check), a 429 is not a result: it waits as long as
/// Retry-After says, and asks again. The load's own requests never come here: their 429s are counted as such.
/// </summary>
internal static class RateLimitRetry
{
    /// <summary>Enough to ride out a minute of refusals at the usual Retry-After of 1 s.</summary>
    public const int MaxAttempts = 60;

    private static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(1);

    /// <param name="attempted">Sees every attempt, refused or not (the load counts its sign-ins).</param>
    public static async Task<ApiResponse<T>> SendAsync<T>(
        Func<CancellationToken, Task<ApiResponse<T>>> send, CancellationToken cancellationToken, Action<ApiResponse<T>>? attempted = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await send(cancellationToken);
            attempted?.Invoke(response);
            if (!response.RateLimited || attempt == MaxAttempts)
            {
                return response;
            }

            // Up to a quarter more than asked, so that the requests refused together do not all come back together.
            var wait = response.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero ? retryAfter : DefaultWait;
            await Task.Delay(wait + wait * (Random.Shared.NextDouble() / 4), cancellationToken);
        }
    }
}

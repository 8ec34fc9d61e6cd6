using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Bidder.Domain;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bidder.Core.Http;

/// <summary>
/// The limits every HTTP service of Bidder enforces on the server, so that no client can flood it or hold its
/// resources: Kestrel's connection and slow-client limits, and token-bucket rate limits per signed-in user (on
/// writes, and on the routes anyone may call when the caller is signed in) and per IP address (on those routes
/// otherwise, and sign-in). A refused request gets 429, a Retry-After and a problem document. Configured under
/// <c>Bidder:RateLimits</c> and <c>Bidder:Http</c>.
/// </summary>
public static class HttpLimits
{
    /// <summary>Per signed-in user: <c>POST /events/</c>.</summary>
    public const string Bids = "bids";

    /// <summary>Per signed-in user: <c>POST /items/</c>.</summary>
    public const string Items = "items";

    /// <summary>
    /// Routes anyone may call: per signed-in user where the request carries a valid token, else per IP address (the
    /// visitor's, where the web app vouches for it: <see cref="WebCallers"/>; the web app's own shared reads in a
    /// bucket of their own, <see cref="RateLimitOptions.Web"/>).
    /// </summary>
    public const string Anonymous = "anonymous";

    /// <summary>Per IP address: the token endpoint and registration, where passwords are tried.</summary>
    public const string SignIn = "sign-in";

    // When a request last made this service warn that a caller's proof did not check out (unix seconds).
    private static long _lastRefusedProofWarning;

    public static WebApplicationBuilder AddHttpLimits(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RateLimitOptions>()
            .Bind(builder.Configuration.GetSection(RateLimitOptions.SectionName))
            .Validate(o => new[] { o.Bids, o.Items, o.Anonymous, o.SignIn, o.Web }.All(b => b is { Burst: > 0, PerSecond: > 0 }),
                $"Every bucket under '{RateLimitOptions.SectionName}' needs Burst and PerSecond of 1 or more.")
            .Validate(o => WebCallers.IsUsableKey(o.WebCallerKey),
                $"'{RateLimitOptions.SectionName}:WebCallerKey' must be {WebCallers.MinKeyLength} characters or more (the AppHost generates it).")
            .ValidateOnStart();
        var http = builder.Configuration.GetSection("Bidder:Http");

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxConcurrentConnections = http.GetValue<long?>("MaxConnections") ?? 10_000;
            // Headers must arrive within 10 s, and a body at 4 KiB/s or more after 5 s: a request body Bidder takes
            // (64 KiB at most) then holds a connection and its buffer for seconds, not the minutes Kestrel's
            // defaults (30 s, 240 bytes/s) allow a slow client.
            kestrel.Limits.RequestHeadersTimeout = http.GetValue<TimeSpan?>("RequestHeadersTimeout") ?? TimeSpan.FromSeconds(10);
            // The body size limit stays Kestrel's (30 MB): no route reads more than 64 KiB (JsonBody answers 413 from
            // the Content-Length, or stops reading), and below Kestrel's limit an oversized upload is drained so the
            // client reads that 413 instead of a reset connection.
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(
                bytesPerSecond: http.GetValue<double?>("MinRequestBodyBytesPerSecond") ?? 4096,
                gracePeriod: TimeSpan.FromSeconds(5));
        });

        var limits = new RateLimitOptions();
        builder.Configuration.GetSection(RateLimitOptions.SectionName).Bind(limits);
        builder.Services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = RejectAsync;
            options.AddPolicy(Bids, context => Partition(SignedIn(context) ?? OwnAddress(context), limits.Bids));
            options.AddPolicy(Items, context => Partition(SignedIn(context) ?? OwnAddress(context), limits.Items));
            // Reads: the web app calls the API from one address for all its visitors, with each signed-in visitor's own
            // token and, for the others, a proof of their address; by its address alone one busy page would use up every
            // visitor's reads.
            options.AddPolicy(Anonymous, context => (SignedIn(context) ?? Caller(context, limits.WebCallerKey)) switch
            {
                WebCallers.Web => Partition(WebCallers.Web, limits.Web),
                var caller => Partition(caller, limits.Anonymous),
            });
            options.AddPolicy(SignIn, context => Partition($"{SignIn}:{Caller(context, limits.WebCallerKey)}", limits.SignIn));
        });
        return builder;
    }

    /// <summary>
    /// The signed-in caller's key (from the token's <c>sub</c>), or null. A write without a user is refused by
    /// authorization anyway, after its limit: counted by the client's address. (Each policy keeps its own partitions:
    /// the same key in two policies is two buckets.)
    /// </summary>
    private static string? SignedIn(HttpContext context) => context.User.FindFirstValue("sub") is { } user ? $"user:{user}" : null;

    private static string OwnAddress(HttpContext context) => WebCallers.Visitor(context.Connection.RemoteIpAddress ?? System.Net.IPAddress.None);

    /// <summary>
    /// The caller the web app vouches for (a visitor's address, or itself) where the request's proof checks out with
    /// this service's key, else the client's own address. Either way the same key for the same address: a visitor who
    /// also calls the API directly has one bucket. One HMAC per request that names a caller.
    /// </summary>
    private static string Caller(HttpContext context, string? key)
    {
        var headers = context.Request.Headers;
        if (headers[WebCallers.CallerHeader] is not [{ } caller] || string.IsNullOrEmpty(key))
        {
            return OwnAddress(context);
        }

        var now = (context.RequestServices.GetService<TimeProvider>() ?? TimeProvider.System).GetUtcNow();
        if (WebCallers.IsCaller(caller) && headers[WebCallers.ProofHeader] is [{ } proof] && WebCallers.Verify(key, caller, proof, now))
        {
            return caller;
        }

        // Most likely the web app and this service hold different keys (or clocks): its visitors then share its
        // address's bucket. Said once a minute at most, since anyone can send the header (and a steady stream of them
        // must not silence it: the minute runs from the last warning, not the last such request).
        var last = Interlocked.Read(ref _lastRefusedProofWarning);
        var seconds = now.ToUnixTimeSeconds();
        if (seconds - last >= 60 && Interlocked.CompareExchange(ref _lastRefusedProofWarning, seconds, last) == last)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(HttpLimits))
                .LogWarning("A request named its caller in {Header} without a valid proof; it is counted by its own address. If it came from the web app, give the web app and this service the same key ({Setting}).",
                    WebCallers.CallerHeader, $"{RateLimitOptions.SectionName}:WebCallerKey");
        }

        return OwnAddress(context);
    }

    private static RateLimitPartition<string> Partition(string key, TokenBucket bucket) =>
        RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = bucket.Burst,
            TokensPerPeriod = bucket.PerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : 1;
        var response = rejected.HttpContext.Response;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await Problems.Create(StatusCodes.Status429TooManyRequests, "Too many requests",
                $"This client sent more requests than its limit allows. Retry after {seconds} s.")
            .ExecuteAsync(rejected.HttpContext);
    }
}

/// <summary><c>Bidder:RateLimits</c>: a token bucket per policy. The defaults are far above what a person does, and below what a script flooding the system does.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Bidder:RateLimits";

    public TokenBucket Bids { get; set; } = new() { Burst = 20, PerSecond = 10 };

    public TokenBucket Items { get; set; } = new() { Burst = 10, PerSecond = 2 };

    public TokenBucket Anonymous { get; set; } = new() { Burst = 200, PerSecond = 100 };

    public TokenBucket SignIn { get; set; } = new() { Burst = 30, PerSecond = 10 };

    /// <summary>
    /// The web app's own reads, when it vouches for them (<see cref="WebCallerKey"/>): one read of an item and its
    /// history per change of an item some page shows, shared by every page of the process, and its live stream.
    /// </summary>
    public TokenBucket Web { get; set; } = new() { Burst = 2000, PerSecond = 1000 };

    /// <summary>
    /// The key with which the web app proves whom a request without a token is for (<c>WebCallers</c>): the same
    /// secret on both sides, generated by the AppHost. Unset, every request is counted by its own address.
    /// </summary>
    public string? WebCallerKey { get; set; }
}

/// <summary>Up to <see cref="Burst"/> requests at once, refilled by <see cref="PerSecond"/> every second.</summary>
public sealed class TokenBucket
{
    public int Burst { get; set; }

    public int PerSecond { get; set; }
}

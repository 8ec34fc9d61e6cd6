using System.Diagnostics;
using System.Threading.Channels;
using Bidder.Core.Live;
using Bidder.Api.Requests;
using Bidder.Core.Http;
using Bidder.Core.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Bidder.Api.Apis;

/// <summary>
/// The live streams (Server-Sent Events): every change of every item, or of one item, as the streamer makes
/// it. Public, like the item reads. Each event has an id; a client that reconnects with <c>Last-Event-ID</c>
/// gets what it missed (from this replica's recent events), or else the current state. An idle stream gets a
/// comment line every <see cref="LiveOptions.Heartbeat"/>, and a subscriber too slow to keep up is dropped.
/// </summary>
public static class LiveApi
{
    public const string EventStream = "text/event-stream";
    private const string Description =
        "Server-Sent Events (`text/event-stream`). Each event is `event: item` (an item's public bidding state after a change: " +
        "a new winning bid, an end moved by a soft close, the close; `version` orders an item's states) or `event: closed` " +
        "(the auction's close record, as the auctions topic carries it: `item_id`, `result`, `winning_bid`, `winning_user_id`, " +
        "`winning_bid_id`, `seller_id`, `bids`, `closed_at`). Every event has an `id`: reconnect with the `Last-Event-ID` header to get " +
        "what was missed. `event: reset` says that could not be done (the id is too old, another server's, or from before a quiet spell " +
        "in which this server read nothing, as it does while nobody follows a stream): reload the current state. A comment line (`: heartbeat`) comes every 15 s on an idle stream. A client that cannot keep up is disconnected.";

    public static IEndpointRouteBuilder MapLiveApi(this IEndpointRouteBuilder app)
    {
        var live = app.MapGroup("/items").WithTags("Items").AllowAnonymous().RequireRateLimiting(HttpLimits.Anonymous);
        live.MapGet("/live", StreamItems).WithName(nameof(StreamItems))
            .WithSummary("Follow every item live: new winning bids, moved end dates, closes")
            .WithDescription(Description)
            .Produces(StatusCodes.Status200OK, contentType: EventStream);
        live.MapGet("/{id}/live", StreamItem).WithName(nameof(StreamItem))
            .WithSummary("Follow one item live, starting with its current state")
            .WithDescription(Description)
            .Produces(StatusCodes.Status200OK, contentType: EventStream)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task StreamItems(HttpContext context, LiveHub hub, IOptions<LiveOptions> options, CancellationToken cancellationToken)
    {
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        var (resumable, missed, _, events, subscription) = hub.Subscribe(lastEventId);
        using (subscription)
        {
            // A client that connects without an id reloads what it shows once the stream is open: only after the feed reads.
            await hub.WhenReadingAsync(cancellationToken);
            await StartAsync(context.Response, cancellationToken);
            if (!resumable && lastEventId.Length > 0)
            {
                await context.Response.WriteAsync("event: reset\ndata: {\"reason\": \"The events since Last-Event-ID are not kept here any more: reload the current state.\"}\n\n", cancellationToken);
            }

            await RelayAsync(context.Response, hub, missed, events, _ => true, options.Value.Heartbeat, cancellationToken);
        }
    }

    public static async Task<IResult> StreamItem(
        string id, HttpContext context, LiveHub hub, IAuctionStore store, IOptions<LiveOptions> options, CancellationToken cancellationToken)
    {
        if (!Queries.TryParseId(id, out var error, out var itemId))
        {
            return error;
        }

        // Subscribed, and the feed reading, before the item is read, so a change made meanwhile comes after it (and may
        // repeat it: versions order them).
        var (resumable, missed, now, events, subscription) = hub.Subscribe(context.Request.Headers["Last-Event-ID"].ToString());
        using (subscription)
        {
            await hub.WhenReadingAsync(cancellationToken);
            var current = resumable ? null : await store.GetItemAsync(itemId, cancellationToken);
            if (!resumable && current is null)
            {
                return Problems.NotFound("item", itemId);
            }

            await StartAsync(context.Response, cancellationToken);
            if (current is not null)
            {
                await WriteAsync(context.Response, hub.IdOf(now), ItemEvent.From(current), cancellationToken);
            }

            await RelayAsync(context.Response, hub, missed, events, e => e.ItemId == itemId, options.Value.Heartbeat, cancellationToken);
            return Results.Empty;
        }
    }

    private static async Task StartAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        response.ContentType = EventStream;
        response.Headers.CacheControl = "no-cache";
        // Proxies such as nginx would buffer the stream otherwise.
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.WriteAsync("retry: 3000\n\n", cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>Writes the missed events, then each new one, with a heartbeat while idle, until the client goes or is dropped.</summary>
    private static async Task RelayAsync(
        HttpResponse response, LiveHub hub, IReadOnlyList<LiveEvent> missed, ChannelReader<LiveEvent> events, Func<ItemEvent, bool> wanted,
        TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        foreach (var e in missed.Where(e => wanted(e.Item)))
        {
            await WriteAsync(response, hub.IdOf(e.Sequence), e.Item, cancellationToken);
        }

        await response.Body.FlushAsync(cancellationToken);

        try
        {
            // Quiet is measured on this stream, not on the hub: one item's stream hears every item's events and
            // writes only its own, and it still needs its comment when others' events keep coming.
            var lastWrite = Stopwatch.GetTimestamp();
            while (!cancellationToken.IsCancellationRequested)
            {
                var quiet = heartbeat - Stopwatch.GetElapsedTime(lastWrite);
                var due = quiet <= TimeSpan.Zero;
                if (!due)
                {
                    using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    idle.CancelAfter(quiet);
                    try
                    {
                        if (!await events.WaitToReadAsync(idle.Token))
                        {
                            return;
                        }
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        due = true;
                    }
                }

                if (due)
                {
                    await response.WriteAsync(": heartbeat\n\n", cancellationToken);
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = Stopwatch.GetTimestamp();
                    continue;
                }

                // Everything already queued, then one flush: a batch's item states arrive together, and a flush per
                // event cost a write to the socket each (the API's CPU per bid, BENCHMARKS.md, ingest).
                var wrote = false;
                while (events.TryRead(out var e))
                {
                    if (wanted(e.Item))
                    {
                        await WriteAsync(response, hub.IdOf(e.Sequence), e.Item, cancellationToken);
                        wrote = true;
                    }
                }

                if (wrote)
                {
                    await response.Body.FlushAsync(cancellationToken);
                    lastWrite = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (SlowSubscriberException ex)
        {
            await response.WriteAsync($": {ex.Message}\n\n", cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static async Task WriteAsync(HttpResponse response, string id, ItemEvent item, CancellationToken cancellationToken)
    {
        await response.WriteAsync($"id: {id}\nevent: {item.Type}\ndata: ", cancellationToken);
        await response.Body.WriteAsync(item.ToUtf8Json(), cancellationToken);
        await response.WriteAsync("\n\n", cancellationToken);
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using Bidder.Tests.Support;
using Bidder.Web.Auctions;
using Bidder.Web.Live;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bidder.Tests.Web;

/// <summary>
/// The web app's one live stream per process (<see cref="LiveItems"/>) against a scripted API: it resumes with the
/// last event's id after a break, starts afresh (and tells every page to reload) after a reset, a page only
/// gets the items it asked for, and the stream is open only while a page is. A fake HTTP handler stands in for
/// the API: a unit test of one class.
/// </summary>
public sealed class LiveItemsTests
{
    [Fact]
    public async Task A_broken_stream_resumes_with_the_last_event_id_and_a_reset_starts_afresh_with_pages_reloaded()
    {
        var api = new ScriptedApi();
        var item = Guid.NewGuid();
        var other = Guid.NewGuid();
        // 1st connection: two events, then the connection drops.
        api.Responses.Enqueue(Event("e.1", item, 5) + Event("e.2", other, 7));
        // 2nd: one event, then the API says it cannot resume.
        api.Responses.Enqueue(Event("e.3", item, 9) + "event: reset\ndata: {}\n\n");
        // 3rd: a fresh start.
        api.Responses.Enqueue(Event("f.1", item, 11));

        var changes = Channel.CreateUnbounded<LiveItemEvent>();
        var resets = 0;
        using var live = new LiveItems(api, NullLogger<LiveItems>.Instance);
        using var subscription = live.Subscribe(id => id == item, change => changes.Writer.WriteAsync(change).AsTask(), () =>
        {
            Interlocked.Increment(ref resets);
            return Task.CompletedTask;
        });
        await live.StartAsync(TestContext.Current.CancellationToken);

        var seen = new List<decimal>();
        while (seen.Count < 3)
        {
            seen.Add((await changes.Reader.ReadAsync(HangGuard.Token)).WinningBid);
        }

        await live.StopAsync(CancellationToken.None);
        Assert.Equal([5m, 9m, 11m], seen);
        Assert.Equal([null, "e.2", null], api.LastEventIds.Take(3));
        // Once at the first connection, once for the reset (the fresh start after it is the reload itself).
        Assert.True(resets >= 2, $"resets: {resets}");
    }

    [Fact]
    public async Task The_stream_is_open_only_while_a_page_is_and_a_page_after_a_closed_stream_starts_afresh()
    {
        var api = new ScriptedApi();
        var item = Guid.NewGuid();
        // The first stream: one event, then open until closed.
        api.Responses.Enqueue(Event("e.1", item, 5));
        using var live = new LiveItems(api, NullLogger<LiveItems>.Instance) { IdleLimit = TimeSpan.FromMilliseconds(200) };
        await live.StartAsync(TestContext.Current.CancellationToken);
        // Started with no page open: no stream (the service used to open it at once).
        Assert.Empty(api.LastEventIds);

        var changes = Channel.CreateUnbounded<LiveItemEvent>();
        var firstPageResets = 0;
        var firstPage = live.Subscribe(null, change => changes.Writer.WriteAsync(change).AsTask(), () =>
        {
            Interlocked.Increment(ref firstPageResets);
            return Task.CompletedTask;
        });
        Assert.Equal(5m, (await changes.Reader.ReadAsync(HangGuard.Token)).WinningBid);
        Assert.Single(api.LastEventIds);

        // The last page closes: the stream is closed after the idle limit.
        firstPage.Dispose();
        await api.Closed.Reader.ReadAsync(HangGuard.Token);

        // A new page opens a new stream, from the start (the id held before means nothing after a gap), and reloads.
        api.Responses.Enqueue(Event("f.1", item, 6));
        var reloaded = new TaskCompletionSource();
        using var secondPage = live.Subscribe(null, _ => Task.CompletedTask, () =>
        {
            reloaded.TrySetResult();
            return Task.CompletedTask;
        });
        await reloaded.Task.WaitAsync(HangGuard.Token);
        await live.StopAsync(CancellationToken.None);
        Assert.Equal([null, null], api.LastEventIds);
        Assert.Equal(1, firstPageResets);
    }

    private static string Event(string id, Guid item, decimal winningBid) =>
        $"id: {id}\nevent: item\ndata: {{\"item_id\": \"{item}\", \"winning_bid\": {winningBid}, \"winning_user_id\": null, \"bids\": 1, \"version\": {(int)winningBid}, \"bidding_enddate\": \"2030-01-01T00:00:00Z\", \"status\": \"open\", \"result\": null, \"closed_at\": null}}\n\n: heartbeat\n\n";

    /// <summary>Answers each GET /items/live with the next scripted body (then the body ends: a dropped connection; the last stays open).</summary>
    private sealed class ScriptedApi : HttpMessageHandler, IHttpClientFactory
    {
        public ConcurrentQueue<string> Responses { get; } = new();

        public ConcurrentQueue<string?> LastEventIds { get; } = new();

        /// <summary>A stream the client closed (its request cancelled while open).</summary>
        public Channel<string?> Closed { get; } = Channel.CreateUnbounded<string?>();

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false) { BaseAddress = new Uri("http://api") };

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("/items/live", request.RequestUri!.AbsolutePath);
            LastEventIds.Enqueue(request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null);
            if (!Responses.TryDequeue(out var body))
            {
                // Nothing more scripted: an idle stream until the client closes it.
                await OpenUntilClosedAsync(cancellationToken);
            }

            // The scripted events; then, with more scripted, the body ends (a dropped connection), else the stream
            // stays open until the client closes it.
            var content = new StreamContent(new ScriptedStream(this, Encoding.UTF8.GetBytes(body!), stayOpen: Responses.IsEmpty));
            content.Headers.ContentType = new("text/event-stream");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        }

        private async Task OpenUntilClosedAsync(CancellationToken cancellationToken)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                Closed.Writer.TryWrite(null);
            }
        }

        private sealed class ScriptedStream(ScriptedApi api, byte[] body, bool stayOpen) : MemoryStream(body)
        {
            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                var read = await base.ReadAsync(buffer, cancellationToken);
                if (read == 0 && stayOpen)
                {
                    await api.OpenUntilClosedAsync(cancellationToken);
                }

                return read;
            }
        }
    }
}

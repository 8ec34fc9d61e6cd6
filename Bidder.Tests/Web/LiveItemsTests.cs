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
/// last event's id after a break, starts afresh (and tells every page to reload) after a reset, and a page only
/// gets the items it asked for. A fake HTTP handler stands in for the API: a unit test of one class.
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

    private static string Event(string id, Guid item, decimal winningBid) =>
        $"id: {id}\nevent: item\ndata: {{\"item_id\": \"{item}\", \"winning_bid\": {winningBid}, \"winning_user_id\": null, \"bids\": 1, \"version\": {(int)winningBid}, \"bidding_enddate\": \"2030-01-01T00:00:00Z\", \"status\": \"open\", \"result\": null, \"closed_at\": null}}\n\n: heartbeat\n\n";

    /// <summary>Answers each GET /items/live with the next scripted body (then the body ends: a dropped connection).</summary>
    private sealed class ScriptedApi : HttpMessageHandler, IHttpClientFactory
    {
        public ConcurrentQueue<string> Responses { get; } = new();

        public ConcurrentQueue<string?> LastEventIds { get; } = new();

        public HttpClient CreateClient(string name) => new(this, disposeHandler: false) { BaseAddress = new Uri("http://api") };

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Assert.Equal("/items/live", request.RequestUri!.AbsolutePath);
            LastEventIds.Enqueue(request.Headers.TryGetValues("Last-Event-ID", out var ids) ? ids.Single() : null);
            if (!Responses.TryDequeue(out var body))
            {
                // Nothing more scripted: an idle stream until the test stops the service.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body!, Encoding.UTF8, "text/event-stream") };
        }
    }
}

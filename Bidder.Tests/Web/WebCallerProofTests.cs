using System.Net;
using Bidder.Domain;
using Bidder.Web.Account;
using Bidder.Web.Auctions;
using Bidder.Web.Extensions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Bidder.Tests.Web;

/// <summary>
/// What the web app's calls say about whom they are for: a page's anonymous read names its visitor, a read the pages
/// share names the web app, each with a proof the API can check (a signed-in page's read too, beside its token); a page
/// whose visitor is not known names nobody. The API is a recording handler here (the API's side: <c>LimitsTests</c>).
/// </summary>
public sealed class WebCallerProofTests
{
    private const string Key = "the-web-apps-key-of-32-characters-or-more";

    [Fact]
    public async Task A_pages_anonymous_read_names_its_visitor_with_a_proof_the_api_can_check()
    {
        var api = new RecordingApi();
        var auctions = new AuctionApi(Client(api, Key), visitor: new CircuitVisitor { Address = IPAddress.Parse("::ffff:203.0.113.9") });

        await auctions.GetItemAsync(Guid.CreateVersion7(), CancellationToken.None);

        var (caller, proof, _) = Assert.Single(api.Requests);
        Assert.Equal("address:203.0.113.9", caller);
        Assert.True(WebCallers.Verify(Key, "address:203.0.113.9", proof!, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task A_read_without_a_visitor_is_the_web_apps_own()
    {
        var api = new RecordingApi();
        var auctions = new AuctionApi(Client(api, Key));

        await auctions.ListItemBidsAsync(Guid.CreateVersion7(), CancellationToken.None);

        var (caller, proof, _) = Assert.Single(api.Requests);
        Assert.Equal(WebCallers.Web, caller);
        Assert.True(WebCallers.Verify(Key, WebCallers.Web, proof!, DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task A_page_whose_visitor_is_not_known_names_nobody_rather_than_the_web_app()
    {
        var api = new RecordingApi();
        var auctions = new AuctionApi(Client(api, Key), visitor: new CircuitVisitor());

        await auctions.GetItemAsync(Guid.CreateVersion7(), CancellationToken.None);

        Assert.Equal((null, null), (Assert.Single(api.Requests).Caller, api.Requests[0].Proof));
    }

    [Fact]
    public async Task What_a_request_claimed_before_is_replaced_and_a_retry_claims_once()
    {
        var api = new RecordingApi();
        // An invoker, not a client: the resilience handler's retry sends the same request through the handler again,
        // which a client would refuse.
        using var handler = Handler(api, Key);
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://api/items/");
        request.Headers.Add(WebCallers.CallerHeader, "address:198.51.100.1");
        request.Headers.Add(WebCallers.ProofHeader, "1.forged");
        request.Options.Set(WebCallerProof.OwnRead, true);

        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();
        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();

        Assert.All(api.Requests, r => Assert.Equal(WebCallers.Web, r.Caller));
        Assert.All(api.Requests, r => Assert.True(WebCallers.Verify(Key, WebCallers.Web, r.Proof!, DateTimeOffset.UtcNow)));
    }

    [Fact]
    public async Task A_sign_in_exchange_made_while_serving_a_page_load_names_that_pages_visitor()
    {
        var api = new RecordingApi();
        var pageLoad = new DefaultHttpContext();
        pageLoad.Connection.RemoteIpAddress = IPAddress.Parse("203.0.113.40");
        var handler = new WebCallerProof(Options.Create(new WebOptions { CallerKey = Key }), TimeProvider.System)
        {
            PageLoads = new HttpContextAccessor { HttpContext = pageLoad },
            InnerHandler = api,
        };
        using var backchannel = new HttpClient(handler);

        (await backchannel.PostAsync("http://identity/connect/token", new StringContent(""), CancellationToken.None)).Dispose();

        Assert.Equal("address:203.0.113.40", Assert.Single(api.Requests).Caller);
    }

    [Fact]
    public async Task A_call_with_a_token_keeps_it_and_names_its_visitor_and_without_a_key_nothing_is_claimed()
    {
        var api = new RecordingApi();
        using var signedIn = Client(api, Key);
        signedIn.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "a-token");
        using var unkeyed = Client(api, key: null);

        // A signed-in page's read: counted by its person while the token is valid, by its visitor once it has run out.
        using var page = new HttpRequestMessage(HttpMethod.Get, "/items/");
        page.Options.Set(WebCallerProof.Visitor, IPAddress.Parse("203.0.113.9"));
        (await signedIn.SendAsync(page, CancellationToken.None)).Dispose();
        using var own = new HttpRequestMessage(HttpMethod.Get, "/items/");
        own.Options.Set(WebCallerProof.OwnRead, true);
        (await unkeyed.SendAsync(own, CancellationToken.None)).Dispose();

        Assert.Equal([("address:203.0.113.9", "Bearer a-token"), (null, null)], api.Requests.Select(r => (r.Caller, r.Authorization)));
        Assert.True(WebCallers.Verify(Key, "address:203.0.113.9", api.Requests[0].Proof!, DateTimeOffset.UtcNow));
        Assert.Null(api.Requests[1].Proof);
    }

    private static HttpClient Client(RecordingApi api, string? key) => new(Handler(api, key)) { BaseAddress = new Uri("http://api") };

    private static WebCallerProof Handler(RecordingApi api, string? key) =>
        new(Options.Create(new WebOptions { CallerKey = key }), TimeProvider.System) { InnerHandler = api };

    private sealed class RecordingApi : HttpMessageHandler
    {
        public List<(string? Caller, string? Proof, string? Authorization)> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add((One(request, WebCallers.CallerHeader), One(request, WebCallers.ProofHeader), request.Headers.Authorization?.ToString()));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("{}") });
        }

        private static string? One(HttpRequestMessage request, string header) =>
            request.Headers.TryGetValues(header, out var values) ? Assert.Single(values) : null;
    }
}

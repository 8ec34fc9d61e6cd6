using System.Net;
using Bidder.Domain;
using Bidder.Web.Account;
using Bidder.Web.Auctions;
using Bidder.Web.Extensions;
using Microsoft.Extensions.Options;

namespace Bidder.Tests.Web;

/// <summary>
/// What the web app's API calls say about whom they are for: a page's anonymous read names its visitor, a read the
/// pages share names the web app, each with a proof the API can check; a call with a token names nobody. The API
/// is a recording handler here (the API's side: <c>LimitsTests</c>).
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
    public async Task A_call_with_a_token_names_nobody_and_without_a_key_nothing_is_claimed()
    {
        var api = new RecordingApi();
        using var signedIn = Client(api, Key);
        signedIn.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "a-token");
        using var unkeyed = Client(api, key: null);

        (await signedIn.GetAsync("/items/", CancellationToken.None)).Dispose();
        (await unkeyed.GetAsync("/items/", CancellationToken.None)).Dispose();

        Assert.All(api.Requests, r => Assert.Equal((null, null), (r.Caller, r.Proof)));
        Assert.Equal(["Bearer a-token", null], api.Requests.Select(r => r.Authorization));
    }

    private static HttpClient Client(RecordingApi api, string? key) =>
        new(new WebCallerProof(Options.Create(new WebOptions { CallerKey = key }), TimeProvider.System) { InnerHandler = api })
        {
            BaseAddress = new Uri("http://api"),
        };

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

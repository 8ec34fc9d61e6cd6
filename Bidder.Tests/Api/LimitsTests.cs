using System.Net;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bidder.Domain;
using Bidder.Tests.Support;
using Bidder.Tests.Web;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bidder.Tests.Api;

/// <summary>
/// The app with its shipped limits (the suite's shared app raises them for its bursts) and short-lived tokens:
/// a client that floods is told to slow down, and a token past its lifetime is refused.
/// </summary>
public sealed class LimitsApp : IAsyncLifetime
{
    public DistributedApplication App { get; private set; } = null!;

    public async ValueTask InitializeAsync() => App = await EmbeddedApp.StartAsync(
    [
        "Bidder:Infrastructure=embedded",
        // The defaults of RateLimitOptions, restated over the suite's raised ones.
        "Bidder:RateLimits:Bids:Burst=20", "Bidder:RateLimits:Bids:PerSecond=10",
        "Bidder:RateLimits:Items:Burst=10", "Bidder:RateLimits:Items:PerSecond=2",
        "Bidder:RateLimits:SignIn:Burst=30", "Bidder:RateLimits:SignIn:PerSecond=10",
        "Bidder:RateLimits:Anonymous:Burst=200", "Bidder:RateLimits:Anonymous:PerSecond=100",
        // Long enough for the flood test on a loaded machine, short enough for the expiry test to wait for.
        "Bidder:Identity:AccessTokenLifetime=00:00:10",
    ], telemetry: null, configure: builder =>
    {
        // As deployed behind Container Apps' ingress (ManifestTests): the identity service and the web app take the
        // client's address from X-Forwarded-For, so a browser test can be a person somewhere else than this machine.
        foreach (var name in new[] { "identity", "web" })
        {
            builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == name))
                .WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "true");
        }
    });

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}

public class LimitsTests(LimitsApp fixture, Browser browser) : IClassFixture<LimitsApp>, IClassFixture<Browser>
{
    [Fact]
    public async Task A_bidder_flooding_bids_gets_429_with_retry_after_and_never_a_5xx()
    {
        using var bidder = await fixture.App.RegisterAsync("flooder");
        // A plain client: the test host's clients retry 429s, which would hide the limit.
        using var http = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api", "http") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bidder.AccessToken);
        var item = Guid.CreateVersion7();

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ =>
            http.PostAsync("/events/", new StringContent($$"""{"item_id": "{{item}}", "value": 5}""", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken)));
        try
        {
            Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.TooManyRequests, $"{(int)r.StatusCode}"));
            var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(limited);
            Assert.True(responses.Count(r => r.StatusCode == HttpStatusCode.Accepted) >= 20, "the burst allowance is taken");
            Assert.All(limited, r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1)));
            Assert.All(limited, r => Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType));
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    // The web app reads the API for all its visitors from one address, each signed-in visitor's token on the request.
    // Seen failing with reads limited per address alone: the anonymous flood used up the bidder's reads too.
    [Fact]
    public async Task A_flood_of_anonymous_reads_leaves_a_signed_in_caller_at_the_same_address_its_own_reads()
    {
        using var bidder = await fixture.App.RegisterAsync("reader");
        // Plain clients: the test host's clients retry 429s, which would hide the limit.
        using var anonymous = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api", "http") };
        using var signedIn = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api", "http") };
        signedIn.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bidder.AccessToken);

        // Together: 600 reads without a token (three times the address's burst) and 100 with one, from this one address.
        var flood = Enumerable.Range(0, 600).Select(_ => StatusAsync(anonymous)).ToList();
        var own = Enumerable.Range(0, 100).Select(_ => StatusAsync(signedIn)).ToList();
        var (flooded, read) = (await Task.WhenAll(flood), await Task.WhenAll(own));

        Assert.Contains(HttpStatusCode.TooManyRequests, flooded);
        Assert.All(flooded, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"{(int)s}"));
        Assert.All(read, s => Assert.Equal(HttpStatusCode.OK, s));

        static async Task<HttpStatusCode> StatusAsync(HttpClient http)
        {
            using var response = await http.GetAsync("/items/?limit=1", TestContext.Current.CancellationToken);
            return response.StatusCode;
        }
    }

    // The web app reads the API for its anonymous visitors too, from the same one address: it names each request's
    // visitor (or itself, for the reads its pages share) with a proof made with the key the API holds. Seen failing
    // without the API's check: every vouched read was counted against this address with the flood.
    [Fact]
    public async Task Reads_the_web_app_vouches_for_count_against_their_visitor_or_the_web_app_and_forged_ones_against_the_address()
    {
        using var http = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api", "http") };
        var (flood, refused, stop) = Flood(() => http.GetAsync("/items/?limit=1", CancellationToken.None));
        try
        {
            // Plain reads from this one address keep its bucket empty (2.5 times its refill). Meanwhile, at once: 100 reads
            // for a visitor and 300 for the web app itself (more than an address's burst), each proven with the AppHost's
            // key; and 100 that name a visitor with a proof made with another key, one too old, or one that is not a proof
            // at all, which must count as this address's own (and never fail the request).
            await Eventually.WaitAsync(() => Task.FromResult(refused()), n => n > 0, "the flood to be refused");
            var now = DateTimeOffset.UtcNow;
            var visitor = Enumerable.Range(0, 100).Select(_ => StatusAsync(http, "address:203.0.113.9", Accounts.WebCallerKey, now)).ToList();
            var web = Enumerable.Range(0, 300).Select(_ => StatusAsync(http, WebCallers.Web, Accounts.WebCallerKey, now)).ToList();
            var forged = Enumerable.Range(0, 100).Select(i => (i % 3) switch
            {
                0 => StatusAsync(http, "address:203.0.113.10", "not-the-apphost-key-but-as-long-as-one", now),
                1 => StatusAsync(http, "address:203.0.113.10", Accounts.WebCallerKey, now - TimeSpan.FromMinutes(10)),
                _ => StatusAsync(http, "address:203.0.113.10", key: null, now),
            }).ToList();

            Assert.All(await Task.WhenAll(visitor), s => Assert.Equal(HttpStatusCode.OK, s));
            Assert.All(await Task.WhenAll(web), s => Assert.Equal(HttpStatusCode.OK, s));
            var notVouched = await Task.WhenAll(forged);
            Assert.Contains(HttpStatusCode.TooManyRequests, notVouched);
            Assert.All(notVouched, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"{(int)s}"));
        }
        finally
        {
            await stop.CancelAsync();
            await flood;
            stop.Dispose();
        }

        static async Task<HttpStatusCode> StatusAsync(HttpClient http, string? caller = null, string? key = null, DateTimeOffset at = default)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/items/?limit=1");
            if (caller is not null)
            {
                request.Headers.Add(WebCallers.CallerHeader, caller);
                request.Headers.Add(WebCallers.ProofHeader, key is null ? $"{at.ToUnixTimeSeconds()}.!" : WebCallers.Proof(key, caller, at));
            }

            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            return response.StatusCode;
        }
    }

    // What the web app shares between its pages (an item's history after each change) is its own read, in its own
    // bucket: a flood from the web app's address (here the machine's, which every process on it shares) leaves an
    // open page's history moving. Seen failing without the web app's proof: the history never showed the new bid.
    [Fact]
    public async Task An_anonymous_page_keeps_its_live_history_while_the_web_apps_address_is_flooded()
    {
        using var seller = await fixture.App.RegisterAsync("limits seller");
        using var bidder = await fixture.App.RegisterAsync("limits bidder");
        var item = (await seller.Api.CreateItemAsync(initBid: 10m, end: DateTimeOffset.UtcNow.AddMinutes(5), name: "Flooded lamp")).Id();
        var page = await browser.OpenAsync(fixture.App);
        await page.GotoAsync($"/items/{item}");
        await Expect(page.GetByTestId("price")).ToHaveTextAsync("10.00 EUR");

        using var http = new HttpClient { BaseAddress = fixture.App.GetEndpoint("api", "http") };
        var (flood, refused, stop) = Flood(() => http.GetAsync("/items/?limit=1", CancellationToken.None));
        try
        {
            // The address's bucket is empty (and kept so) before the bid.
            await Eventually.WaitAsync(() => Task.FromResult(refused()), n => n > 0, "the flood to be refused");
            using var bid = await bidder.Api.PostJsonAsync("/events/", $$"""{"item_id": "{{item}}", "value": 25}""");
            Assert.Equal(HttpStatusCode.Accepted, bid.StatusCode);

            await Expect(page.GetByTestId("price")).ToHaveTextAsync("25.00 EUR");
            await Expect(page.GetByTestId("bid-history")).ToContainTextAsync("25.00 EUR");
        }
        finally
        {
            await stop.CancelAsync();
            await flood;
            stop.Dispose();
            await page.Context.CloseAsync();
        }
    }

    // The web app exchanges each person's sign-in code (and later refresh tokens) with the identity service from its
    // one address, where sign-in is limited per address: it names the person's address, with the same proof. Seen
    // failing without it: the exchange was refused with the flood, and the person never got signed in.
    [Fact]
    public async Task A_person_signs_in_through_the_web_app_while_the_web_apps_address_floods_the_identity_service()
    {
        var page = await browser.OpenAsync(fixture.App, headers: [new("X-Forwarded-For", "203.0.113.20")]);
        using var identity = new HttpClient { BaseAddress = fixture.App.GetEndpoint("identity", "http") };
        var (flood, refused, stop) = Flood(() => identity.PostAsync("/account/register", new StringContent("{}", Encoding.UTF8, "application/json"), CancellationToken.None));
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(refused()), n => n > 0, "the flood to be refused");

            await WebPerson.SignUpAsync(page, fixture.App, "Flo Web");
        }
        finally
        {
            await stop.CancelAsync();
            await flood;
            stop.Dispose();
            await page.Context.CloseAsync();
        }
    }

    /// <summary>
    /// Sends <paramref name="send"/> 25 at a time, at most every 100 ms (2.5 times the anonymous bucket's refill, 25 times
    /// sign-in's: enough to keep either empty, not so much that the browser the test drives starves) until stopped;
    /// how many were refused with 429. A request that fails outright is left out and the flood goes on.
    /// </summary>
    private static (Task Flood, Func<int> Refused, CancellationTokenSource Stop) Flood(Func<Task<HttpResponseMessage>> send)
    {
        var stop = new CancellationTokenSource();
        var refused = 0;
        var flood = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var pace = Task.Delay(100, CancellationToken.None);
                await Task.WhenAll(Enumerable.Range(0, 25).Select(async _ =>
                {
                    try
                    {
                        using var response = await send();
                        if (response.StatusCode == HttpStatusCode.TooManyRequests)
                        {
                            Interlocked.Increment(ref refused);
                        }
                    }
                    catch (HttpRequestException)
                    {
                    }
                }));
                await pace;
            }
        }, CancellationToken.None);
        return (flood, () => Volatile.Read(ref refused), stop);
    }

    [Fact]
    public async Task Guessing_passwords_at_the_token_endpoint_is_stopped_by_the_lockout_and_the_per_address_limit()
    {
        using var victim = await fixture.App.RegisterAsync("victim");
        // From an address of its own (the identity service reads X-Forwarded-For here, as behind the ingress), so that
        // another test's flood from this machine's address has not spent this one's sign-in bucket.
        using var identity = new HttpClient { BaseAddress = fixture.App.GetEndpoint("identity", "http") };
        identity.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.31");
        Task<HttpResponseMessage> TokenResponseAsync(string password) =>
            identity.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["client_id"] = "bidder-cli", ["username"] = victim.Email, ["password"] = password, ["scope"] = "bidder.api",
            }), TestContext.Current.CancellationToken);

        // One guess after another, as a person (or a slow script) would: the account locks after five.
        var descriptions = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await TokenResponseAsync($"guess {i}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            descriptions.Add((await response.ReadObjectAsync())["error_description"]!.GetValue<string>());
        }

        Assert.Contains(descriptions, d => d.Contains("locked", StringComparison.OrdinalIgnoreCase));

        // A script's burst from one address (cheap requests, so they arrive faster than the bucket refills): beyond
        // the sign-in bucket, which registering and taking tokens share, it is told to slow down, never served a 5xx.
        var burst = await Task.WhenAll(Enumerable.Range(0, 150).Select(_ =>
            identity.PostAsync("/account/register", new StringContent("{}", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken)));
        var statuses = burst.Select(r => r.StatusCode).ToList();
        foreach (var response in burst)
        {
            response.Dispose();
        }

        Assert.DoesNotContain(statuses, s => (int)s >= 500);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);

        // Locked: even the right password is refused until the lockout ends.
        using var right = await Eventually.WaitAsync(() => TokenResponseAsync(victim.Password),
            r => r.StatusCode != HttpStatusCode.TooManyRequests, "the address limit to let a request through");
        Assert.Equal(HttpStatusCode.BadRequest, right.StatusCode);
        Assert.Contains("locked", (await right.ReadObjectAsync())["error_description"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_token_past_its_lifetime_is_401()
    {
        using var bidder = await fixture.App.RegisterAsync("short-lived");
        var me = $"/users/{bidder.Id}";
        using (var fresh = await bidder.Api.GetAsync(me, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        }

        using var expired = await Eventually.WaitAsync(() => bidder.Api.GetAsync(me, TestContext.Current.CancellationToken),
            r => r.StatusCode != HttpStatusCode.OK, "the 10-second token to expire");

        await AuthorizationTests.AssertUnauthorizedAsync(expired);
        Assert.Contains("invalid_token", expired.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }
}

using System.Net;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

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
    ]);

    public async ValueTask DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}

public class LimitsTests(LimitsApp fixture) : IClassFixture<LimitsApp>
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

    [Fact]
    public async Task Guessing_passwords_at_the_token_endpoint_is_stopped_by_the_lockout_and_the_per_address_limit()
    {
        using var victim = await fixture.App.RegisterAsync("victim");

        // One guess after another, as a person (or a slow script) would: the account locks after five.
        var descriptions = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await fixture.App.TokenResponseAsync(victim.Email, $"guess {i}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            descriptions.Add((await response.ReadObjectAsync())["error_description"]!.GetValue<string>());
        }

        Assert.Contains(descriptions, d => d.Contains("locked", StringComparison.OrdinalIgnoreCase));

        // A script's burst from one address (cheap requests, so they arrive faster than the bucket refills): beyond
        // the sign-in bucket, which registering and taking tokens share, it is told to slow down, never served a 5xx.
        using var identity = new HttpClient { BaseAddress = fixture.App.GetEndpoint("identity", "http") };
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
        using var right = await Eventually.WaitAsync(() => fixture.App.TokenResponseAsync(victim.Email, victim.Password),
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

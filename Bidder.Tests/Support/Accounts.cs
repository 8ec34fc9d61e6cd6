using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.Testing;

namespace Bidder.Tests.Support;

/// <summary>A signed-in person: their Bidder user id and an API client that carries their access token.</summary>
public sealed record SignedIn(Guid Id, string Name, string Email, string Password, string AccessToken, HttpClient Api) : IDisposable
{
    public void Dispose() => Api.Dispose();
}

/// <summary>
/// Signing in as Bidder's clients do, through the running identity service: register (POST /account/register)
/// and take a token with the <c>bidder-cli</c> password grant. Never a bypass of token validation.
/// </summary>
public static class Accounts
{
    /// <summary>The AppHost's <c>admin-password</c> parameter in the suite's apps.</summary>
    public const string AdminPassword = "suite-admin-password-0123456789";
    /// <summary>The AppHost's <c>web-caller-key</c> parameter in the suite's apps: tests prove callers with it as the web app does.</summary>
    public const string WebCallerKey = "suite-web-caller-key-0123456789abcdef";
    public const string AdminEmail = "admin@bidder.local";
    public const string Password = "correct horse battery staple";

    /// <summary>
    /// The AppHost settings every test app starts with: the admin's password, limits the suite's bursts stay under,
    /// and a live-stream heartbeat of a second, so a test sees an idle stream's heartbeat without waiting out the
    /// default 15 s (stream readers skip the comments).
    /// </summary>
    public static readonly string[] AppSettings =
    [
        $"Parameters:admin-password={AdminPassword}",
        $"Parameters:web-caller-key={WebCallerKey}",
        "Bidder:RateLimits:Bids:Burst=100000", "Bidder:RateLimits:Bids:PerSecond=100000",
        "Bidder:RateLimits:Items:Burst=100000", "Bidder:RateLimits:Items:PerSecond=100000",
        "Bidder:RateLimits:SignIn:Burst=100000", "Bidder:RateLimits:SignIn:PerSecond=100000",
        "Bidder:RateLimits:Anonymous:Burst=100000", "Bidder:RateLimits:Anonymous:PerSecond=100000",
        "Bidder:Live:Heartbeat=00:00:01",
    ];

    public static async Task<SignedIn> RegisterAsync(this DistributedApplication app, string name = "bidder")
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var identity = app.CreateHttpClient("identity", "http");
        using var response = await WaitOutLimitAsync(() => identity.PostAsJsonAsync("/account/register", new { name, email, password = Password }, TestContext.Current.CancellationToken));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Registering answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var account = await response.ReadObjectAsync();
        return await SignInAsync(app, Guid.Parse(account.Id()), name, email, Password);
    }

    public static async Task<SignedIn> SignInAsync(this DistributedApplication app, Guid id, string name, string email, string password)
    {
        var token = await TokenAsync(app, email, password);
        return new SignedIn(id, name, email, password, token, app.ApiClient(token));
    }

    public static async Task<SignedIn> AdminAsync(this DistributedApplication app)
    {
        var token = await TokenAsync(app, AdminEmail, AdminPassword);
        return new SignedIn(Subject(token), "Administrator", AdminEmail, AdminPassword, token, app.ApiClient(token));
    }

    /// <summary>The user id a token names (its <c>sub</c>), read without validating: the API does that.</summary>
    public static Guid Subject(string token)
    {
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload += new string('=', (4 - payload.Length % 4) % 4);
        return Guid.Parse(JsonNode.Parse(Convert.FromBase64String(payload))!["sub"]!.GetValue<string>());
    }

    /// <summary>As a polite client does: a 429 is waited out for its Retry-After, then the request is sent again.</summary>
    private static async Task<HttpResponseMessage> WaitOutLimitAsync(Func<Task<HttpResponseMessage>> send)
    {
        var guard = HangGuard.Token;
        while (true)
        {
            var response = await send();
            if (response.StatusCode != HttpStatusCode.TooManyRequests)
            {
                return response;
            }

            var wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            response.Dispose();
            await Task.Delay(wait, guard);
        }
    }

    /// <summary>An access token for the API (scope <c>bidder.api</c>) by the password grant.</summary>
    public static async Task<string> TokenAsync(this DistributedApplication app, string email, string password)
    {
        using var response = await WaitOutLimitAsync(() => app.TokenResponseAsync(email, password));
        var body = await response.ReadObjectAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"The token endpoint answered {(int)response.StatusCode}: {body.ToJsonString()}");
        return body["access_token"]!.GetValue<string>();
    }

    public static async Task<HttpResponseMessage> TokenResponseAsync(this DistributedApplication app, string email, string password, string scope = "bidder.api")
    {
        // A plain client, as curl or the load tool is: the test host's clients retry 429s, which would hide the limits.
        using var identity = new HttpClient { BaseAddress = app.GetEndpoint("identity", "http") };
        return await identity.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["client_id"] = "bidder-cli",
            ["username"] = email,
            ["password"] = password,
            ["scope"] = scope,
        }), TestContext.Current.CancellationToken);
    }

    /// <summary>A real token of the person, but for the identity scopes only: it is not meant for the API (no audience).</summary>
    public static async Task<string> TokenWithoutApiScopeAsync(this DistributedApplication app, SignedIn person)
    {
        using var response = await app.TokenResponseAsync(person.Email, person.Password, scope: "openid profile");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadObjectAsync())["access_token"]!.GetValue<string>();
    }

    /// <summary>An API client that sends <paramref name="token"/> as its bearer token.</summary>
    public static HttpClient ApiClient(this DistributedApplication app, string token)
    {
        var api = app.CreateHttpClient("api", "http");
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return api;
    }

    public static Guid UserId(this JsonObject record) => Guid.Parse(record["id"]!.GetValue<string>());
}

using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Identity;

/// <summary>Bidder.Identity as its clients use it: discovery, registration, the password and refresh grants, and the browser's code flow with PKCE.</summary>
[Collection(EmbeddedAppCollection.Name)]
public class IdentityTests(EmbeddedApp fixture)
{
    private readonly HttpClient _identity = fixture.App.CreateHttpClient("identity", "http");

    [Fact]
    public async Task The_discovery_document_names_the_endpoints_the_grants_and_the_keys()
    {
        var discovery = await _identity.GetObjectAsync("/.well-known/openid-configuration");

        var issuer = discovery["issuer"]!.GetValue<string>();
        Assert.Equal($"{issuer}connect/token", discovery["token_endpoint"]!.GetValue<string>());
        Assert.Equal(["authorization_code", "refresh_token", "password"], discovery["grant_types_supported"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Contains("bidder.api", discovery["scopes_supported"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Contains("S256", discovery["code_challenge_methods_supported"]!.AsArray().Select(s => s!.GetValue<string>()));
        var keys = await _identity.GetObjectAsync(new Uri(discovery["jwks_uri"]!.GetValue<string>()).PathAndQuery);
        Assert.Contains(keys["keys"]!.AsArray(), k => k!["kty"]!.GetValue<string>() == "RSA" && k["use"]!.GetValue<string>() == "sig");
    }

    [Fact]
    public async Task Registering_creates_the_account_and_its_bidder_user_at_the_location_on_the_api()
    {
        var email = $"{Guid.NewGuid():N}@example.com";
        using var response = await _identity.PostAsJsonAsync("/account/register", new { name = "Grace", email, password = Accounts.Password }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var account = await response.ReadObjectAsync();
        Assert.Equal(["id", "name", "email", "created_date"], account.Select(p => p.Key));
        Assert.EndsWith("Z", account["created_date"]!.GetValue<string>());
        var location = response.Headers.Location!;
        Assert.Equal($"/users/{account.Id()}", location.AbsolutePath);
        Assert.Equal(fixture.App.GetEndpoint("api", "http").Authority, location.Authority);
        var user = await fixture.Admin.Api.GetObjectAsync(location.AbsolutePath);
        Assert.Equal("Grace", user["name"]!.GetValue<string>());
        Assert.Equal(0, user["bids"]!.GetValue<long>());
        Assert.DoesNotContain(email, user.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    public static TheoryData<string, string, HttpStatusCode, string?> BadRegistrations => new()
    {
        { "weak password", """{"name": "x", "email": "weak@example.com", "password": "short"}""", HttpStatusCode.BadRequest, "password" },
        { "no email", """{"name": "x", "password": "correct horse battery staple"}""", HttpStatusCode.BadRequest, "email" },
        { "not an email", """{"name": "x", "email": "not an email", "password": "correct horse battery staple"}""", HttpStatusCode.BadRequest, "email" },
        { "email as an object", """{"name": "x", "email": {"$ne": null}, "password": "correct horse battery staple"}""", HttpStatusCode.BadRequest, "email" },
        { "no name", """{"email": "noname@example.com", "password": "correct horse battery staple"}""", HttpStatusCode.BadRequest, "name" },
        { "control characters in the name", """{"name": "a\u0000b", "email": "ctl@example.com", "password": "correct horse battery staple"}""", HttpStatusCode.BadRequest, "name" },
        { "a password of 10 KB", $$"""{"name": "x", "email": "long@example.com", "password": "{{new string('p', 10_000)}}"}""", HttpStatusCode.BadRequest, "password" },
        { "not json", "name=x", HttpStatusCode.UnsupportedMediaType, null },
        { "broken json", """{"name": """, HttpStatusCode.BadRequest, null },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task A_bad_registration_gets_a_problem_document_naming_the_field(string name, string body, HttpStatusCode status, string? field)
    {
        using var response = await _identity.PostAsync("/account/register",
            new StringContent(body, Encoding.UTF8, name == "not json" ? "text/plain" : "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            Assert.True((await response.ReadObjectAsync())["errors"]!.AsObject().ContainsKey(field), name);
        }
    }

    [Fact]
    public async Task An_email_registers_once()
    {
        using var first = await fixture.App.RegisterAsync("first");
        using var again = await _identity.PostAsJsonAsync("/account/register",
            new { name = "second", email = first.Email.ToUpperInvariant(), password = Accounts.Password }, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_email_get_the_same_invalid_grant()
    {
        using var wrong = await fixture.App.TokenResponseAsync(fixture.Bidder.Email, "not the password");
        using var unknown = await fixture.App.TokenResponseAsync($"{Guid.NewGuid():N}@example.com", "not the password");

        foreach (var response in new[] { wrong, unknown })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = await response.ReadObjectAsync();
            Assert.Equal("invalid_grant", error["error"]!.GetValue<string>());
            Assert.Equal("The email or password is wrong.", error["error_description"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_refresh_token_gets_a_new_access_token_the_api_accepts()
    {
        using var person = await fixture.App.RegisterAsync("refresher");
        using var first = await fixture.App.TokenResponseAsync(person.Email, person.Password, scope: "bidder.api offline_access");
        var refreshToken = (await first.ReadObjectAsync())["refresh_token"]!.GetValue<string>();

        using var refreshed = await _identity.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = "bidder-cli",
            ["refresh_token"] = refreshToken,
        }), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var renewed = await refreshed.ReadObjectAsync();
        using var api = fixture.App.ApiClient(renewed["access_token"]!.GetValue<string>());
        Assert.Equal("refresher", (await api.GetObjectAsync($"/users/{person.Id}"))["name"]!.GetValue<string>());

        // Rotated: the refresh token just used is spent; the new one works.
        using var reused = await RefreshAsync(refreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, reused.StatusCode);
        using var next = await RefreshAsync(renewed["refresh_token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    private Task<HttpResponseMessage> RefreshAsync(string refreshToken) =>
        _identity.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = "bidder-cli",
            ["refresh_token"] = refreshToken,
        }), TestContext.Current.CancellationToken);

    [Theory]
    [InlineData("bidder-web", "password")]
    [InlineData("someone-else", "password")]
    [InlineData("bidder-cli", "client_credentials")]
    public async Task A_client_may_only_use_its_own_grant(string client, string grant)
    {
        using var response = await _identity.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = grant,
            ["client_id"] = client,
            ["username"] = fixture.Bidder.Email,
            ["password"] = fixture.Bidder.Password,
            ["scope"] = "bidder.api",
        }), TestContext.Current.CancellationToken);

        Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized, $"{(int)response.StatusCode}");
        Assert.DoesNotContain("access_token", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>
    /// What the web front end will do: send the browser to /connect/authorize with a PKCE challenge, the person
    /// signs in on the login page, the code comes back to the registered redirect URI and is exchanged with the
    /// verifier for a token the API accepts. A redirect URI that is not registered is refused.
    /// </summary>
    [Fact]
    public async Task The_web_clients_code_flow_with_pkce_signs_a_person_in_through_the_login_page()
    {
        var identity = fixture.App.GetEndpoint("identity", "http");
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = identity };
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        const string redirect = "http://localhost:8000/signin-oidc";
        var authorize = $"/connect/authorize?client_id=bidder-web&response_type=code&scope=openid%20bidder.api&redirect_uri={Uri.EscapeDataString(redirect)}&code_challenge={challenge}&code_challenge_method=S256&state=xyz";

        using var toLogin = await browser.GetAsync(authorize, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        Assert.StartsWith("/account/login", toLogin.Headers.Location!.PathAndQuery);

        var loginPage = await browser.GetStringAsync(toLogin.Headers.Location, TestContext.Current.CancellationToken);
        var returnUrl = WebUtility.HtmlDecode(IdentityForms.ReturnUrlField().Match(loginPage).Groups[1].Value);
        var antiforgery = IdentityForms.AntiforgeryField().Match(loginPage).Groups[1].Value;
        using var signedIn = await browser.PostAsync(toLogin.Headers.Location, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = fixture.Bidder.Email,
            ["Password"] = fixture.Bidder.Password,
            ["ReturnUrl"] = returnUrl,
            ["__RequestVerificationToken"] = antiforgery,
        }), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);

        using var toClient = await browser.GetAsync(signedIn.Headers.Location, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Redirect, toClient.StatusCode);
        var back = toClient.Headers.Location!;
        Assert.StartsWith(redirect, back.AbsoluteUri);
        var code = System.Web.HttpUtility.ParseQueryString(back.Query)["code"]!;
        Assert.Equal("xyz", System.Web.HttpUtility.ParseQueryString(back.Query)["state"]);

        using var exchanged = await ExchangeCodeAsync(browser, code, redirect, verifier);
        var tokens = await exchanged.ReadObjectAsync();
        Assert.True(exchanged.StatusCode == HttpStatusCode.OK, tokens.ToJsonString());
        Assert.NotNull(tokens["id_token"]);
        using var api = fixture.App.ApiClient(tokens["access_token"]!.GetValue<string>());
        Assert.Equal(fixture.Bidder.Id.ToString(), (await api.GetObjectAsync($"/users/{fixture.Bidder.Id}")).Id());

        // A code is good once (RFC 6749 §4.1.2), even with its verifier.
        using var again = await ExchangeCodeAsync(browser, code, redirect, verifier);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("invalid_grant", (await again.ReadObjectAsync())["error"]!.GetValue<string>());

        using var elsewhere = await browser.GetAsync(authorize.Replace(Uri.EscapeDataString(redirect), Uri.EscapeDataString("https://evil.example/cb")), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
        // OpenIddict's own words reach the person: which parameter is wrong, not a bare "Bad Request".
        Assert.Contains("redirect_uri", await elsewhere.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    /// <summary>
    /// A sign-up or sign-in post without its form's antiforgery token (another site's form, or a page sent before it
    /// had loaded) is refused and nothing is done, but the person gets the form again with a sentence, not a bare 400
    /// problem document. (Seen failing on the pages that left it to MVC's filter: `{"title":"Bad Request"}`.)
    /// </summary>
    [Fact]
    public async Task A_form_post_without_its_token_gets_the_form_again_with_a_sentence_and_changes_nothing()
    {
        var identity = fixture.App.GetEndpoint("identity", "http");
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = identity };
        var email = $"{Guid.NewGuid():N}@example.com";

        using var signup = await browser.PostAsync("/account/signup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Name"] = "Forged", ["Email"] = email, ["Password"] = Accounts.Password, ["ReturnUrl"] = "/",
        }), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, signup.StatusCode);
        var page = await signup.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("This form could not be verified", page, StringComparison.Ordinal);
        Assert.Matches(IdentityForms.AntiforgeryField(), page);
        // No account was made: the address is still free.
        using (var registered = await _identity.PostAsJsonAsync("/account/register", new { name = "Real", email, password = Accounts.Password }, TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        using var login = await browser.PostAsync("/account/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = fixture.Bidder.Email, ["Password"] = fixture.Bidder.Password, ["ReturnUrl"] = "/",
        }), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
        Assert.Contains("This form could not be verified", await login.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        // Not signed in: no identity cookie was set.
        Assert.False(login.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("bidder.identity=", StringComparison.Ordinal)));
    }

    private static Task<HttpResponseMessage> ExchangeCodeAsync(HttpClient client, string code, string redirect, string verifier) =>
        client.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["client_id"] = "bidder-web",
            ["code"] = code,
            ["redirect_uri"] = redirect,
            ["code_verifier"] = verifier,
        }), TestContext.Current.CancellationToken);
}

/// <summary>The fields of the identity service's forms, as a browser finds them in the page.</summary>
internal static partial class IdentityForms
{
    [GeneratedRegex("name=\"ReturnUrl\"[^>]*value=\"([^\"]*)\"|value=\"([^\"]*)\"[^>]*name=\"ReturnUrl\"")]
    public static partial Regex ReturnUrlField();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    public static partial Regex AntiforgeryField();
}

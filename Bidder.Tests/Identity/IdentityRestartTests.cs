using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;

namespace Bidder.Tests.Identity;

/// <summary>
/// The identity service restarted as a container is (a fresh file system, its signing key from the deployment's
/// secret): a person signed in stays signed in, and a sign-in form loaded before the restart is still accepted, since
/// the keys of its cookie and antiforgery tokens are in the database (before, they were in a folder of the process's
/// home, which a new container does not have: everyone had to sign in again, and an open form was refused); and a
/// refresh token spent before the restart stays spent (before, the service remembered redemptions in its memory).
/// </summary>
public sealed class IdentityRestartTests : IAsyncDisposable
{
    private const string Redirect = "http://localhost:8000/signin-oidc";

    // The identity service's home, emptied while it is down, as a new container's would be.
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("bidder-identity-home-");

    private DistributedApplication? _app;

    [Fact]
    public async Task A_restart_keeps_people_signed_in_and_open_forms_valid()
    {
        using var signingKey = RSA.Create(2048);
        _app = await EmbeddedApp.StartAsync(
            ["Bidder:Infrastructure=embedded", $"Bidder:Identity:SigningKey={signingKey.ExportPkcs8PrivateKeyPem()}"],
            telemetry: null,
            builder => builder.CreateResourceBuilder<ProjectResource>("identity").WithEnvironment("HOME", _home.FullName),
            "identity");
        var identity = _app.GetEndpoint("identity", "http");
        var email = $"{Guid.NewGuid():N}@example.com";
        using (var registered = await _app.CreateHttpClient("identity", "http").PostAsJsonAsync("/account/register", new { name = "Ada", email, password = Accounts.Password }, Timeout))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        using var signedIn = Browser(identity);
        using (var toLogin = await signedIn.GetAsync(Authorize, Timeout))
        {
            await SignInAsync(signedIn, toLogin.Headers.Location!, await signedIn.GetStringAsync(toLogin.Headers.Location, Timeout), email);
        }

        using var formOpen = Browser(identity);
        var loginPage = await formOpen.GetStringAsync("/account/login", Timeout);

        using var tokens = _app.CreateHttpClient("identity", "http");
        var spent = await RefreshTokenAsync(await _app.TokenResponseAsync(email, Accounts.Password, scope: "bidder.api offline_access"));
        var current = await RefreshTokenAsync(await RefreshAsync(tokens, spent));

        await RestartIdentityAsync();

        using (var replayed = await RefreshAsync(tokens, spent))
        {
            Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
            Assert.Equal("invalid_grant", (await replayed.ReadObjectAsync())["error"]!.GetValue<string>());
        }

        await RefreshTokenAsync(await RefreshAsync(tokens, current));

        // Signed in still: the authorization request goes straight back to the client with a code.
        using (var again = await signedIn.GetAsync(Authorize, Timeout))
        {
            Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
            Assert.StartsWith(Redirect, again.Headers.Location!.AbsoluteUri);
            Assert.NotNull(System.Web.HttpUtility.ParseQueryString(again.Headers.Location.Query)["code"]);
        }

        // The form loaded before the restart signs its person in.
        await SignInAsync(formOpen, new Uri("/account/login", UriKind.Relative), loginPage, email);
    }

    private static string Authorize { get; } =
        "/connect/authorize?client_id=bidder-web&response_type=code&scope=openid%20bidder.api" +
        $"&redirect_uri={Uri.EscapeDataString(Redirect)}&code_challenge={new string('a', 43)}&code_challenge_method=S256&state=s";

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private static HttpClient Browser(Uri identity) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = identity };

    /// <summary>Posts the login form of <paramref name="page"/> as a browser would, and expects to be signed in (sent on, with the identity cookie).</summary>
    private static async Task SignInAsync(HttpClient browser, Uri form, string page, string email)
    {
        using var response = await browser.PostAsync(form, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Email"] = email,
            ["Password"] = Accounts.Password,
            ["ReturnUrl"] = WebUtility.HtmlDecode(IdentityForms.ReturnUrlField().Match(page).Groups[1].Value) is { Length: > 0 } returnUrl ? returnUrl : "/",
            ["__RequestVerificationToken"] = IdentityForms.AntiforgeryField().Match(page).Groups[1].Value,
        }), Timeout);

        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(Timeout)}");
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), cookie => cookie.StartsWith("bidder.identity=", StringComparison.Ordinal));
    }

    private static Task<HttpResponseMessage> RefreshAsync(HttpClient identity, string refreshToken) =>
        identity.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["client_id"] = "bidder-cli",
            ["refresh_token"] = refreshToken,
        }), Timeout);

    /// <summary>The refresh token of a successful token response.</summary>
    private static async Task<string> RefreshTokenAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.ReadObjectAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToJsonString());
            return body["refresh_token"]!.GetValue<string>();
        }
    }

    /// <summary>
    /// Kills the identity service, as a crashed or replaced container goes (no graceful stop), empties its home, and
    /// starts it again. (Killed rather than stopped through the AppHost: Aspire's stop command was seen to report a
    /// failure now and then.)
    /// </summary>
    private async Task RestartIdentityAsync()
    {
        ServiceProcesses.Kill(ServiceProcesses.FindWith("Bidder.Identity", $"HOME={_home.FullName}"));
        await _app!.ResourceNotifications.WaitForResourceAsync("identity", e => e.Snapshot.State?.Text is "Exited" or "Finished" or "FailedToStart", Timeout);
        foreach (var entry in _home.EnumerateFileSystemInfos())
        {
            (entry as DirectoryInfo)?.Delete(recursive: true);
            (entry as FileInfo)?.Delete();
        }

        var started = await _app.ResourceCommands.ExecuteCommandAsync("identity", KnownResourceCommands.StartCommand, Timeout);
        Assert.True(started.Success, started.Message);
        await _app.ResourceNotifications.WaitForResourceAsync("identity", e => e.Snapshot.State?.Text == KnownResourceStates.Running, Timeout);
        // Its own health endpoint, not the resource's health, which may still hold the report from before the stop.
        using var probe = _app.CreateHttpClient("identity", "http");
        await Eventually.WaitAsync(() => HealthAsync(probe), status => status == HttpStatusCode.OK, "the restarted identity service to be healthy");
    }

    private static async Task<HttpStatusCode?> HealthAsync(HttpClient identity)
    {
        try
        {
            using var response = await identity.GetAsync("/health", Timeout);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            // Not listening yet.
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _home.Delete(recursive: true);
    }
}

using System.Net;
using Bidder.Web.Account;
using Bidder.Web.Auctions;
using Bidder.Web.Extensions;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Bidder.Tests.Web;

/// <summary>
/// The web app's refresh-token exchange, against a scripted token endpoint (a unit test of one class; the flows
/// through the real identity service are <c>WebSessionTests</c>): what ends a sign-in and what does not, and in whose
/// name the exchange goes.
/// </summary>
public sealed class TokenRefresherTests
{
    private static readonly TokenSet Expiring = new("old-access", "a-refresh-token", DateTimeOffset.UtcNow.AddSeconds(30));

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, """{"error":"too_many_requests"}""", false)]
    [InlineData(HttpStatusCode.ServiceUnavailable, "", false)]
    [InlineData(HttpStatusCode.BadGateway, "<html><body>Bad gateway</body></html>", false)]
    [InlineData(HttpStatusCode.InternalServerError, "{\"error\":", false)]
    [InlineData(HttpStatusCode.BadRequest, """{"error":"invalid_grant"}""", true)]
    public async Task Only_a_refusal_of_the_grant_ends_the_sign_in_not_a_busy_or_absent_identity_service(HttpStatusCode status, string body, bool refused)
    {
        var endpoint = new TokenEndpoint(status, body);

        var outcome = await Refresher(endpoint).RefreshAsync(Expiring, visitor: null);

        Assert.Null(outcome.Tokens);
        Assert.Equal(refused, outcome.Refused);
    }

    [Fact]
    public async Task A_refresh_goes_in_the_name_of_the_person_whose_sign_in_it_is()
    {
        var endpoint = new TokenEndpoint(HttpStatusCode.OK, """{"access_token":"new-access","refresh_token":"next","expires_in":600}""");

        var outcome = await Refresher(endpoint).RefreshAsync(Expiring, IPAddress.Parse("203.0.113.30"));

        Assert.Equal("new-access", outcome.Tokens?.AccessToken);
        Assert.Equal(IPAddress.Parse("203.0.113.30"), Assert.Single(endpoint.Visitors));
    }

    private static TokenRefresher Refresher(TokenEndpoint endpoint)
    {
        var oidc = new OpenIdConnectOptions
        {
            ClientId = "bidder-web",
            Backchannel = new HttpClient(endpoint),
            ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(
                new OpenIdConnectConfiguration { TokenEndpoint = "http://identity/connect/token" }),
        };
        return new TokenRefresher(new FixedOptions(oidc), Options.Create(new WebOptions()), TimeProvider.System, NullLogger<TokenRefresher>.Instance);
    }

    internal sealed class FixedOptions(OpenIdConnectOptions options) : IOptionsMonitor<OpenIdConnectOptions>
    {
        public OpenIdConnectOptions CurrentValue => options;

        public OpenIdConnectOptions Get(string? name) => options;

        public IDisposable? OnChange(Action<OpenIdConnectOptions, string?> listener) => null;
    }

    private sealed class TokenEndpoint(HttpStatusCode status, string body) : HttpMessageHandler
    {
        public List<IPAddress?> Visitors { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Visitors.Add(request.Options.TryGetValue(WebCallerProof.Visitor, out var visitor) ? visitor : null);
            return Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") });
        }
    }
}

using System.Text.Json;

namespace Bidder.LoadTest.Api;

/// <summary>
/// The identity service (OpenID Connect), as the tool uses it: registering accounts, and the token endpoint's
/// password and refresh grants for the public client <c>bidder-cli</c>, the one meant for tools and tests.
/// </summary>
internal sealed class IdentityClient(Uri baseUrl, int maxConnections, TimeSpan timeout) : IDisposable
{
    public const string ClientId = "bidder-cli";

    /// <summary>An access token for the API, and a refresh token to get the next one without the password.</summary>
    public const string Scope = "bidder.api offline_access";

    public const string RegisterRoute = "/account/register";
    public const string TokenRoute = "/connect/token";

    private readonly ApiConnection _connection = new(baseUrl, maxConnections, timeout);
    private readonly BidderJsonContext _json = BidderJsonContext.Default;

    public Uri BaseUrl => _connection.BaseUrl;

    /// <summary>Whether an OpenID Connect provider answers there at all.</summary>
    public async Task<ApiResponse<bool>> DiscoverAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/.well-known/openid-configuration");
        return await _connection.SendAsync<bool>(request, null, null, readError: false, cancellationToken);
    }

    /// <summary>201 with the new account (its id is the Bidder user id), 409 when the email is taken.</summary>
    public async Task<ApiResponse<AccountDto>> RegisterAsync(RegisterBody account, CancellationToken cancellationToken, bool readError = false)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(account, _json.RegisterBody));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, RegisterRoute) { Content = content };
        return await _connection.SendAsync(request, null, _json.AccountDto, readError, cancellationToken);
    }

    public Task<ApiResponse<TokenDto>> PasswordGrantAsync(string email, string password, CancellationToken cancellationToken) =>
        TokenAsync([new("grant_type", "password"), new("client_id", ClientId), new("username", email), new("password", password), new("scope", Scope)],
            cancellationToken);

    public Task<ApiResponse<TokenDto>> RefreshGrantAsync(string refreshToken, CancellationToken cancellationToken) =>
        TokenAsync([new("grant_type", "refresh_token"), new("client_id", ClientId), new("refresh_token", refreshToken)], cancellationToken);

    public void Dispose() => _connection.Dispose();

    /// <summary>Errors are OAuth's JSON (<c>{"error":"invalid_grant",...}</c>); their text is kept, the tool reports it when signing in fails.</summary>
    private async Task<ApiResponse<TokenDto>> TokenAsync(KeyValuePair<string, string>[] form, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, TokenRoute) { Content = new FormUrlEncodedContent(form) };
        return await _connection.SendAsync(request, null, _json.TokenDto, readError: true, cancellationToken);
    }
}

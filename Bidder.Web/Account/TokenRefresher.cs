using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Bidder.Web.Extensions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Bidder.Web.Account;

/// <summary>A person's tokens: the access token the API takes, the refresh token that gets the next one, and when the first ends.</summary>
public sealed record TokenSet(string AccessToken, string? RefreshToken, DateTimeOffset ExpiresAt)
{
    public static TokenSet? From(AuthenticationProperties? properties) =>
        properties?.GetTokenValue(TokenNames.AccessToken) is { Length: > 0 } access
        && DateTimeOffset.TryParse(properties.GetTokenValue(TokenNames.ExpiresAt), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiresAt)
            ? new TokenSet(access, properties.GetTokenValue(TokenNames.RefreshToken), expiresAt)
            : null;

    public void WriteTo(AuthenticationProperties properties)
    {
        properties.UpdateTokenValue(TokenNames.AccessToken, AccessToken);
        if (RefreshToken is not null)
        {
            properties.UpdateTokenValue(TokenNames.RefreshToken, RefreshToken);
        }

        properties.UpdateTokenValue(TokenNames.ExpiresAt, ExpiresAt.ToString("o", CultureInfo.InvariantCulture));
    }
}

internal static class TokenNames
{
    public const string AccessToken = "access_token";
    public const string RefreshToken = "refresh_token";
    public const string ExpiresAt = "expires_at";
}

/// <summary>
/// Redeems refresh tokens at the identity service, which takes each one once. Both the sign-in cookie (on a page
/// load) and a live page (<see cref="CircuitTokens"/>, which makes no page loads) refresh, so every exchange is
/// shared and remembered: a second refresh with the same token gets the first one's answer, and a cookie that
/// still holds a token a live page spent is brought up to the newest tokens instead of being refused.
/// </summary>
public sealed partial class TokenRefresher(
    IOptionsMonitor<OpenIdConnectOptions> oidc, IOptions<WebOptions> web, TimeProvider time, ILogger<TokenRefresher> logger)
{
    /// <summary>Remembered exchanges, at most this many (the oldest go first): bounded memory whatever the number of people.</summary>
    public const int MaxRemembered = 10_000;

    private readonly ConcurrentDictionary<string, Exchange> _exchanges = new();

    private sealed record Exchange(DateTimeOffset At, Lazy<Task<Outcome>> Result);

    /// <summary>Whether the identity service refused (rather than could not be asked): the sign-in is over.</summary>
    public sealed record Outcome(TokenSet? Tokens, bool Refused);

    /// <summary>The cookie's check on each request: newest tokens in, a refresh when it is due, a sign-out when it was refused.</summary>
    public async Task ValidateOrRefreshAsync(CookieValidatePrincipalContext context)
    {
        if (TokenSet.From(context.Properties) is not { } stored)
        {
            return;
        }

        // A live page's connection (/_blazor) takes the cookie as it is: a cookie set on its answer may never
        // reach the browser, and the refresh token it spent would be gone.
        var live = context.Request.Path.StartsWithSegments("/_blazor");
        var current = Newest(stored);
        if (!live && current.ExpiresAt - time.GetUtcNow() <= web.Value.RefreshBefore)
        {
            var outcome = await RefreshAsync(current, context.HttpContext.Connection.RemoteIpAddress);
            if (outcome.Refused || (outcome.Tokens is null && current.ExpiresAt <= time.GetUtcNow()))
            {
                context.RejectPrincipal();
                await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                return;
            }

            current = outcome.Tokens ?? current;
        }

        if (!live && current != stored)
        {
            current.WriteTo(context.Properties);
            context.ShouldRenew = true;
        }
    }

    /// <summary>The newest tokens known for <paramref name="tokens"/>: follows the exchanges already made from its refresh token on.</summary>
    public TokenSet Newest(TokenSet tokens)
    {
        for (var hops = 0; hops < 100 && tokens.RefreshToken is { } refresh
            && _exchanges.TryGetValue(Key(refresh), out var exchange)
            && exchange.Result.IsValueCreated && exchange.Result.Value is { IsCompletedSuccessfully: true, Result.Tokens: { } next }; hops++)
        {
            tokens = next;
        }

        return tokens;
    }

    /// <summary>Exchanges the refresh token of <paramref name="tokens"/> (once, however many ask at the same time).</summary>
    public async Task<Outcome> RefreshAsync(TokenSet tokens, IPAddress? visitor)
    {
        if (tokens.RefreshToken is not { } refreshToken)
        {
            return new Outcome(null, Refused: true);
        }

        Forget();
        var key = Key(refreshToken);
        // Not bound to one request's cancellation: the others waiting on it would lose their answer.
        var exchange = _exchanges.GetOrAdd(key, _ => new Exchange(time.GetUtcNow(), new Lazy<Task<Outcome>>(() => RedeemAsync(refreshToken, visitor))));
        var outcome = await exchange.Result.Value;
        if (outcome.Tokens is null)
        {
            // A failure is not kept: the next request asks again (the identity service may be back, or refuse again).
            _exchanges.TryRemove(new KeyValuePair<string, Exchange>(key, exchange));
        }

        return outcome;
    }

    private void Forget()
    {
        if (_exchanges.Count < MaxRemembered)
        {
            return;
        }

        // Exchanges whose tokens have all expired are of no use to anyone; then the oldest, down to the bound.
        var now = time.GetUtcNow();
        foreach (var (key, exchange) in _exchanges)
        {
            if (exchange.Result is { IsValueCreated: true, Value: { IsCompletedSuccessfully: true, Result.Tokens: { } set } } && set.ExpiresAt < now)
            {
                _exchanges.TryRemove(key, out _);
            }
        }

        foreach (var (key, _) in _exchanges.OrderBy(pair => pair.Value.At).Take(_exchanges.Count - (MaxRemembered * 9 / 10)))
        {
            _exchanges.TryRemove(key, out _);
        }
    }

    private static string Key(string refreshToken) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)));

    private async Task<Outcome> RedeemAsync(string refreshToken, IPAddress? visitor)
    {
        var options = oidc.Get(OpenIdConnectDefaults.AuthenticationScheme);
        try
        {
            var configuration = await options.ConfigurationManager!.GetConfigurationAsync(CancellationToken.None);
            using var request = new HttpRequestMessage(HttpMethod.Post, configuration.TokenEndpoint)
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = OpenIdConnectGrantTypes.RefreshToken,
                    ["client_id"] = options.ClientId!,
                    ["refresh_token"] = refreshToken,
                }),
            };
            if (visitor is not null)
            {
                // The identity service counts the exchange against the person's address, not this app's (WebCallerProof).
                request.Options.Set(Auctions.WebCallerProof.Visitor, visitor);
            }

            using var response = await options.Backchannel.SendAsync(request);
            var message = Read(await response.Content.ReadAsStringAsync());
            if (!response.IsSuccessStatusCode || string.IsNullOrEmpty(message.AccessToken))
            {
                LogRefused(logger, (int)response.StatusCode, message.Error);
                // invalid_grant and its kind: the token was used, the account locked or changed. A 5xx may pass, and so
                // may a 429 (too many sign-ins from that address just now): neither says the sign-in is over.
                return new Outcome(null, Refused: (int)response.StatusCode is >= 400 and < 500 and not 429);
            }

            var lifetime = int.TryParse(message.ExpiresIn, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(5);
            return new Outcome(new TokenSet(message.AccessToken, message.RefreshToken ?? refreshToken, time.GetUtcNow() + lifetime), Refused: false);
        }
        catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or IOException or TaskCanceledException)
        {
            LogUnreachable(logger, ex);
            return new Outcome(null, Refused: false);
        }
    }

    /// <summary>The token endpoint's answer; empty when it is not its JSON (a proxy's error page, or no body at all).</summary>
    private static OpenIdConnectMessage Read(string body)
    {
        try
        {
            return new OpenIdConnectMessage(body);
        }
        catch (ArgumentException)
        {
            // What the message's reader throws for an empty or unreadable body.
            return new OpenIdConnectMessage();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The identity service refused to refresh a sign-in ({Status}, {Error}).")]
    private static partial void LogRefused(ILogger logger, int status, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The identity service could not be reached to refresh a sign-in.")]
    private static partial void LogUnreachable(ILogger logger, Exception exception);
}

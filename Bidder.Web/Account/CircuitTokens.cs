using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace Bidder.Web.Account;

/// <summary>
/// The signed-in person's tokens for one live page (a Blazor circuit). Taken from the sign-in cookie each time the
/// page's connection opens (the only moment the circuit sees an HTTP request), and refreshed here when the access
/// token nears its end, since a live page makes no page loads that would refresh the cookie. API calls read the
/// token from here rather than from an ambient HttpContext, which a live event's callback does not have.
/// </summary>
public sealed class CircuitTokens(
    TokenRefresher refresher, TimeProvider time, CircuitVisitor visitor, SignedInPages pages, AuthenticationStateProvider authentication) : IDisposable
{
    /// <summary>A token with less than this left is refreshed before a call: it must outlive the call.</summary>
    public static readonly TimeSpan MinimumLeft = TimeSpan.FromMinutes(2);

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private TokenSet? _tokens;
    private string? _session;
    private volatile bool _signedOut;

    /// <summary>The tokens of the sign-in <paramref name="session"/> (null: a cookie from before sign-ins had ids).</summary>
    public void Capture(TokenSet tokens, string? session)
    {
        tokens = refresher.Newest(tokens);
        _signedOut = false;
        if (_tokens is null || tokens.ExpiresAt > _tokens.ExpiresAt)
        {
            _tokens = tokens;
        }

        if (session != _session)
        {
            Detach();
            _session = session;
            if (session is not null)
            {
                pages.Attach(session, this);
            }
        }
    }

    /// <summary>
    /// The person signed out (in this tab or another): the page keeps no token, so nothing more is done in their name
    /// from it, and it shows itself signed out at once (the sign-in links, no bid form).
    /// </summary>
    public void SignOut()
    {
        _signedOut = true;
        (_tokens, _session) = (null, null);
        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
        }
    }

    public void Dispose() => Detach();

    private void Detach()
    {
        if (_session is { } session)
        {
            pages.Detach(session, this);
        }
    }

    /// <summary>The access token to send, refreshed if it is about to end; null when nobody is signed in.</summary>
    public async Task<string?> AccessTokenAsync(CancellationToken cancellationToken)
    {
        if (_tokens is not { } tokens || tokens.ExpiresAt - time.GetUtcNow() > MinimumLeft)
        {
            return _tokens?.AccessToken;
        }

        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            tokens = refresher.Newest(_tokens ?? tokens);
            if (tokens.ExpiresAt - time.GetUtcNow() <= MinimumLeft && (await refresher.RefreshAsync(tokens, visitor.Address)).Tokens is { } refreshed)
            {
                tokens = refreshed;
            }

            if (_signedOut)
            {
                // Signed out while this refresh was under way: the page keeps nothing it brought.
                return null;
            }

            _tokens = tokens;
            // Expired and not refreshable: the API answers 401 and the page asks the person to sign in again.
            return tokens.AccessToken;
        }
        finally
        {
            _refreshing.Release();
        }
    }
}

/// <summary>Hands each live page's connection the tokens its request's cookie holds, and its visitor's address.</summary>
internal sealed class CircuitConnectionHandler(IHttpContextAccessor accessor, CircuitTokens tokens, CircuitVisitor visitor) : CircuitHandler
{
    public override async Task OnConnectionUpAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        if (accessor.HttpContext is not { } context)
        {
            return;
        }

        visitor.Address = context.Connection.RemoteIpAddress ?? visitor.Address;
        if (context.User.Identity?.IsAuthenticated is true && (await context.AuthenticateAsync()).Properties is { } properties
            && TokenSet.From(properties) is { } captured)
        {
            tokens.Capture(captured, SignedInPages.SessionOf(properties));
        }
    }
}

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

    // The sign-in this page holds: its tokens and its id, changed together under the lock (a sign-out comes from another
    // request's thread while the page may be refreshing).
    private readonly Lock _lock = new();
    private TokenSet? _tokens;
    private string? _session;

    /// <summary>
    /// The tokens of the sign-in <paramref name="session"/> (null: a cookie from before sign-ins had ids), as the page's
    /// connection brings them. A sign-in that has ended is not taken back (a reconnect sent just before the sign-out);
    /// another sign-in's tokens replace the page's, and the page shows that person signed in.
    /// </summary>
    public void Capture(TokenSet tokens, string? session, ClaimsPrincipal user)
    {
        if (session is not null && !pages.Attach(session, this))
        {
            return;
        }

        tokens = refresher.Newest(tokens);
        string? left;
        bool anotherSignIn;
        lock (_lock)
        {
            anotherSignIn = session != _session;
            left = anotherSignIn ? _session : null;
            if (anotherSignIn || _tokens is null || tokens.ExpiresAt > _tokens.ExpiresAt)
            {
                _tokens = tokens;
            }

            _session = session;
        }

        if (left is not null)
        {
            pages.Detach(left, this);
        }

        if (session is not null && pages.HasEnded(session))
        {
            // The sign-out came between the check above and now: it found this page not holding the sign-in yet.
            SignOut(session);
            return;
        }

        if (anotherSignIn && authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(user)));
        }
    }

    /// <summary>
    /// The person signed out (in this tab or another): the page keeps no token, so nothing more is done in their name
    /// from it, and it shows itself signed out at once (the sign-in links, no bid form).
    /// </summary>
    public void SignOut(string session)
    {
        lock (_lock)
        {
            if (_session != session)
            {
                return;
            }

            (_tokens, _session) = (null, null);
        }

        if (authentication is IHostEnvironmentAuthenticationStateProvider host)
        {
            host.SetAuthenticationState(Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity()))));
        }
    }

    public void Dispose()
    {
        string? session;
        lock (_lock)
        {
            (session, _session) = (_session, null);
        }

        if (session is not null)
        {
            pages.Detach(session, this);
        }
    }

    /// <summary>The access token to send, refreshed if it is about to end; null when nobody is signed in.</summary>
    public async Task<string?> AccessTokenAsync(CancellationToken cancellationToken)
    {
        var (tokens, session) = Current();
        if (tokens is null || tokens.ExpiresAt - time.GetUtcNow() > MinimumLeft)
        {
            return tokens?.AccessToken;
        }

        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            (tokens, session) = Current();
            if (tokens is null)
            {
                // Signed out while waiting: nothing to refresh, and the refresh token is not the page's to spend any more.
                return null;
            }

            tokens = refresher.Newest(tokens);
            if (tokens.ExpiresAt - time.GetUtcNow() <= MinimumLeft && (await refresher.RefreshAsync(tokens, visitor.Address)).Tokens is { } refreshed)
            {
                tokens = refreshed;
            }

            lock (_lock)
            {
                if (_session != session || _tokens is null)
                {
                    // Signed out (or another sign-in came) while this refresh was under way: the page keeps nothing it brought.
                    return _tokens?.AccessToken;
                }

                _tokens = tokens;
            }

            // Expired and not refreshable: the API answers 401 and the page asks the person to sign in again.
            return tokens.AccessToken;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private (TokenSet? Tokens, string? Session) Current()
    {
        lock (_lock)
        {
            return (_tokens, _session);
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
            tokens.Capture(captured, SignedInPages.SessionOf(properties), context.User);
        }
    }
}

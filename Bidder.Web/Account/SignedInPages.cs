using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Bidder.Web.Account;

/// <summary>
/// The live pages of each sign-in, so that signing out in one tab signs the person out of their other open tabs at
/// once. A live page (a Blazor circuit) takes its person's tokens when it connects and keeps them while the tab is
/// open: the cookie a sign-out deletes is not read again. Each sign-in carries an id in its cookie
/// (<see cref="SessionItem"/>); a page attaches under it, and a sign-out makes every page attached under it forget
/// its tokens and show itself signed out. The ids of ended sign-ins are kept (the most recent <see cref="MaxEnded"/>,
/// past the cookie's 8 hours at any sign-out rate a process sees): a page connecting with one is refused its tokens, and
/// a copy of the cookie is refused (<see cref="HasEnded"/>). Per process, as the circuits are (README, "Deploy to Azure Container Apps": the
/// web app at one replica).
/// </summary>
public sealed partial class SignedInPages(ILogger<SignedInPages> logger)
{
    /// <summary>The cookie's item that names its sign-in.</summary>
    public const string SessionItem = ".bidder.session";

    /// <summary>Ended sign-ins remembered, at most (the oldest go first): bounded memory.</summary>
    public const int MaxEnded = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<CircuitTokens>> _pages = [];
    private readonly HashSet<string> _ended = [];
    private readonly Queue<string> _endedOrder = new();

    /// <summary>Attaches <paramref name="page"/> under <paramref name="session"/>; false when that sign-in has ended.</summary>
    public bool Attach(string session, CircuitTokens page)
    {
        lock (_lock)
        {
            if (_ended.Contains(session))
            {
                return false;
            }

            if (!_pages.TryGetValue(session, out var pages))
            {
                _pages[session] = pages = [];
            }

            pages.Add(page);
            return true;
        }
    }

    public void Detach(string session, CircuitTokens page)
    {
        lock (_lock)
        {
            if (_pages.TryGetValue(session, out var pages) && pages.Remove(page) && pages.Count == 0)
            {
                _pages.Remove(session);
            }
        }
    }

    public bool HasEnded(string? session)
    {
        lock (_lock)
        {
            return session is not null && _ended.Contains(session);
        }
    }

    /// <summary>The sign-in <paramref name="session"/> ended: each of its open pages forgets its tokens.</summary>
    public void SignedOut(string session)
    {
        HashSet<CircuitTokens>? pages;
        lock (_lock)
        {
            if (_ended.Add(session))
            {
                _endedOrder.Enqueue(session);
                if (_endedOrder.Count > MaxEnded)
                {
                    _ended.Remove(_endedOrder.Dequeue());
                }
            }

            _pages.Remove(session, out pages);
        }

        foreach (var page in pages ?? [])
        {
            try
            {
                page.SignOut(session);
            }
            catch (Exception ex)
            {
                // One page that cannot be told (its circuit going away) must not keep the sign-out from the others, or the cookie.
                LogPageNotSignedOut(ex);
            }
        }
    }

    /// <summary>The sign-in a cookie's properties name; null for a cookie made before sign-ins had ids.</summary>
    public static string? SessionOf(AuthenticationProperties? properties) =>
        properties?.Items.TryGetValue(SessionItem, out var session) == true ? session : null;

    /// <summary>Names a new sign-in (the cookie's sign-in event): its id lasts as long as its cookie, refreshes included.</summary>
    public static Task NameAsync(CookieSigningInContext context)
    {
        context.Properties.Items.TryAdd(SessionItem, Guid.NewGuid().ToString("N"));
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A live page could not be told of its sign-out.")]
    private partial void LogPageNotSignedOut(Exception exception);
}

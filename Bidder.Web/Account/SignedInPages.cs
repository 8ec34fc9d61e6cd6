using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Bidder.Web.Account;

/// <summary>
/// The live pages of each sign-in, so that signing out in one tab signs the person out of their other open tabs at
/// once. A live page (a Blazor circuit) takes its person's tokens when it connects and keeps them while the tab is
/// open: the cookie a sign-out deletes is not read again. Each sign-in carries an id in its cookie
/// (<see cref="SessionItem"/>); a page attaches under it, and a sign-out makes every page attached under it forget
/// its tokens and show itself signed out. Only open pages are held (a page detaches when its circuit ends), so
/// memory follows the open tabs. Per process, as the circuits are (README: the web app's replicas and affinity).
/// </summary>
public sealed class SignedInPages
{
    /// <summary>The cookie's item that names its sign-in.</summary>
    public const string SessionItem = ".bidder.session";

    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<CircuitTokens>> _pages = [];

    public void Attach(string session, CircuitTokens page)
    {
        lock (_lock)
        {
            if (!_pages.TryGetValue(session, out var pages))
            {
                _pages[session] = pages = [];
            }

            pages.Add(page);
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

    /// <summary>The sign-in <paramref name="session"/> ended: each of its open pages forgets its tokens.</summary>
    public void SignedOut(string session)
    {
        HashSet<CircuitTokens>? pages;
        lock (_lock)
        {
            _pages.Remove(session, out pages);
        }

        foreach (var page in pages ?? [])
        {
            page.SignOut();
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
}

using System.Security.Claims;
using Bidder.Web.Account;
using Bidder.Web.Extensions;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bidder.Tests.Web;

/// <summary>
/// A sign-out reaching the person's other live pages (a unit test of the registry and a page's tokens; the browser
/// flow is <c>WebAppTests</c>): every page of that sign-in forgets its tokens and shows itself signed out, another
/// sign-in's pages keep theirs, and a page connecting with an ended sign-in is not given its tokens back.
/// </summary>
public sealed class SignedInPagesTests
{
    private static readonly TokenSet Fresh = new("access", "refresh", DateTimeOffset.UtcNow.AddMinutes(30));
    private static readonly ClaimsPrincipal Ada = new(new ClaimsIdentity([new Claim("name", "Ada")], "test"));
    private readonly SignedInPages _pages = new(NullLogger<SignedInPages>.Instance);

    [Fact]
    public async Task A_sign_out_empties_every_page_of_that_sign_in_and_no_other()
    {
        var (first, firstState) = Page();
        var (second, _) = Page();
        var (other, _) = Page();
        first.Capture(Fresh, "sign-in-1", Ada);
        second.Capture(Fresh, "sign-in-1", Ada);
        other.Capture(Fresh, "sign-in-2", Ada);

        _pages.SignedOut("sign-in-1");

        Assert.Null(await first.AccessTokenAsync(TestContext.Current.CancellationToken));
        Assert.Null(await second.AccessTokenAsync(TestContext.Current.CancellationToken));
        Assert.False((await firstState.GetAuthenticationStateAsync()).User.Identity?.IsAuthenticated);
        Assert.Equal("access", await other.AccessTokenAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task A_page_connecting_with_an_ended_sign_in_is_not_given_its_tokens()
    {
        _pages.SignedOut("sign-in-1");
        var (late, _) = Page();

        // A reconnect sent just before the sign-out, still carrying the cookie.
        late.Capture(Fresh, "sign-in-1", Ada);

        Assert.Null(await late.AccessTokenAsync(TestContext.Current.CancellationToken));
        Assert.True(_pages.HasEnded("sign-in-1"));
        Assert.False(_pages.HasEnded("sign-in-2"));
    }

    [Fact]
    public async Task A_closed_page_is_let_go()
    {
        var (page, _) = Page();
        page.Capture(Fresh, "sign-in-1", Ada);
        page.Dispose();

        _pages.SignedOut("sign-in-1");

        // Detached when its circuit ended: the sign-out did not reach it (nothing holds it any more).
        Assert.Equal("access", await page.AccessTokenAsync(TestContext.Current.CancellationToken));
    }

    private (CircuitTokens Page, AuthenticationStateProvider State) Page()
    {
        var state = new ServerAuthenticationStateProvider();
        state.SetAuthenticationState(Task.FromResult(new AuthenticationState(Ada)));
        var refresher = new TokenRefresher(new TokenRefresherTests.FixedOptions(new OpenIdConnectOptions()), Options.Create(new WebOptions()),
            TimeProvider.System, NullLogger<TokenRefresher>.Instance);
        return (new CircuitTokens(refresher, TimeProvider.System, new CircuitVisitor(), _pages, state), state);
    }
}

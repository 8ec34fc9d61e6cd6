using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bidder.Tests.Web;

/// <summary>
/// A sign-in outlives its access tokens: with 8-second tokens, a live page (which makes no page loads) refreshes
/// its own, a page load afterwards picks up the tokens the live page got (the identity service takes each refresh
/// token once, so the cookie's spent one must not be offered again), and bidding goes on throughout.
/// </summary>
public sealed class WebSessionTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private static readonly TimeSpan TokenLifetime = TimeSpan.FromSeconds(8);
    private DistributedApplication _app = null!;

    public async ValueTask InitializeAsync() =>
        _app = await EmbeddedApp.StartAsync(["Bidder:Infrastructure=embedded", $"Bidder:Identity:AccessTokenLifetime={TokenLifetime:c}"]);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Bidding_goes_on_after_the_access_token_expires_on_a_live_page_and_across_page_loads()
    {
        var person = await WebPerson.RegisterAsync(browser, _app, "Hal Web");
        var signedInAt = DateTimeOffset.UtcNow;
        var item = await CreateItemAsync();
        var page = person.Page;

        // The token the page opened with has expired (its end is a moment in time: there is no event to await).
        await Task.Delay(signedInAt + TokenLifetime + TimeSpan.FromSeconds(2) - DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);
        // To the item inside the live page: no page load, so only the page's own refresh can renew the token.
        await page.EvaluateAsync($"Blazor.navigateTo('/items/{item}')");
        await BidAsync(page, "11");

        // A page load: the cookie still holds the refresh token the live page spent; it is brought up to date, not refused.
        await page.ReloadAsync();
        await Expect(page.GetByText("Signed in as Hal Web")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "My bids" }).ClickAsync();
        await Expect(page.GetByTestId("bid-status").First).ToHaveTextAsync("Accepted");

        await Task.Delay(TokenLifetime + TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        await page.EvaluateAsync($"Blazor.navigateTo('/items/{item}')");
        await BidAsync(page, "12");
        await person.DisposeAsync();
    }

    private static async Task BidAsync(IPage page, string value)
    {
        await page.PlaceBidAsync(value);
        await Expect(page.GetByTestId("bid-feedback")).ToHaveTextAsync($"Your bid of {value}.00 EUR was accepted.");
    }

    private async Task<Guid> CreateItemAsync()
    {
        using var admin = await _app.AdminAsync();
        using var response = await admin.Api.PostAsJsonAsync("/items/", new { name = "Long session lot", init_bid = 10m, bidding_enddate = DateTimeOffset.UtcNow.AddHours(1) },
            TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return Guid.Parse((await response.ReadObjectAsync()).Id());
    }
}

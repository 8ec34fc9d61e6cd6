using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Aspire.Hosting.Testing;
using Bidder.Tests.Support;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Bidder.Tests.Web;

/// <summary>
/// The auction house in a real browser (Chromium), as a person uses it: register and sign in at the identity
/// service, bid and see the decision, watch another person's bid arrive without reloading, see an auction close,
/// sell, and bid with the keyboard alone. Screenshots of each go to .artifacts/screenshots.
/// </summary>
[Collection(EmbeddedAppCollection.Name)]
public sealed class WebAppTests(EmbeddedApp fixture, Browser browser) : IClassFixture<Browser>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    [Fact]
    public async Task A_person_registers_signs_out_and_signs_in_again()
    {
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Ada Web");
        var page = person.Page;

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByText("Signed in as")).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await page.GetByLabel("Email").FillAsync(person.Email);
        await page.GetByLabel("Password").FillAsync(Accounts.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Signed in as Ada Web")).ToBeVisibleAsync();
        await person.DisposeAsync();
    }

    [Fact]
    public async Task Signing_out_in_one_tab_signs_the_person_out_of_their_other_open_tabs()
    {
        var item = await CreateItemAsync("Tin wind-up robot", initBid: 10m, end: DateTimeOffset.UtcNow.AddMinutes(5));
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Tab Web");
        var bidding = person.Page;
        await bidding.GotoAsync($"/items/{item}");
        await Expect(bidding.GetByLabel("Your bid (EUR)")).ToBeVisibleAsync();

        var other = await bidding.Context.NewPageAsync();
        await other.GotoAsync("/");
        await other.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(other.GetByRole(AriaRole.Link, new() { Name = "Sign in", Exact = true })).ToBeVisibleAsync();

        // The first tab was never reloaded: its live page drops the sign-in at once, and with it the bid form.
        await Expect(bidding.GetByRole(AriaRole.Link, new() { Name = "Sign in to bid" })).ToBeVisibleAsync();
        await Expect(bidding.GetByLabel("Your bid (EUR)")).ToHaveCountAsync(0);
        await Expect(bidding.GetByText("Signed in as")).ToHaveCountAsync(0);
        await person.DisposeAsync();
    }

    [Theory]
    [InlineData("01a223ad-2458-7874-b9ec-47f4556c3eee")]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    public async Task An_auction_that_does_not_exist_says_so(string id)
    {
        var page = await browser.OpenAsync(fixture.App);

        await page.GotoAsync($"/items/{id}");

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Auction not found" })).ToBeVisibleAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_bid_placed_in_the_browser_is_accepted_and_shows_in_my_bids()
    {
        var item = await CreateItemAsync("Brass desk lamp", initBid: 10m);
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Bea Web");
        var page = person.Page;

        await page.GotoAsync($"/items/{item}");
        await Expect(page.GetByTestId("minimum-next-bid")).ToHaveTextAsync("10.00 EUR");
        await page.PlaceBidAsync("12.50");

        await Expect(page.GetByTestId("bid-feedback")).ToHaveTextAsync("Your bid of 12.50 EUR was accepted.");
        await Expect(page.GetByTestId("price")).ToHaveTextAsync("12.50 EUR");
        await Expect(page.GetByTestId("minimum-next-bid")).ToHaveTextAsync("12.51 EUR");
        await Expect(page.GetByTestId("bid-history")).ToContainTextAsync("You");
        await Browser.ScreenshotAsync(page, "item-page");

        await page.GetByRole(AriaRole.Link, new() { Name = "My bids" }).ClickAsync();
        var row = page.GetByTestId("my-bids").GetByRole(AriaRole.Row).Filter(new() { HasText = "Brass desk lamp" });
        await Expect(row.GetByTestId("bid-status")).ToHaveTextAsync("Accepted");
        await person.DisposeAsync();
    }

    [Fact]
    public async Task A_bid_in_one_browser_appears_in_another_without_reloading()
    {
        var item = await CreateItemAsync("Green reading chair", initBid: 20m, end: DateTimeOffset.UtcNow.AddMinutes(5));
        var ann = await WebPerson.RegisterAsync(browser, fixture.App, "Ann Web");
        var bob = await WebPerson.RegisterAsync(browser, fixture.App, "Bob Web");
        await ann.Page.GotoAsync($"/items/{item}");
        await bob.Page.GotoAsync($"/items/{item}");
        await Expect(bob.Page.GetByTestId("price")).ToHaveTextAsync("20.00 EUR");

        await ann.Page.PlaceBidAsync("25");

        // Bob's page was never reloaded: the live stream brought Ann's bid.
        await Expect(bob.Page.GetByTestId("price")).ToHaveTextAsync("25.00 EUR");
        await Expect(bob.Page.GetByTestId("bid-count")).ToHaveTextAsync("1");
        await Expect(bob.Page.GetByTestId("bid-history")).ToContainTextAsync("25.00 EUR");

        // And the board Bob opens next keeps moving too.
        await bob.Page.GetByRole(AriaRole.Link, new() { Name = "Auctions" }).ClickAsync();
        var card = await FindOnBoardAsync(bob.Page, item);
        await Expect(card.GetByTestId("price")).ToHaveTextAsync("25.00 EUR");
        await bob.Page.GotoAsync($"/items/{item}");
        await bob.Page.PlaceBidAsync("30");
        await Expect(ann.Page.GetByTestId("price")).ToHaveTextAsync("30.00 EUR");
        await ann.DisposeAsync();
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task A_bid_below_the_minimum_shows_its_reason_in_words()
    {
        var item = await CreateItemAsync("Wall clock", initBid: 10m);
        using (var response = await fixture.Bidder.Api.PostJsonAsync("/events/", $$"""{"item_id": "{{item}}", "value": 40}"""))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Cy Web");
        var page = person.Page;
        await page.GotoAsync($"/items/{item}");
        await Expect(page.GetByTestId("price")).ToHaveTextAsync("40.00 EUR");

        await page.PlaceBidAsync("35");
        await Expect(page.GetByTestId("bid-feedback")).ToContainTextAsync("Your bid of 35.00 EUR was rejected: Too low.");
        await Browser.ScreenshotAsync(page, "item-page-rejected");

        await page.GetByRole(AriaRole.Link, new() { Name = "My bids" }).ClickAsync();
        await Expect(page.GetByTestId("bid-status").First).ToContainTextAsync("Rejected: Too low");
        await person.DisposeAsync();
    }

    [Fact]
    public async Task An_auction_closes_on_screen_with_its_result()
    {
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Di Web");
        var item = await CreateItemAsync("Closing soon", initBid: 5m, end: DateTimeOffset.UtcNow.AddSeconds(10));
        var page = person.Page;
        await page.GotoAsync($"/items/{item}");
        await page.PlaceBidAsync("6");
        await Expect(page.GetByTestId("bid-feedback")).ToHaveTextAsync("Your bid of 6.00 EUR was accepted.");

        // The streamer closes it a few seconds after the end: the page hears it, no reload.
        await Expect(page.GetByTestId("auction-status")).ToHaveTextAsync("Closed: sold to you for 6.00 EUR", new() { Timeout = 40_000 });
        await Expect(page.GetByLabel("Your bid (EUR)")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("countdown")).ToHaveCountAsync(0);

        await page.GotoAsync("/?status=closed");
        await Expect((await FindOnBoardAsync(page, item)).GetByTestId("result")).ToHaveTextAsync("Sold for 6.00 EUR");
        await person.DisposeAsync();
    }

    [Fact]
    public async Task A_seller_starts_an_auction_from_the_sell_page_and_reads_errors_in_words()
    {
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Eve Web");
        var page = person.Page;
        var name = $"Sold by form {Guid.NewGuid():N}"[..24];
        await page.GetByRole(AriaRole.Link, new() { Name = "Sell" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Start an auction" })).ToBeVisibleAsync();

        // A reserve below the starting price: the API refuses it, and the page says so in words, by field.
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Pictures").FillAsync($"{fixture.App.GetEndpoint("web", "http")}samples/clock.svg");
        await page.GetByLabel("Starting price").FillAsync("50");
        await page.GetByLabel("Reserve price").FillAsync("20");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start auction" }).ClickAsync();
        var error = page.GetByTestId("sell-error");
        await Expect(error).ToContainTextAsync("Reserve price: must be at least the starting price");
        await Expect(error).Not.ToContainTextAsync("{");
        // In words: the API's field names ('init_bid', 'reserve_price') are not the page's.
        await Expect(error).Not.ToContainTextAsync("_");
        await Expect(page.GetByLabel("Reserve price")).ToHaveAttributeAsync("aria-invalid", "true");

        await page.GetByLabel("Reserve price").FillAsync("80");
        await page.GetByLabel("Bid increment").FillAsync("5");
        await page.GetByLabel("Soft close").FillAsync("60");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start auction" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = name })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("reserve")).ToHaveTextAsync("Not met yet (yours: 80.00 EUR)");
        await Expect(page.GetByText("This is your auction")).ToBeVisibleAsync();
        await Expect(page.GetByText("Soft close: a bid in the last 1 min")).ToBeVisibleAsync();
        await person.DisposeAsync();
    }

    [Fact]
    public async Task Bidding_works_with_the_keyboard_alone()
    {
        var item = await CreateItemAsync("Keyboard lot", initBid: 3m);
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Flo Web");
        var page = person.Page;
        await page.GotoAsync($"/items/{item}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Keyboard lot" })).ToBeVisibleAsync();
        // A page's heading takes the focus once it has rendered (FocusOnNavigate, through a call to the browser that can
        // come after the heading shows): awaited, so it cannot move the focus in the middle of the Tab presses below.
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Keyboard lot" })).ToBeFocusedAsync();

        // From the top of the page, Tab alone goes through the skip link, the menu and the account, then to the bid field.
        await page.EvaluateAsync("() => { document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex'); }");
        var focused = new List<string>();
        while (focused.LastOrDefault() != "input#bid-value")
        {
            Assert.True(focused.Count < 20, $"The bid field is not reachable with Tab: {string.Join(" > ", focused)}");
            await page.Keyboard.PressAsync("Tab");
            focused.Add(await page.EvaluateAsync<string>(
                "(() => { const e = document.activeElement; return e.id ? `${e.localName}#${e.id}` : `${e.localName}:${e.textContent.trim()}`; })()"));
        }

        Assert.Equal(["a:Skip to main content", "a:Bidder", "a:Auctions", "a:Sell", "a:My bids", "button:Sign out", "input#bid-value"], focused);
        await page.Keyboard.TypeAsync("4");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByTestId("bid-feedback")).ToHaveTextAsync("Your bid of 4.00 EUR was accepted.");
        await person.DisposeAsync();
    }

    [Fact]
    public async Task The_board_lists_open_auctions_ending_soonest_first_with_live_prices_on_a_phone()
    {
        var web = fixture.App.GetEndpoint("web", "http");
        var sooner = await CreateItemAsync("Board chair", initBid: 30m, end: DateTimeOffset.UtcNow.AddMinutes(3), picture: $"{web}samples/chair.svg");
        var later = await CreateItemAsync("Board lamp", initBid: 15m, end: DateTimeOffset.UtcNow.AddMinutes(4), picture: $"{web}samples/lamp.svg");
        var page = await browser.OpenAsync(fixture.App, new ViewportSize { Width = 390, Height = 844 });
        await page.GotoAsync("/");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Auctions", Exact = true })).ToBeVisibleAsync();

        // Other tests' auctions may end sooner: page on until ours show, as a person would; every page in end order.
        var card = await FindOnBoardAsync(page, later);
        var order = await page.Locator("[data-item-id]").EvaluateAllAsync<string[]>("cards => cards.map(c => c.dataset.itemId)");
        Assert.True(Array.IndexOf(order, sooner.ToString()) is var at && (at < 0 || at < Array.IndexOf(order, later.ToString())), "The auction ending sooner is listed first.");
        await Expect(card.GetByTestId("countdown")).ToHaveTextAsync(new Regex(@"^[34] min \d\d s left$"));

        using (var response = await fixture.Bidder.Api.PostJsonAsync("/events/", $$"""{"item_id": "{{later}}", "value": 16}"""))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        await Expect(card.GetByTestId("price")).ToHaveTextAsync("16.00 EUR");
        await Expect(card.GetByTestId("bid-count")).ToHaveTextAsync("1 bid");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Pressing_place_bid_starts_one_trace_that_reaches_the_streamers_batch_write()
    {
        var item = await CreateItemAsync("Traced lot", initBid: 1m);
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Gus Web");
        var page = person.Page;
        await page.GotoAsync($"/items/{item}");
        await page.PlaceBidAsync("2");
        await Expect(page.GetByTestId("bid-feedback")).ToHaveTextAsync("Your bid of 2.00 EUR was accepted.");

        var press = (await Eventually.WaitAsync(
            () => Task.FromResult(fixture.Telemetry.Find(s => s.Service == "web" && s.Name == "place bid" && s.Attributes.GetValueOrDefault("bidder.item.id") == item.ToString())),
            span => span is not null, "the web app's span of the button press"))!;
        var spans = await Eventually.WaitAsync(
            () => Task.FromResult(fixture.Telemetry.Trace(press.TraceId)),
            trace => Platform.TraceTests.IsComplete(trace, fixture.Telemetry),
            $"trace {press.TraceId} to reach the streamer's batch write",
            trace => string.Join(", ", trace.Select(s => $"{s.Service}: {s.Name}")));

        // The press starts the trace (not the page's long-lived connection), and each hop is the child of the one before.
        Assert.Equal("", press.ParentSpanId.Trim('0'));
        var post = Assert.Single(spans, s => s.Service == "api" && s.Name == "POST /events/");
        var chain = new List<ExportedSpan> { post };
        while (chain[^1].ParentSpanId.Trim('0').Length > 0 && spans.FirstOrDefault(s => s.SpanId == chain[^1].ParentSpanId) is { } parent)
        {
            chain.Add(parent);
        }

        Assert.Equal(press.SpanId, chain[^1].SpanId);
        Assert.Contains(chain, s => s.Service == "web" && s.Name.StartsWith("POST", StringComparison.Ordinal));
        var process = Assert.Single(spans, s => s.Service == "streamer" && s.Name == "process bids");
        Assert.NotNull(Platform.TraceTests.RecordSpan(spans, process, fixture.Telemetry));
        await person.DisposeAsync();
    }

    [Fact]
    public async Task Every_page_passes_the_axe_accessibility_rules()
    {
        var item = await CreateItemAsync("Accessible lot", initBid: 8m);
        var person = await WebPerson.RegisterAsync(browser, fixture.App, "Ivy Web");
        var page = person.Page;
        await page.GotoAsync($"/items/{item}");
        await page.PlaceBidAsync("9");
        await Expect(page.GetByTestId("bid-feedback")).ToHaveTextAsync("Your bid of 9.00 EUR was accepted.");

        foreach (var (path, ready) in new[] { ($"/items/{item}", "bid-history"), ("/", "countdown"), ("/my/bids", "my-bids"), ("/sell", "") })
        {
            await page.GotoAsync(path);
            await (ready.Length > 0 ? page.GetByTestId(ready).First : page.GetByRole(AriaRole.Button, new() { Name = "Start auction" })).WaitForAsync();
            var results = await page.RunAxe();
            Assert.True(results.Violations.Length == 0, $"{path}: " + string.Join("; ", results.Violations.Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Target))}")));
        }

        await person.DisposeAsync();
    }

    /// <summary>
    /// The board's card of an item, paging on with "Next page" until it shows (other tests' auctions may come
    /// first); on the way, each page's cards must be in the board's order (open: ending soonest first).
    /// </summary>
    private static async Task<ILocator> FindOnBoardAsync(IPage page, Guid item)
    {
        var closed = page.Url.Contains("status=closed", StringComparison.Ordinal);
        await page.Locator(".cards").WaitForAsync();
        var card = page.Locator($"[data-item-id='{item}']");
        for (var pages = 1; await card.CountAsync() == 0; pages++)
        {
            var ends = (await page.Locator("[data-ends-at]").EvaluateAllAsync<string[]>("cards => cards.map(c => c.dataset.endsAt)")).Select(DateTime.Parse).ToList();
            Assert.Equal(closed ? ends.OrderDescending() : ends.Order(), ends);
            Assert.True(pages < 50, "The item is on none of the board's pages.");
            var next = page.GetByRole(AriaRole.Link, new() { Name = "Next page" });
            var cursor = Uri.UnescapeDataString((await next.GetAttributeAsync("href"))!.Split("cursor=")[1]);
            await next.ClickAsync();
            // The next page has rendered when the list says which page it is.
            await page.Locator($".cards[data-cursor=\"{cursor}\"]").WaitForAsync();
        }

        return card;
    }

    private async Task<Guid> CreateItemAsync(string name, decimal initBid, DateTimeOffset? end = null, string? picture = null)
    {
        var web = fixture.App.GetEndpoint("web", "http");
        using var response = await fixture.Admin.Api.PostAsJsonAsync("/items/", new Dictionary<string, object>
        {
            ["name"] = name,
            ["init_bid"] = initBid,
            ["bidding_enddate"] = (end ?? DateTimeOffset.UtcNow.AddDays(1)).ToString("O"),
            ["pictures"] = new[] { picture ?? $"{web}samples/lamp.svg" },
        }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return Guid.Parse((await response.ReadObjectAsync()).Id());
    }
}

using Bidder.Domain;
using Bidder.Streamer.Pipeline;

namespace Bidder.Tests.Streamer;

/// <summary>
/// How the closer reads the due items (<see cref="AuctionCloser.SelectDueAsync"/>): page after page past the ones it
/// leaves to others, until it has a page's worth to act on, the answer ends, or its page bound. The pages come from a
/// list standing in for the store, whose cursor <see cref="Storage.BidderStoreContract"/> checks on every store.
/// </summary>
public class AuctionCloserTests
{
    private const int PageSize = 3;
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    // Seen failing with a single read per check (the auctions behind a full page of others' never close).
    [Fact]
    public async Task A_full_page_of_items_left_to_others_is_read_past()
    {
        var pages = new Pages(Others(PageSize), Mine(2));

        var kept = await AuctionCloser.SelectDueAsync(pages.ReadAsync, PageSize, pages.Select);

        Assert.Equal(pages.Mine, kept);
        Assert.Equal([null, Position(pages.All[PageSize - 1])], pages.Cursors);
    }

    // Seen failing with the reading going on to the end of the page, and with it going on to the next page.
    [Fact]
    public async Task Reading_stops_once_a_pages_worth_is_kept()
    {
        var pages = new Pages(Others(2), Mine(5));

        var kept = await AuctionCloser.SelectDueAsync(pages.ReadAsync, PageSize, pages.Select);

        Assert.Equal(pages.Mine.Take(PageSize), kept);
        Assert.Equal(2, pages.Cursors.Count);
    }

    // Seen failing with an empty page taken as the end (one read more per check).
    [Fact]
    public async Task Reading_stops_at_a_page_that_is_not_full()
    {
        var pages = new Pages(Others(PageSize + 1), Mine(1));

        var kept = await AuctionCloser.SelectDueAsync(pages.ReadAsync, PageSize, pages.Select);

        Assert.Equal(pages.Mine, kept);
        Assert.Equal(2, pages.Cursors.Count);
    }

    // Seen failing with no bound on the pages (a check as long as the backlog of others' items).
    [Fact]
    public async Task One_check_reads_at_most_its_page_bound()
    {
        var pages = new Pages(Others(AuctionCloser.MaxPagesPerCheck * PageSize), Mine(1));

        var kept = await AuctionCloser.SelectDueAsync(pages.ReadAsync, PageSize, pages.Select);

        Assert.Empty(kept);
        Assert.Equal(AuctionCloser.MaxPagesPerCheck, pages.Cursors.Count);
    }

    private static List<Item> Others(int count) => Items(count, offset: 0);

    private static List<Item> Mine(int count) => Items(count, offset: 1000);

    // Ending a minute apart, in the order made; the offset keeps the two kinds apart in time.
    private static List<Item> Items(int count, int offset) =>
    [
        .. Enumerable.Range(offset, count).Select(i => new Item(
            Guid.CreateVersion7(T0.AddMilliseconds(i)), "lamp", 10m, 0m, null, null, "EUR", [], 0, T0, T0.AddMinutes(i))),
    ];

    private static Cursor Position(Item item) => new(item.BiddingEndDate.ToUnixTimeMilliseconds(), item.Id);

    /// <summary>The due items in (end, id) order, read a page at a time after a cursor, as the store answers; records each read's cursor.</summary>
    private sealed class Pages(List<Item> others, List<Item> mine)
    {
        public List<Item> Mine { get; } = mine;

        public List<Item> All { get; } = [.. others.Concat(mine).OrderBy(i => i.BiddingEndDate).ThenBy(i => i.Id)];

        public List<Cursor?> Cursors { get; } = [];

        public Task<IReadOnlyList<Item>> ReadAsync(Cursor? after)
        {
            Cursors.Add(after);
            IReadOnlyList<Item> page = [.. All.Where(i => after is not { } cursor || Compare(Position(i), cursor) > 0).Take(PageSize)];
            return Task.FromResult(page);
        }

        public Item? Select(Item item) => Mine.Contains(item) ? item : null;

        private static int Compare(Cursor a, Cursor b) => a.SortValue != b.SortValue ? a.SortValue.CompareTo(b.SortValue) : a.Id.CompareTo(b.Id);
    }
}

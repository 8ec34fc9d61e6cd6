using Bidder.Domain;
using Bidder.Core.Storage;
using Bidder.Tests.Support;

namespace Bidder.Tests.Storage;

/// <summary>
/// The behaviour every storage adapter owes the services. Each adapter runs this whole suite
/// (<see cref="SqliteBidderStoreTests"/>, <see cref="MongoBidderStoreTests"/>).
/// </summary>
public abstract class BidderStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A fresh, initialized, empty store.</summary>
    protected abstract Task<IBidderStore> CreateStoreAsync();

    [Fact]
    public async Task A_created_user_reads_back_exactly_unicode_included()
    {
        var store = await CreateStoreAsync();
        var user = NewUser("Zoë 🐙 \"quoted\" {\"$gt\": \"\"} '; DROP TABLE users; --", T0);

        await store.CreateUserAsync(user, Timeout);

        Assert.Equal(user, await store.GetUserAsync(user.Id, Timeout));
        Assert.Null(await store.GetUserAsync(Guid.CreateVersion7(), Timeout));
    }

    [Fact]
    public async Task A_created_item_reads_back_exactly()
    {
        var store = await CreateStoreAsync();
        var item = NewItem(T0, initBid: 12345.67m, pictures: ["https://example.com/a.png", "https://example.com/ü.png"]);

        await store.CreateItemAsync(item, Timeout);

        var read = await store.GetItemAsync(item.Id, Timeout);
        Assert.NotNull(read);
        Assert.Equal(item with { Pictures = [] }, read with { Pictures = [] });
        Assert.Equal(item.Pictures, read.Pictures);
    }

    // Every path an item is read by (the API's single read and listing, the streamer's batch lookup), and after
    // a batch moved its winning bid: the seller stays, and an item created without one reads back with none.
    [Fact]
    public async Task An_items_seller_reads_back_everywhere_and_an_unknown_seller_stays_null()
    {
        var store = await CreateStoreAsync();
        var (bidder, _) = await SeedAsync(store);
        var seller = NewUser("seller", T0);
        await store.CreateUserAsync(seller, Timeout);
        var sold = NewItem(T0.AddMilliseconds(1)) with { SellerId = seller.Id };
        var unsold = NewItem(T0.AddMilliseconds(2));
        await store.CreateItemAsync(sold, Timeout);
        await store.CreateItemAsync(unsold, Timeout);
        var win = Accepted(sold, bidder, 20m, T0.AddSeconds(1));
        await store.RecordBatchAsync(new ProcessedBatch([win], [State(sold, win, bids: 1)]), Timeout);

        var listed = (await store.ListItemsAsync(null, T0, new PageRequest(10, null), Timeout)).Items.ToDictionary(i => i.Id);
        var looked = await store.GetItemsAsync([sold.Id, unsold.Id], Timeout);
        foreach (var read in new[] { await store.GetItemAsync(sold.Id, Timeout), listed[sold.Id], looked[sold.Id] })
        {
            Assert.Equal(seller.Id, read!.SellerId);
            Assert.Equal(20m, read.WinningBid);
        }

        foreach (var read in new[] { await store.GetItemAsync(unsold.Id, Timeout), listed[unsold.Id], looked[unsold.Id] })
        {
            Assert.Null(read!.SellerId);
        }
    }

    [Fact]
    public async Task Walking_all_pages_returns_every_user_once_newest_first()
    {
        var store = await CreateStoreAsync();
        var users = Enumerable.Range(0, 23).Select(i => NewUser($"user {i}", T0.AddMilliseconds(i))).ToList();
        foreach (var user in users)
        {
            await store.CreateUserAsync(user, Timeout);
        }

        var walked = await WalkAsync(page => store.ListUsersAsync(page, Timeout), limit: 5);

        Assert.Equal(users.Select(u => u.Id).Reverse(), walked.Select(u => u.Id));
    }

    [Fact]
    public async Task Pages_stay_exact_while_records_are_added_between_them()
    {
        var store = await CreateStoreAsync();
        var existing = Enumerable.Range(0, 12).Select(i => NewUser($"old {i}", T0.AddMilliseconds(i))).ToList();
        foreach (var user in existing)
        {
            await store.CreateUserAsync(user, Timeout);
        }

        var seen = new List<Guid>();
        PageRequest request = new(4, null);
        var added = 0;
        while (true)
        {
            var page = await store.ListUsersAsync(request, Timeout);
            seen.AddRange(page.Items.Select(u => u.Id));
            // Newer records arrive while the client walks: they sort before the cursor and must not disturb the walk.
            await store.CreateUserAsync(NewUser($"new {added++}", T0.AddSeconds(10 + added)), Timeout);
            if (page.NextCursor is null)
            {
                break;
            }

            Assert.True(Cursor.TryDecode(page.NextCursor, out var cursor));
            request = new PageRequest(4, cursor);
        }

        Assert.Equal(existing.Select(u => u.Id).Reverse(), seen);
    }

    [Fact]
    public async Task Items_filter_by_open_and_closed_at_a_given_time()
    {
        var store = await CreateStoreAsync();
        var closed = NewItem(T0, end: T0.AddHours(1));
        var open = NewItem(T0.AddMilliseconds(1), end: T0.AddHours(3));
        await store.CreateItemAsync(closed, Timeout);
        await store.CreateItemAsync(open, Timeout);
        var now = T0.AddHours(2);

        var openPage = await store.ListItemsAsync(ItemStatus.Open, now, new PageRequest(10, null), Timeout);
        var closedPage = await store.ListItemsAsync(ItemStatus.Closed, now, new PageRequest(10, null), Timeout);
        var allPage = await store.ListItemsAsync(null, now, new PageRequest(10, null), Timeout);

        Assert.Equal([open.Id], openPage.Items.Select(i => i.Id));
        Assert.Equal([closed.Id], closedPage.Items.Select(i => i.Id));
        Assert.Equal([open.Id, closed.Id], allPage.Items.Select(i => i.Id));
    }

    [Fact]
    public async Task A_recorded_batch_stores_bids_moves_counters_and_sets_the_winner()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var first = Accepted(item, user, 20m, T0.AddSeconds(1));
        var second = Accepted(item, user, 30.5m, T0.AddSeconds(2));
        var rejected = Rejected(item, user, 5m, T0.AddSeconds(3), "too_low");

        await store.RecordBatchAsync(new ProcessedBatch([first, second, rejected], [State(item, second, bids: 2)]), Timeout);

        var storedItem = await store.GetItemAsync(item.Id, Timeout);
        Assert.Equal(30.5m, storedItem!.WinningBid);
        Assert.Equal(user.Id, storedItem.WinningUserId);
        Assert.Equal(second.Id, storedItem.WinningBidId);
        Assert.Equal(2, storedItem.Bids);
        Assert.Equal(2, (await store.GetUserAsync(user.Id, Timeout))!.Bids);
        Assert.Equal(rejected, await store.GetBidAsync(rejected.Id, Timeout));
        Assert.Equal(first, await store.GetBidAsync(first.Id, Timeout));
    }

    [Fact]
    public async Task Replaying_a_batch_changes_nothing()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var bid = Accepted(item, user, 20m, T0.AddSeconds(1));
        var batch = new ProcessedBatch([bid], [State(item, bid, bids: 1)]);

        await store.RecordBatchAsync(batch, Timeout);
        await store.RecordBatchAsync(batch, Timeout);

        Assert.Equal(1, (await store.GetUserAsync(user.Id, Timeout))!.Bids);
        Assert.Equal(1, (await store.GetItemAsync(item.Id, Timeout))!.Bids);
        Assert.Single((await store.ListBidsAsync(null, new PageRequest(10, null), Timeout)).Items);
    }

    [Fact]
    public async Task An_older_item_state_never_overwrites_a_newer_one()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var low = Accepted(item, user, 20m, T0.AddSeconds(1));
        var high = Accepted(item, user, 40m, T0.AddSeconds(2));

        await store.RecordBatchAsync(new ProcessedBatch([low, high], [State(item, high, bids: 2)]), Timeout);
        await store.RecordBatchAsync(new ProcessedBatch([low], [State(item, low, bids: 1)]), Timeout);

        Assert.Equal(40m, (await store.GetItemAsync(item.Id, Timeout))!.WinningBid);
    }

    [Fact]
    public async Task Item_bids_list_accepted_bids_highest_first_across_pages()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var accepted = Enumerable.Range(1, 7).Select(i => Accepted(item, user, i * 10.25m, T0.AddSeconds(i))).ToList();
        var rejected = Rejected(item, user, 1m, T0.AddSeconds(20), "too_low");
        await store.RecordBatchAsync(new ProcessedBatch([.. accepted, rejected], [State(item, accepted[^1], bids: 7)]), Timeout);

        var walked = await WalkAsync(page => store.ListItemBidsAsync(item.Id, page, Timeout), limit: 3);

        Assert.Equal(accepted.OrderByDescending(b => b.Value).Select(b => b.Id), walked.Select(b => b.Id));
    }

    [Fact]
    public async Task Bids_list_newest_first_by_status_and_by_user()
    {
        var store = await CreateStoreAsync();
        var (alice, item) = await SeedAsync(store);
        var bob = NewUser("bob", T0.AddMilliseconds(5));
        await store.CreateUserAsync(bob, Timeout);
        var a1 = Accepted(item, alice, 10m, T0.AddSeconds(1));
        var b1 = Rejected(item, bob, 5m, T0.AddSeconds(2), "too_low");
        var a2 = Rejected(item, alice, 9m, T0.AddSeconds(3), "too_low");
        await store.RecordBatchAsync(new ProcessedBatch([a1, b1, a2], [State(item, a1, bids: 1)]), Timeout);
        var all = new PageRequest(10, null);

        Assert.Equal([a2.Id, b1.Id, a1.Id], (await store.ListBidsAsync(null, all, Timeout)).Items.Select(b => b.Id));
        Assert.Equal([a1.Id], (await store.ListBidsAsync(BidStatus.Accepted, all, Timeout)).Items.Select(b => b.Id));
        Assert.Equal([a2.Id, b1.Id], (await store.ListBidsAsync(BidStatus.Rejected, all, Timeout)).Items.Select(b => b.Id));
        Assert.Equal([a2.Id, a1.Id], (await store.ListUserBidsAsync(alice.Id, null, all, Timeout)).Items.Select(b => b.Id));
        Assert.Equal([a1.Id], (await store.ListUserBidsAsync(alice.Id, BidStatus.Accepted, all, Timeout)).Items.Select(b => b.Id));
        Assert.Equal([b1.Id], (await store.ListUserBidsAsync(bob.Id, null, all, Timeout)).Items.Select(b => b.Id));
    }

    [Fact]
    public async Task Batch_lookups_return_only_what_exists()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var unknown = Guid.CreateVersion7();

        var items = await store.GetItemsAsync([item.Id, unknown, item.Id], Timeout);
        var users = await store.FindUsersAsync([user.Id, unknown], Timeout);

        Assert.Equal([item.Id], items.Keys);
        Assert.Equal(item, items[item.Id] with { Pictures = item.Pictures });
        Assert.Equal([user.Id], users);
    }

    [Fact]
    public async Task An_idempotency_key_maps_to_the_first_bid_posted_with_it()
    {
        var store = await CreateStoreAsync();
        var first = new PostedBid(Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), 10.5m, "web", T0);
        var second = first with { Id = Guid.CreateVersion7(), BidDate = T0.AddSeconds(1) };

        var claimed = await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord("key-1", "hash", first, false, T0, T0.AddSeconds(30)), Timeout);
        var again = await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord("key-1", "hash", second, false, T0.AddSeconds(1), T0.AddSeconds(31)), Timeout);
        await store.MarkIdempotencyKeyProducedAsync("key-1", Timeout);
        var afterProduce = await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord("key-1", "hash", second, false, T0.AddSeconds(2), T0.AddSeconds(32)), Timeout);

        Assert.Equal(first, claimed.Bid);
        Assert.Equal(first, again.Bid);
        Assert.False(again.Produced);
        Assert.True(afterProduce.Produced);
        Assert.Equal(first, afterProduce.Bid);
    }

    [Fact]
    public async Task Idempotency_keys_past_their_lifetime_are_forgotten_and_newer_ones_kept()
    {
        var store = await CreateStoreAsync();
        var bid = new PostedBid(Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), 10m, "web", T0);
        var old = $"old-{Guid.NewGuid()}";
        var recent = $"recent-{Guid.NewGuid()}";
        await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord(old, "hash", bid, true, T0, IdempotencyRecord.Released), Timeout);
        await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord(recent, "hash", bid, true, T0.AddHours(1), IdempotencyRecord.Released), Timeout);

        var deleted = await store.DeleteIdempotencyKeysAsync(T0.AddMinutes(30), Timeout);

        Assert.True(deleted >= 1);
        var other = bid with { Id = Guid.CreateVersion7() };
        Assert.Equal(other, (await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord(old, "hash", other, false, T0.AddHours(2), IdempotencyRecord.Released), Timeout)).Bid);
        Assert.Equal(bid, (await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord(recent, "hash", other, false, T0.AddHours(2), IdempotencyRecord.Released), Timeout)).Bid);
    }

    [Fact]
    public async Task An_idempotency_lease_moves_only_from_where_it_was_seen_and_not_once_the_bid_is_produced()
    {
        var store = await CreateStoreAsync();
        var bid = new PostedBid(Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7(), 10m, "web", T0);
        var key = $"lease-{Guid.NewGuid()}";
        await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord(key, "hash", bid, false, T0, T0.AddSeconds(30)), Timeout);

        Assert.False(await store.RenewIdempotencyLeaseAsync(key, T0.AddSeconds(29), T0.AddMinutes(1), Timeout));
        Assert.True(await store.RenewIdempotencyLeaseAsync(key, T0.AddSeconds(30), IdempotencyRecord.Released, Timeout));
        // Two requests that both saw the released lease: only the first takes the key.
        Assert.True(await store.RenewIdempotencyLeaseAsync(key, IdempotencyRecord.Released, T0.AddMinutes(1), Timeout));
        Assert.False(await store.RenewIdempotencyLeaseAsync(key, IdempotencyRecord.Released, T0.AddMinutes(2), Timeout));
        var held = await store.ClaimIdempotencyKeyAsync(new IdempotencyRecord(key, "hash", bid with { Id = Guid.CreateVersion7() }, false, T0, T0), Timeout);
        Assert.Equal(T0.AddMinutes(1), held.LeaseUntil);
        Assert.Equal(bid, held.Bid);

        await store.MarkIdempotencyKeyProducedAsync(key, Timeout);

        Assert.False(await store.RenewIdempotencyLeaseAsync(key, T0.AddMinutes(1), T0.AddMinutes(3), Timeout));
    }

    [Fact]
    public async Task A_bid_of_any_decimal_value_is_recorded_and_reads_back_exactly()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var huge = Rejected(item, user, 100_000_000_000_000_000_000m, T0.AddSeconds(1), "value_too_high");
        var largest = Rejected(item, user, decimal.MaxValue, T0.AddSeconds(2), "value_too_high");
        var accepted = Accepted(item, user, 50m, T0.AddSeconds(3));

        await store.RecordBatchAsync(new ProcessedBatch([huge, largest, accepted], [State(item, accepted, bids: 1)]), Timeout);

        Assert.Equal(huge, await store.GetBidAsync(huge.Id, Timeout));
        Assert.Equal(largest, await store.GetBidAsync(largest.Id, Timeout));
        Assert.Equal([largest.Id, huge.Id], (await store.ListUserBidsAsync(user.Id, BidStatus.Rejected, new PageRequest(10, null), Timeout)).Items.Select(b => b.Id));
        Assert.Equal([accepted.Id], (await store.ListItemBidsAsync(item.Id, new PageRequest(10, null), Timeout)).Items.Select(b => b.Id));
    }

    // Seen failing before the value guard: the stored state compared counts only, so a state with more
    // bids and a lower winning bid (a re-applied older win) overwrote the winner.
    [Fact]
    public async Task No_item_state_can_lower_the_winning_bid()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var low = Accepted(item, user, 125.5m, T0.AddSeconds(1));
        var high = Accepted(item, user, 200m, T0.AddSeconds(2));
        await store.RecordBatchAsync(new ProcessedBatch([low, high], [State(item, high, bids: 2)]), Timeout);

        await store.RecordBatchAsync(new ProcessedBatch([], [State(item, low, bids: 3)]), Timeout);

        var stored = await store.GetItemAsync(item.Id, Timeout);
        Assert.Equal(200m, stored!.WinningBid);
        Assert.Equal(high.Id, stored.WinningBidId);
        Assert.Equal(2, stored.Bids);
    }

    [Fact]
    public async Task A_batch_recorded_to_the_end_leaves_no_incomplete_bids()
    {
        var store = await CreateStoreAsync();
        var (user, item) = await SeedAsync(store);
        var bid = Accepted(item, user, 20m, T0.AddSeconds(1));

        await store.RecordBatchAsync(new ProcessedBatch([bid], [State(item, bid, bids: 1)]), Timeout);

        Assert.Empty(await store.FindIncompleteBidsAsync([bid.Id], Timeout));
    }

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;

    private static async Task<List<T>> WalkAsync<T>(Func<PageRequest, Task<Page<T>>> list, int limit)
    {
        var all = new List<T>();
        var request = new PageRequest(limit, null);
        while (true)
        {
            var page = await list(request);
            Assert.True(page.Items.Count <= limit);
            all.AddRange(page.Items);
            if (page.NextCursor is null)
            {
                return all;
            }

            Assert.True(Cursor.TryDecode(page.NextCursor, out var cursor));
            request = new PageRequest(limit, cursor);
        }
    }

    protected static async Task<(User User, Item Item)> SeedAsync(IBidderStore store)
    {
        var user = NewUser("alice", T0);
        var item = NewItem(T0, initBid: 10m);
        await store.CreateUserAsync(user, Timeout);
        await store.CreateItemAsync(item, Timeout);
        return (user, item);
    }

    private static User NewUser(string name, DateTimeOffset created) => new(Guid.CreateVersion7(created), name, 0, created);

    private static Item NewItem(DateTimeOffset created, decimal initBid = 1m, DateTimeOffset? end = null, IReadOnlyList<string>? pictures = null) =>
        new(Guid.CreateVersion7(created), "lamp ✨", initBid, 0m, null, null, "EUR", pictures ?? [], 0, created, end ?? created.AddDays(7));

    protected static Bid Accepted(Item item, User user, decimal value, DateTimeOffset at) =>
        new(Guid.CreateVersion7(at), item.Id, user.Id, value, "web", at, at.AddMilliseconds(50), BidStatus.Accepted, null, null);

    protected static Bid Rejected(Item item, User user, decimal value, DateTimeOffset at, string reason) =>
        new(Guid.CreateVersion7(at), item.Id, user.Id, value, "mobile", at, at.AddMilliseconds(50), BidStatus.Rejected, reason, $"{reason} detail");

    protected static ItemBiddingState State(Item item, Bid winner, long bids) =>
        new(item.Id, winner.Value, winner.UserId, winner.Id, bids, winner.CreatedDate);
}

using System.Text.Json.Nodes;
using System.Text;
using Bidder.Domain.Contracts;
using Bidder.Domain;
using Bidder.Core.Storage.Sqlite;
using Confluent.Kafka;

namespace Bidder.Tests.Support;

/// <summary>
/// A generated stream of bids over many users and items, mixed with every kind of reject (own_item on the
/// items that have a seller), copies of earlier bids at later offsets (a client's retry, a kcat re-send),
/// poison (undecodable payloads, bids keyed by another item, a reused bid id with another value, values
/// beyond what cents can hold), put straight on the bids topic in a known order; and an oracle, written
/// apart from the streamer's rules, of what the streamer must make of it.
/// </summary>
internal sealed class BidStream
{
    public const decimal Ceiling = 100_000m;

    private readonly Random _random;
    private readonly List<Guid> _users;
    private readonly List<Item> _items;
    private readonly List<(string Key, byte[] Value, BidMessage? Bid, DateTimeOffset Timestamp)> _messages = [];
    private readonly List<TopicPartitionOffset> _malformedAt = [];

    private readonly double _automaticShare;

    /// <param name="automaticShare">The share of bids that carry an automatic maximum (max_value).</param>
    public BidStream(int seed, List<Guid> users, List<Item> items, int count, double malformedShare = 0.02, double duplicateShare = 0.02, double automaticShare = 0)
    {
        _random = new Random(seed);
        _automaticShare = automaticShare;
        _users = users;
        _items = items;
        var bids = new List<BidMessage>();
        for (var i = 0; i < count; i++)
        {
            var roll = _random.NextDouble();
            if (roll < malformedShare)
            {
                _messages.Add(Poison(i, bids));
            }
            else if (roll < malformedShare + duplicateShare && bids.Count > 0)
            {
                // The exact message of any earlier bid, often after higher bids on its item: a copy changes nothing.
                var earlier = bids[_random.Next(bids.Count)];
                _messages.Add((earlier.ItemId.ToString(), earlier.ToUtf8Json(), earlier, earlier.BidDate));
            }
            else
            {
                var bid = NextBid();
                bids.Add(bid);
                _messages.Add((bid.ItemId.ToString(), bid.ToUtf8Json(), bid, bid.BidDate));
            }
        }
    }

    /// <summary>A message the streamer must reject as malformed, of one of several kinds.</summary>
    private (string Key, byte[] Value, BidMessage? Bid, DateTimeOffset Timestamp) Poison(int index, List<BidMessage> earlier)
    {
        var now = DateTimeOffset.UtcNow;
        switch (_random.Next(3))
        {
            case 0 when earlier.Count > 0:
                // A bid id reused for another bid: the recorded bid stays as it was.
                var reused = earlier[_random.Next(earlier.Count)] with { Value = Ceiling - 1 };
                return (reused.ItemId.ToString(), reused.ToUtf8Json(), null, reused.BidDate);
            case 1:
                // A complete bid keyed by another item than its own.
                var misKeyed = NextBid();
                return (_items[_random.Next(_items.Count)].Id.ToString() + "-", misKeyed.ToUtf8Json(), null, misKeyed.BidDate);
            default:
                return (Guid.NewGuid().ToString(), Encoding.UTF8.GetBytes($"{{\"poison\": {index}"), null, now);
        }
    }

    public IEnumerable<BidMessage> Bids => _messages.Where(m => m.Bid is not null).Select(m => m.Bid!).DistinctBy(b => b.Id);

    public int Malformed => _messages.Count(m => m.Bid is null);

    /// <summary>Where the malformed messages landed, once produced: each must have its reject on invalid-bids.</summary>
    public IReadOnlyList<TopicPartitionOffset> MalformedAt => _malformedAt;

    /// <summary>Produces the messages in order (one producer, idempotent: per-item order holds) and waits until Kafka holds them all.</summary>
    public void Produce(string bootstrapServers, int from = 0, int? to = null)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
        }).Build();
        var malformed = new List<TopicPartitionOffset>();
        foreach (var (key, value, bid, timestamp) in _messages.Skip(from).Take((to ?? _messages.Count) - from))
        {
            // Stamped with the bid's date, as the API does.
            producer.Produce("bids", new Message<string, byte[]> { Key = key, Value = value, Timestamp = new Timestamp(timestamp) },
                bid is not null ? null : report =>
                {
                    lock (malformed)
                    {
                        malformed.Add(report.TopicPartitionOffset);
                    }
                });
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromMinutes(1)));
        _malformedAt.AddRange(malformed);
    }

    public int Count => _messages.Count;

    /// <summary>
    /// What the streamer must end with: every bid's verdict, each item's winner, price, count and end, each
    /// user's count. Written from the issue's rules, apart from BidRules: an offer is a bid's maximum, else its
    /// value; a challenger whose offer beats the leader's leads at the leader's offer plus the increment,
    /// clamped between its own value and offer; one that does not is outbid and lifts the leader's price to its
    /// offer plus the increment, clamped between that price and the leader's offer; a leader whose offer
    /// reaches the reserve pays at least the reserve.
    /// </summary>
    public Expected Oracle(IReadOnlySet<Guid> existingUsers)
    {
        var verdicts = new Dictionary<Guid, string?>();
        var winning = new Dictionary<Guid, Auction>();
        var userCounts = new Dictionary<Guid, long>();
        var items = _items.ToDictionary(i => i.Id);
        // An item's seller is a user (the one who created it through the API), whether or not the stream names them.
        existingUsers = existingUsers.Union(_items.Select(i => i.SellerId).OfType<Guid>()).ToHashSet();
        foreach (var bid in Bids)
        {
            items.TryGetValue(bid.ItemId, out var item);
            var auction = winning.GetValueOrDefault(bid.ItemId) ?? new Auction { End = item?.BiddingEndDate ?? default };
            var offer = bid.MaxValue ?? bid.Value;
            string? reason =
                bid.Value > Ceiling || offer > Ceiling ? "value_too_high"
                : !existingUsers.Contains(bid.UserId) ? "unknown_user"
                : item is null ? "unknown_item"
                : item.SellerId == bid.UserId ? "own_item"
                : bid.BidDate >= auction.End ? "auction_closed"
                : bid.Value < item.InitBid ? "below_init_bid"
                : offer < (auction.Count == 0 ? item.InitBid : auction.Price + item.BidIncrement) ? "too_low"
                : auction.Count > 0 && auction.User != bid.UserId && offer <= auction.Offer ? "outbid"
                : null;
            verdicts[bid.Id] = reason;
            if (reason == "outbid")
            {
                auction.Price = Math.Clamp(offer + item!.BidIncrement, auction.Price, auction.Offer);
            }
            else if (reason is null)
            {
                if (auction.Count == 0 || auction.User == bid.UserId)
                {
                    auction.Price = Math.Max(auction.Price, bid.Value);
                    auction.Offer = Math.Max(auction.Offer, offer);
                }
                else
                {
                    auction.Price = Math.Clamp(auction.Offer + item!.BidIncrement, bid.Value, offer);
                    auction.Offer = offer;
                }

                (auction.User, auction.Bid) = (bid.UserId, bid.Id);
                auction.Count++;
                userCounts[bid.UserId] = userCounts.GetValueOrDefault(bid.UserId) + 1;
                if (item!.SoftCloseSeconds > 0 && bid.BidDate > auction.End.AddSeconds(-item.SoftCloseSeconds))
                {
                    auction.End = bid.BidDate.AddSeconds(item.SoftCloseSeconds);
                }
            }

            if (item?.ReservePrice is { } reserve && auction.Count > 0 && auction.Offer >= reserve && auction.Price < reserve)
            {
                auction.Price = reserve;
            }

            if (item is not null)
            {
                winning[bid.ItemId] = auction;
            }
        }

        return new Expected(verdicts, winning, userCounts);
    }

    /// <summary>The oracle's view of one auction: its leader, price, leader's offer, accepted bids and end.</summary>
    public sealed class Auction
    {
        public decimal Price { get; set; }
        public decimal Offer { get; set; }
        public Guid User { get; set; }
        public Guid Bid { get; set; }
        public long Count { get; set; }
        public DateTimeOffset End { get; set; }

        public string Result(Item item) =>
            Count == 0 ? "unsold" : item.ReservePrice is { } reserve && Price < reserve ? "reserve_not_met" : "sold";
    }

    /// <summary>
    /// The end state against the oracle: every bid's verdict, each item's winner and count, each user's count,
    /// every reject on invalid-bids (with each malformed message at its partition and offset), each item's
    /// newest changelog state.
    /// </summary>
    public async Task AssertEndStateAsync(
        IReadOnlyDictionary<Guid, Bid> recorded, List<Guid> users, List<Item> items, string bootstrapServers, string database)
    {
        var expected = Oracle(users.ToHashSet());

        // Every bid: accepted, or rejected with the oracle's reason.
        foreach (var (id, reason) in expected.Verdicts)
        {
            var bid = recorded[id];
            Assert.True(reason == bid.Reason, $"bid {id} ({bid.Value}): expected {reason ?? "accepted"}, got {bid.Reason ?? "accepted"}");
            Assert.Equal(reason is null ? BidStatus.Accepted : BidStatus.Rejected, bid.Status);
        }

        // Every item and user: the winner and the counts.
        var store = new SqliteBidderStore(database);
        var storedItems = await store.GetItemsAsync([.. items.Select(i => i.Id)], TestContext.Current.CancellationToken);
        foreach (var item in items)
        {
            var stored = storedItems[item.Id];
            var winner = expected.Winning.GetValueOrDefault(item.Id) ?? new Auction { End = item.BiddingEndDate };
            Assert.True(winner.Price == stored.WinningBid, $"item {item.Id}: winning bid {stored.WinningBid}, expected {winner.Price}");
            Assert.Equal(winner.Count, stored.Bids);
            Assert.Equal(winner.Count == 0 ? null : winner.User, stored.WinningUserId);
            Assert.Equal(winner.Count == 0 ? null : winner.Bid, stored.WinningBidId);
            Assert.Equal(winner.End, stored.BiddingEndDate);
        }

        foreach (var user in users)
        {
            Assert.Equal(expected.UserCounts.GetValueOrDefault(user), (await store.GetUserAsync(user, TestContext.Current.CancellationToken))!.Bids);
        }

        // The topics: every reject once or more (consumers dedupe by event id), the poison messages, and each item's last state.
        var ours = expected.Verdicts.Keys.Select(k => k.ToString()).ToHashSet();
        // The database is written before the topics, so the last batch's records may still be on their way when
        // every bid is recorded: wait until each reject is there (or the hang guard says it never came).
        var rejected = expected.Verdicts.Where(v => v.Value is not null).Select(v => v.Key.ToString()).ToHashSet();
        var invalid = await Eventually.WaitAsync(
            () => Task.FromResult(TopicReader.ReadAll(bootstrapServers, "invalid-bids").Select(r => JsonNode.Parse(r.Message.Value)!.AsObject()).ToList()),
            records => rejected.IsSubsetOf(records.Select(r => r["event"] is JsonObject e ? e["id"]!.GetValue<string>() : ""))
                && records.Count(r => r["reason"]!.GetValue<string>() == "malformed") >= Malformed,
            "a reject on invalid-bids for every rejected bid and malformed message", records => $"{records.Count} records");
        var rejects = invalid
            .Where(r => r["event"] is JsonObject e && ours.Contains(e["id"]!.GetValue<string>()))
            .GroupBy(r => r["event"]!["id"]!.GetValue<string>())
            .ToDictionary(g => Guid.Parse(g.Key), g => g.Select(r => r["reason"]!.GetValue<string>()).Distinct().Single());
        var expectedRejects = expected.Verdicts.Where(v => v.Value is not null).ToDictionary(v => v.Key, v => v.Value!);
        var wrong = expectedRejects.Where(e => rejects.GetValueOrDefault(e.Key) != e.Value).Select(e => $"{e.Key}: {e.Value} expected, {rejects.GetValueOrDefault(e.Key) ?? "none"} on the topic")
            .Concat(rejects.Keys.Except(expectedRejects.Keys).Select(k => $"{k}: {rejects[k]} on the topic, accepted expected ({recorded[k].Reason ?? "accepted"} recorded)"))
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} reject(s) on invalid-bids differ: {string.Join("; ", wrong.Take(10))}");
        var malformedAt = invalid
            .Where(r => r["reason"]!.GetValue<string>() == "malformed")
            .Select(r => (r["partition"]!.GetValue<int>(), r["offset"]!.GetValue<long>()))
            .ToHashSet();
        Assert.Equal(Malformed, MalformedAt.Count);
        Assert.All(MalformedAt, at => Assert.Contains((at.Partition.Value, at.Offset.Value), malformedAt));

        // The newest state of each item, as a restore reads it: the highest version, then the latest source offset;
        // read until each item's has its final count (the last batch's records may still be on their way).
        var lastStates = await Eventually.WaitAsync(
            () => Task.FromResult(TopicReader.ReadAll(bootstrapServers, "item-changelog")
                // A closed item's state is followed by a tombstone (ItemTable): the states are what a restore compares.
                .Where(r => r.Message.Value is not null)
                .GroupBy(r => r.Message.Key)
                .ToDictionary(g => g.Key, g => g.Select(r => JsonNode.Parse(r.Message.Value)!.AsObject())
                    .MaxBy(r => (r["version"]!.GetValue<long>(), r["source_offset"]!.GetValue<long>()))!)),
            states => expected.Winning.Where(w => w.Value.Count > 0).All(w =>
                states.TryGetValue(w.Key.ToString(), out var state) && state["bids"]!.GetValue<long>() >= w.Value.Count),
            "each item's final state on item-changelog", states => $"{states.Count} items");
        foreach (var (itemId, winner) in expected.Winning.Where(w => w.Value.Count > 0))
        {
            var state = lastStates[itemId.ToString()];
            Assert.Equal(winner.Price, state["winning_bid"]!.GetValue<decimal>());
            Assert.Equal(winner.Count, state["bids"]!.GetValue<long>());
            Assert.Equal(winner.Bid.ToString(), state["winning_bid_id"]!.GetValue<string>());
        }
    }

    /// <summary>
    /// Waits until every item of <paramref name="closing"/> is closed, then checks each against the oracle: the
    /// item's result and close time, and exactly one record per item on the auctions topic, with the winner.
    /// </summary>
    /// <param name="exactlyOnce">One record per item; else (a crash around the close) a record sent again must be the same record.</param>
    public async Task AssertClosedAsync(IReadOnlyCollection<Item> closing, List<Guid> users, string bootstrapServers, string database, bool exactlyOnce = true)
    {
        var expected = Oracle(users.ToHashSet());
        var store = new SqliteBidderStore(database);
        var ids = closing.Select(i => i.Id).ToList();
        var closed = await Eventually.WaitAsync(() => store.GetItemsAsync(ids, TestContext.Current.CancellationToken),
            found => found.Values.All(i => i.ClosedAt is not null), $"all {ids.Count} ending items to close",
            found => $"{found.Values.Count(i => i.ClosedAt is not null)} closed");
        var records = await Eventually.WaitAsync(
            () => Task.FromResult(TopicReader.ReadAll(bootstrapServers, "auctions").Where(r => ids.Contains(Guid.Parse(r.Message.Key))).ToList()),
            found => found.Select(r => r.Message.Key).Distinct().Count() == ids.Count, "a record on auctions for each closed item", found => $"{found.Count} records");
        foreach (var item in closing)
        {
            var winner = expected.Winning.GetValueOrDefault(item.Id) ?? new Auction { End = item.BiddingEndDate };
            var stored = closed[item.Id];
            Assert.Equal(winner.Result(item), stored.Result);
            Assert.Equal(ItemStatus.Closed, stored.Status);
            Assert.True(stored.ClosedAt >= winner.End, $"item {item.Id} closed at {stored.ClosedAt:O}, before its end {winner.End:O}");
            var sent = records.Where(r => r.Message.Key == item.Id.ToString()).Select(r => Encoding.UTF8.GetString(r.Message.Value)).ToList();
            Assert.True(exactlyOnce ? sent.Count == 1 : sent.Distinct().Count() == 1, $"item {item.Id}: {sent.Count} record(s) on auctions: {string.Join(" | ", sent)}");
            var record = JsonNode.Parse(sent[0])!.AsObject();
            Assert.Equal(winner.Result(item), record["result"]!.GetValue<string>());
            Assert.Equal(winner.Count, record["bids"]!.GetValue<long>());
            Assert.Equal(winner.Count == 0 ? 0m : winner.Price, record["winning_bid"]!.GetValue<decimal>());
            Assert.Equal(winner.Count == 0 ? null : winner.User.ToString(), record["winning_user_id"]?.GetValue<string>());
            Assert.Equal(winner.Count == 0 ? null : winner.Bid.ToString(), record["winning_bid_id"]?.GetValue<string>());
            Assert.Equal(item.SellerId?.ToString(), record["seller_id"]?.GetValue<string>());
            Assert.Equal(stored.ClosedAt, record["closed_at"]!.GetValue<DateTimeOffset>());
        }
    }

    /// <summary>Reads the store until every bid of the stream is recorded, and returns them.</summary>
    public async Task<IReadOnlyDictionary<Guid, Bid>> RecordedAsync(string databaseConnectionString)
    {
        var store = new SqliteBidderStore(databaseConnectionString);
        var ids = Bids.Select(b => b.Id).ToList();
        return await Eventually.WaitAsync(() => store.GetBidsAsync(ids, TestContext.Current.CancellationToken),
            recorded => recorded.Count == ids.Count, $"all {ids.Count} bids of the stream to be recorded", recorded => $"{recorded.Count} recorded");
    }

    private BidMessage NextBid()
    {
        var kind = _random.NextDouble();
        var item = _items[_random.Next(_items.Count)];
        var itemId = kind < 0.03 ? Guid.CreateVersion7() : item.Id;
        var userId = kind is >= 0.03 and < 0.06 ? Guid.CreateVersion7() : _users[_random.Next(_users.Count)];
        // Now and then the seller bids on their own item, whatever else the bid is (too high, late, on an unknown
        // item), so the order of own_item among the rules shows too. Drawn only for items with a seller: a stream
        // over items without one stays the same bid for bid.
        if (item.SellerId is { } seller && kind is not (>= 0.03 and < 0.06) && _random.NextDouble() < 0.1)
        {
            userId = seller;
        }

        var value = kind switch
        {
            >= 0.06 and < 0.075 => Ceiling + _random.Next(1, 1000),
            // Beyond what a store can hold in cents: rejected as too high and recorded like any reject.
            >= 0.075 and < 0.0775 => 100_000_000_000_000_000_000m,
            >= 0.0775 and < 0.08 => decimal.MaxValue,
            _ => Math.Round(item.InitBid * 0.9m + (decimal)_random.NextDouble() * 400m, 2),
        };
        var bidDate = kind switch
        {
            >= 0.08 and < 0.10 => item.BiddingEndDate.AddSeconds(_random.Next(0, 60)),
            // In the last minutes before the (first) end: within a soft close, it moves the end.
            >= 0.10 and < 0.14 when item.SoftCloseSeconds > 0 => item.BiddingEndDate.AddSeconds(-_random.Next(1, item.SoftCloseSeconds)),
            _ => item.BiddingEndDate.AddDays(-1),
        };
        decimal? max = value < Ceiling && _random.NextDouble() < _automaticShare ? value + Math.Round((decimal)_random.NextDouble() * 300m, 2) : null;
        return new BidMessage(1, Guid.CreateVersion7(), itemId, userId, value, _random.Next(3) == 0 ? "mobile 📱" : "web", bidDate, max);
    }

    /// <summary>
    /// Makes <paramref name="seller"/> the item's seller, straight in the database (the stream's users are made
    /// by the admin route and sign in nowhere), and returns the item as the streamer now reads it.
    /// </summary>
    public static async Task<Item> SellAsync(string database, Item item, Guid seller)
    {
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(database))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE items SET seller_id = $seller WHERE id = $id";
            update.Parameters.AddWithValue("$seller", seller.ToByteArray(bigEndian: true));
            update.Parameters.AddWithValue("$id", item.Id.ToByteArray(bigEndian: true));
            Assert.Equal(1, await update.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        var sold = (await new SqliteBidderStore(database).GetItemAsync(item.Id, TestContext.Current.CancellationToken))!;
        Assert.Equal(seller, sold.SellerId);
        return sold;
    }

    /// <summary>
    /// Gives the item auction terms, straight in the database (as SellAsync does the seller), and returns it as
    /// the streamer now reads it. <paramref name="end"/> moves its end date (a few seconds ahead: it closes in the test).
    /// </summary>
    public static async Task<Item> SetTermsAsync(string database, Item item, decimal increment, decimal? reserve, int softCloseSeconds, DateTimeOffset? end = null)
    {
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection(database))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var update = connection.CreateCommand();
            update.CommandText = """
                UPDATE items SET bid_increment = $increment, reserve_price = $reserve, soft_close_seconds = $soft, bidding_enddate = $end
                WHERE id = $id
                """;
            update.Parameters.AddWithValue("$increment", Money.ToCents(increment));
            update.Parameters.AddWithValue("$reserve", reserve is { } r ? Money.ToCents(r) : DBNull.Value);
            update.Parameters.AddWithValue("$soft", softCloseSeconds);
            update.Parameters.AddWithValue("$end", (end ?? item.BiddingEndDate).ToUnixTimeMilliseconds());
            update.Parameters.AddWithValue("$id", item.Id.ToByteArray(bigEndian: true));
            Assert.Equal(1, await update.ExecuteNonQueryAsync(TestContext.Current.CancellationToken));
        }

        var set = (await new SqliteBidderStore(database).GetItemAsync(item.Id, TestContext.Current.CancellationToken))!;
        Assert.Equal((increment, reserve, softCloseSeconds), (set.BidIncrement, set.ReservePrice, set.SoftCloseSeconds));
        return set;
    }

    public sealed record Expected(
        Dictionary<Guid, string?> Verdicts,
        Dictionary<Guid, Auction> Winning,
        Dictionary<Guid, long> UserCounts);
}

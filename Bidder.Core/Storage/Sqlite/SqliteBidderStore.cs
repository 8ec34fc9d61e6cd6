using System.Data.Common;
using System.Text.Json;
using Bidder.Domain;
using Microsoft.Data.Sqlite;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, shared by the API (reading while others write) and
/// the streamer. Rows are mapped in <see cref="SqliteRows"/>, the schema is <see cref="SqliteSchema"/>.
/// </summary>
public sealed class SqliteBidderStore : IBidderStore
{
    private const int Accepted = SqliteRows.Accepted;
    private const int Rejected = SqliteRows.Rejected;


    private readonly string _connectionString;
    private readonly string _batchConnectionString;

    public SqliteBidderStore(string connectionString)
    {
        _connectionString = SqliteConnections.Prepare(connectionString);
        _batchConnectionString = SqliteConnections.ForBatches(_connectionString);
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(new SqliteConnectionStringBuilder(_connectionString).DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await RunAsync(async connection =>
        {
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
            await ExecuteAsync(connection, SqliteSchema.Create, cancellationToken);
            await SqliteSchema.MigrateAsync(connection, cancellationToken);
            await ExecuteAsync(connection, SqliteSchema.Indexes, cancellationToken);
            return 0;
        }, cancellationToken);
    }

    public Task CreateUserAsync(User user, CancellationToken cancellationToken) =>
        WriteAsync("INSERT INTO users (id, name, bids, created_date) VALUES ($id, $name, $bids, $created)", command =>
        {
            command.Parameters.AddWithValue("$id", SqliteRows.Key(user.Id));
            command.Parameters.AddWithValue("$name", user.Name);
            command.Parameters.AddWithValue("$bids", user.Bids);
            command.Parameters.AddWithValue("$created", SqliteRows.Millis(user.CreatedDate));
        }, cancellationToken);

    public Task<User?> GetUserAsync(Guid id, CancellationToken cancellationToken) =>
        SingleAsync($"SELECT {SqliteRows.UserColumns} FROM users WHERE id = $id", command => command.Parameters.AddWithValue("$id", SqliteRows.Key(id)), SqliteRows.ReadUser, cancellationToken);

    public Task<Page<User>> ListUsersAsync(PageRequest page, CancellationToken cancellationToken) =>
        NewestFirstAsync($"SELECT {SqliteRows.UserColumns} FROM users", "id", [], page, SqliteRows.ReadUser, u => u.Id, cancellationToken);

    public Task CreateItemAsync(Item item, CancellationToken cancellationToken) =>
        WriteAsync($"""
            INSERT INTO items ({SqliteRows.ItemColumns})
            VALUES ($id, $name, $init, $winning, $winner, $winning_bid_id, $currency, $pictures, $bids, $created, $end, $seller,
                    $increment, $reserve, $soft_close, $leader_max, $version, $closed_at, $result)
            """, command =>
        {
            command.Parameters.AddWithValue("$id", SqliteRows.Key(item.Id));
            command.Parameters.AddWithValue("$name", item.Name);
            command.Parameters.AddWithValue("$init", Money.ToCents(item.InitBid));
            command.Parameters.AddWithValue("$winning", Money.ToCents(item.WinningBid));
            command.Parameters.AddWithValue("$winner", SqliteRows.NullableKey(item.WinningUserId));
            command.Parameters.AddWithValue("$winning_bid_id", SqliteRows.NullableKey(item.WinningBidId));
            command.Parameters.AddWithValue("$currency", item.Currency);
            command.Parameters.AddWithValue("$pictures", JsonSerializer.Serialize(item.Pictures, SqliteJson.Default.IReadOnlyListString));
            command.Parameters.AddWithValue("$bids", item.Bids);
            command.Parameters.AddWithValue("$created", SqliteRows.Millis(item.CreatedDate));
            command.Parameters.AddWithValue("$end", SqliteRows.Millis(item.BiddingEndDate));
            command.Parameters.AddWithValue("$seller", SqliteRows.NullableKey(item.SellerId));
            command.Parameters.AddWithValue("$increment", Money.ToCents(item.BidIncrement));
            command.Parameters.AddWithValue("$reserve", SqliteRows.NullableCents(item.ReservePrice));
            command.Parameters.AddWithValue("$soft_close", item.SoftCloseSeconds);
            command.Parameters.AddWithValue("$leader_max", SqliteRows.NullableCents(item.LeaderMax));
            command.Parameters.AddWithValue("$version", item.Version);
            command.Parameters.AddWithValue("$closed_at", SqliteRows.NullableMillis(item.ClosedAt));
            command.Parameters.AddWithValue("$result", (object?)item.Result ?? DBNull.Value);
        }, cancellationToken);

    public Task<Item?> GetItemAsync(Guid id, CancellationToken cancellationToken) =>
        SingleAsync($"SELECT {SqliteRows.ItemColumns} FROM items WHERE id = $id", command => command.Parameters.AddWithValue("$id", SqliteRows.Key(id)), SqliteRows.ReadItem, cancellationToken);

    public Task<Page<Item>> ListItemsAsync(ItemStatus? status, PageRequest page, CancellationToken cancellationToken) =>
        status is { } side
            ? RunAsync(async connection =>
            {
                await using var command = connection.CreateCommand();
                command.CommandText = ItemsByEndSql(side, page.After is not null);
                command.Parameters.AddWithValue("$limit", page.Limit + 1);
                if (page.After is { } after)
                {
                    command.Parameters.AddWithValue("$after_end", after.SortValue);
                    command.Parameters.AddWithValue("$after_id", SqliteRows.Key(after.Id));
                }

                return await ReadPageAsync(command, page, SqliteRows.ReadItem, i => new Cursor(SqliteRows.Millis(i.BiddingEndDate), i.Id), cancellationToken);
            }, cancellationToken)
            : NewestFirstAsync($"SELECT {SqliteRows.ItemColumns} FROM items", "id", [], page, SqliteRows.ReadItem, i => i.Id, cancellationToken);

    /// <summary>
    /// Open items ending soonest first, or closed ones the latest end first, each read in order from its partial
    /// index (the WHERE repeats the index's condition, see <see cref="SqliteSchema.Indexes"/>); the row value
    /// comparison after the cursor is a range on that index.
    /// </summary>
    internal static string ItemsByEndSql(ItemStatus status, bool afterCursor) => status switch
    {
        ItemStatus.Open => $"""
            SELECT {SqliteRows.ItemColumns} FROM items WHERE closed_at IS NULL {(afterCursor ? "AND (bidding_enddate, id) > ($after_end, $after_id)" : "")}
            ORDER BY bidding_enddate, id LIMIT $limit
            """,
        ItemStatus.Closed => $"""
            SELECT {SqliteRows.ItemColumns} FROM items WHERE closed_at IS NOT NULL {(afterCursor ? "AND (bidding_enddate, id) < ($after_end, $after_id)" : "")}
            ORDER BY bidding_enddate DESC, id DESC LIMIT $limit
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown item status."),
    };

    public Task<Bid?> GetBidAsync(Guid id, CancellationToken cancellationToken) =>
        SingleAsync($"SELECT {SqliteRows.BidColumns} FROM events WHERE id = $id", command => command.Parameters.AddWithValue("$id", SqliteRows.Key(id)), SqliteRows.ReadBid, cancellationToken);

    public Task<Page<Bid>> ListBidsAsync(BidStatus? status, PageRequest page, CancellationToken cancellationToken) =>
        NewestFirstAsync($"SELECT {SqliteRows.BidColumns} FROM events", "id", StatusCondition(status), page, SqliteRows.ReadBid, b => b.Id, cancellationToken);

    public Task<Page<Bid>> ListUserBidsAsync(Guid userId, BidStatus? status, PageRequest page, CancellationToken cancellationToken) =>
        status is not null
            ? NewestFirstAsync($"SELECT {SqliteRows.BidColumns} FROM events", "id", [("user_id = $user", SqliteRows.Key(userId)), .. StatusCondition(status)], page, SqliteRows.ReadBid, b => b.Id, cancellationToken)
            : RunAsync(async connection =>
            {
                // One index, (user_id, status, id), serves both listings: every bid recorded pays for one
                // index fewer (BENCHMARKS.md). All of a user's bids are its accepted and its rejected ones
                // merged, each read newest first from its index range, so a page reads at most twice its size.
                await using var command = connection.CreateCommand();
                var after = page.After is null ? "" : "AND id < $after_id";
                string Branch(int code) =>
                    $"SELECT * FROM (SELECT {SqliteRows.BidColumns} FROM events WHERE user_id = $user AND status = {code} {after} ORDER BY id DESC LIMIT $limit)";
                command.CommandText = $"{Branch(Accepted)} UNION ALL {Branch(Rejected)} ORDER BY id DESC LIMIT $limit";
                command.Parameters.AddWithValue("$user", SqliteRows.Key(userId));
                command.Parameters.AddWithValue("$limit", page.Limit + 1);
                if (page.After is { } cursor)
                {
                    command.Parameters.AddWithValue("$after_id", SqliteRows.Key(cursor.Id));
                }

                return await ReadPageAsync(command, page, SqliteRows.ReadBid, b => new Cursor(0, b.Id), cancellationToken);
            }, cancellationToken);

    public Task<Page<Bid>> ListItemBidsAsync(Guid itemId, PageRequest page, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            // Highest first; ties cannot happen among accepted bids (each beat the one before) but the id keeps the order total.
            command.CommandText = $"""
                SELECT {SqliteRows.BidColumns} FROM events
                WHERE item_id = $item AND status = {Accepted}
                  {(page.After is null ? "" : "AND (value < $after_value OR (value = $after_value AND id < $after_id))")}
                ORDER BY value DESC, id DESC LIMIT $limit
                """;
            command.Parameters.AddWithValue("$item", SqliteRows.Key(itemId));
            command.Parameters.AddWithValue("$limit", page.Limit + 1);
            if (page.After is { } after)
            {
                command.Parameters.AddWithValue("$after_value", after.SortValue);
                command.Parameters.AddWithValue("$after_id", SqliteRows.Key(after.Id));
            }

            return await ReadPageAsync(command, page, SqliteRows.ReadBid, b => new Cursor(Money.ToCents(b.Value), b.Id), cancellationToken);
        }, cancellationToken);

    public Task<IdempotencyRecord> ClaimIdempotencyKeyAsync(IdempotencyRecord record, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using (var insert = connection.CreateCommand())
            {
                insert.CommandText = """
                    INSERT INTO idempotency_keys (key, request_hash, bid, produced, created_date, lease_until)
                    VALUES ($key, $hash, $bid, $produced, $created, $lease) ON CONFLICT (key) DO NOTHING
                    """;
                insert.Parameters.AddWithValue("$key", record.Key);
                insert.Parameters.AddWithValue("$hash", record.RequestHash);
                insert.Parameters.AddWithValue("$bid", JsonSerializer.Serialize(record.Bid, SqliteJson.Default.PostedBid));
                insert.Parameters.AddWithValue("$produced", record.Produced ? 1 : 0);
                insert.Parameters.AddWithValue("$created", SqliteRows.Millis(record.CreatedDate));
                insert.Parameters.AddWithValue("$lease", SqliteRows.Millis(record.LeaseUntil));
                if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1)
                {
                    return record;
                }
            }

            await using var select = connection.CreateCommand();
            select.CommandText = "SELECT key, request_hash, bid, produced, created_date, lease_until FROM idempotency_keys WHERE key = $key";
            select.Parameters.AddWithValue("$key", record.Key);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return new IdempotencyRecord(
                reader.GetString(0),
                reader.GetString(1),
                JsonSerializer.Deserialize(reader.GetString(2), SqliteJson.Default.PostedBid)!,
                reader.GetInt64(3) == 1,
                SqliteRows.FromMillis(reader.GetInt64(4)),
                SqliteRows.FromMillis(reader.GetInt64(5)));
        }, cancellationToken);

    public async Task<bool> RenewIdempotencyLeaseAsync(string key, DateTimeOffset expected, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        await RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE idempotency_keys SET lease_until = $lease WHERE key = $key AND produced = 0 AND lease_until = $expected";
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.AddWithValue("$expected", SqliteRows.Millis(expected));
            command.Parameters.AddWithValue("$lease", SqliteRows.Millis(leaseUntil));
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken) == 1;

    public Task MarkIdempotencyKeyProducedAsync(string key, CancellationToken cancellationToken) =>
        WriteAsync("UPDATE idempotency_keys SET produced = 1 WHERE key = $key", command => command.Parameters.AddWithValue("$key", key), cancellationToken);

    public async Task<long> DeleteIdempotencyKeysAsync(DateTimeOffset createdBefore, CancellationToken cancellationToken) =>
        await RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM idempotency_keys WHERE created_date < $before";
            command.Parameters.AddWithValue("$before", SqliteRows.Millis(createdBefore));
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public async Task<IReadOnlyDictionary<Guid, Item>> GetItemsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        await ByIdsAsync($"SELECT {SqliteRows.ItemColumns} FROM items", ids, SqliteRows.ReadItem, item => item.Id, cancellationToken);

    public async Task<IReadOnlyDictionary<Guid, Bid>> GetBidsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        await ByIdsAsync($"SELECT {SqliteRows.BidColumns} FROM events", ids, SqliteRows.ReadBid, bid => bid.Id, cancellationToken);

    /// <summary>None: a batch is one transaction here, recorded whole or not at all.</summary>
    public Task<IReadOnlySet<Guid>> FindIncompleteBidsAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlySet<Guid>>(new HashSet<Guid>());

    public async Task<IReadOnlySet<Guid>> FindUsersAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken) =>
        (await ByIdsAsync("SELECT id FROM users", ids, r => SqliteRows.Guid(r, 0), id => id, cancellationToken)).Keys.ToHashSet();

    /// <summary>A batch is one transaction: one with a bid stored already is rolled back whole.</summary>
    public bool RefusesRecordedBids => true;

    public Task RecordBatchAsync(ProcessedBatch batch, CancellationToken cancellationToken) =>
        SqliteConnections.RunAsync(_batchConnectionString, async connection =>
        {
            // One transaction: the bids, the counters they move and the item states land together or not at all.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var newAcceptedByUser = new Dictionary<Guid, long>();
            // The items this batch's newly stored bids changed (accepted, or outbid): their states must be taken.
            var changedByNewBids = new HashSet<Guid>();

            // Each statement once per row, bound straight through SQLitePCL (BatchStatement): the batch is the hot path.
            using (var insert = new BatchStatement(connection, $"""
                INSERT INTO events ({SqliteRows.BidColumns})
                VALUES ($id, $item, $user, $value, $client, $bid_date, $created, $status, $reason, $detail, $max_value, $item_version)
                ON CONFLICT (id) DO NOTHING
                """))
            {
                var id = insert.Parameter("$id");
                var item = insert.Parameter("$item");
                var user = insert.Parameter("$user");
                var value = insert.Parameter("$value");
                var client = insert.Parameter("$client");
                var bidDate = insert.Parameter("$bid_date");
                var created = insert.Parameter("$created");
                var status = insert.Parameter("$status");
                var reason = insert.Parameter("$reason");
                var detail = insert.Parameter("$detail");
                var maxValue = insert.Parameter("$max_value");
                var itemVersion = insert.Parameter("$item_version");
                foreach (var bid in batch.Bids)
                {
                    insert.Bind(id, bid.Id);
                    insert.Bind(item, bid.ItemId);
                    insert.Bind(user, bid.UserId);
                    // Typed per value: cents as an integer, or an amount too large for cents as its text in a blob.
                    insert.BindStoredValue(value, bid.Value);
                    insert.Bind(client, bid.Client);
                    insert.Bind(bidDate, SqliteRows.Millis(bid.BidDate));
                    insert.Bind(created, SqliteRows.Millis(bid.CreatedDate));
                    insert.Bind(status, bid.Status == BidStatus.Accepted ? Accepted : Rejected);
                    insert.Bind(reason, bid.Reason);
                    insert.Bind(detail, bid.Detail);
                    insert.BindStoredValue(maxValue, bid.MaxValue);
                    insert.Bind(itemVersion, bid.ItemVersion);
                    if (insert.Execute() == 0)
                    {
                        // Decided as new, it is not; or recorded, since the batch asked, otherwise than decided here (by
                        // another writer on the partition): disposed uncommitted, the transaction takes back what the
                        // batch wrote, and it is decided again. A copy decided alike (a replay) is simply not stored again.
                        if (batch.BidsAreNew || !await IsStoredAsDecidedAsync(connection, transaction, bid, cancellationToken))
                        {
                            throw new BidsAlreadyRecordedException(bid.Id);
                        }
                    }
                    else
                    {
                        if (bid.Status == BidStatus.Accepted)
                        {
                            newAcceptedByUser[bid.UserId] = newAcceptedByUser.GetValueOrDefault(bid.UserId) + 1;
                        }

                        if (bid.ItemVersion is not null)
                        {
                            changedByNewBids.Add(bid.ItemId);
                        }
                    }
                }
            }

            using (var users = new BatchStatement(connection, "UPDATE users SET bids = bids + $count WHERE id = $id"))
            {
                var id = users.Parameter("$id");
                var count = users.Parameter("$count");
                foreach (var (userId, added) in newAcceptedByUser)
                {
                    users.Bind(id, userId);
                    users.Bind(count, added);
                    users.Execute();
                }
            }

            // A newer state only (a higher version), and never a lower winning bid, whatever order states arrive
            // in; and none once the item is closed: a writer that lost its partition (and does not know yet)
            // cannot reopen an auction another closed, nor close it twice. A row from before versions
            // has 0, and any state the streamer writes counts at least its bids plus one. A state bids decided is
            // taken only if the item has not moved past the version they were decided against (DecidedFrom): the
            // version guard alone would let a state from another lineage (two writers on one partition, each from
            // the version it read) replace one at a lower version, leaving the bids behind it apart from the item.
            // The end date and the close are set by a second statement, only for a state the first one took and
            // only where they differ: they rarely change (a soft close, the close), and assigning a column the item
            // indexes hold rewrites the row's index entry even when the value stays, which doubled the WAL written
            // per state (measured on 20,000 updates).
            using (var items = new BatchStatement(connection, """
                UPDATE items SET winning_bid = $winning, winning_user_id = $winner, winning_bid_id = $bid, leader_max = $leader_max,
                    bids = $bids, version = $version
                WHERE id = $id AND closed_at IS NULL AND version < $version AND winning_bid <= $winning
                    AND ($decided_from IS NULL OR version <= $decided_from)
                """))
            using (var endAndClose = new BatchStatement(connection, """
                UPDATE items SET bidding_enddate = $end, closed_at = $closed_at, result = $result
                WHERE id = $id AND (bidding_enddate <> $end OR closed_at IS NOT $closed_at OR result IS NOT $result)
                """))
            {
                var id = items.Parameter("$id");
                var winning = items.Parameter("$winning");
                var winner = items.Parameter("$winner");
                var bid = items.Parameter("$bid");
                var leaderMax = items.Parameter("$leader_max");
                var bids = items.Parameter("$bids");
                var version = items.Parameter("$version");
                var decidedFrom = items.Parameter("$decided_from");
                var endAndCloseId = endAndClose.Parameter("$id");
                var end = endAndClose.Parameter("$end");
                var closedAt = endAndClose.Parameter("$closed_at");
                var result = endAndClose.Parameter("$result");
                List<Guid>? refused = null;
                foreach (var itemState in batch.Items)
                {
                    var (itemId, state, _) = itemState;
                    items.Bind(id, itemId);
                    items.Bind(winning, Money.ToCents(state.WinningBid));
                    items.Bind(winner, state.WinningUserId);
                    items.Bind(bid, state.WinningBidId);
                    items.Bind(leaderMax, state.LeaderMax is { } max ? Money.ToCents(max) : null);
                    items.Bind(bids, state.Bids);
                    items.Bind(version, state.Version);
                    items.Bind(decidedFrom, itemState.DecidedFrom);
                    var taken = items.Execute() == 1;
                    if (!taken && changedByNewBids.Contains(itemId))
                    {
                        // Decided against a state the item no longer has (another writer moved it, or closed it, since
                        // the batch read it): recording these bids as decided would leave them apart from the item.
                        (refused ??= []).Add(itemId);
                    }
                    else if (taken)
                    {
                        endAndClose.Bind(endAndCloseId, itemId);
                        endAndClose.Bind(end, SqliteRows.Millis(state.EndDate));
                        endAndClose.Bind(closedAt, state.ClosedAt is { } closed ? SqliteRows.Millis(closed) : null);
                        endAndClose.Bind(result, state.Result);
                        endAndClose.Execute();
                    }
                }

                if (refused is not null)
                {
                    // Disposed uncommitted, the transaction takes back the whole batch.
                    throw new ItemChangedMeanwhileException(refused);
                }
            }

            await transaction.CommitAsync(cancellationToken);
            return 0;
        }, cancellationToken, SqliteConnections.BatchCacheKibibytes);

    /// <summary>Whether the stored bid with this bid's id was decided as this one was: its status, reason and the item version it made.</summary>
    private static async Task<bool> IsStoredAsDecidedAsync(SqliteConnection connection, SqliteTransaction transaction, Bid bid, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT status, reason, item_version FROM events WHERE id = $id";
        command.Parameters.AddWithValue("$id", SqliteRows.Key(bid.Id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            && reader.GetInt64(0) == (bid.Status == BidStatus.Accepted ? Accepted : Rejected)
            && (reader.IsDBNull(1) ? null : reader.GetString(1)) == bid.Reason
            && (reader.IsDBNull(2) ? (long?)null : reader.GetInt64(2)) == bid.ItemVersion;
    }

    public Task<IReadOnlyList<Item>> FindItemsToCloseAsync(DateTimeOffset endedBy, int limit, Cursor? after, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<Item>>(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = ItemsToCloseSql(afterCursor: after is not null);
            command.Parameters.AddWithValue("$ended_by", SqliteRows.Millis(endedBy));
            command.Parameters.AddWithValue("$limit", limit);
            if (after is { } cursor)
            {
                command.Parameters.AddWithValue("$after_end", cursor.SortValue);
                command.Parameters.AddWithValue("$after_id", SqliteRows.Key(cursor.Id));
            }

            var items = new List<Item>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                items.Add(SqliteRows.ReadItem(reader));
            }

            return items;
        }, cancellationToken);

    /// <summary>
    /// The due open items and the unannounced closes, each branch read in end-date order from its own partial
    /// index (its WHERE repeats the index's condition, see <see cref="SqliteSchema.Indexes"/>) and cut at the limit,
    /// then merged: the cost follows the auctions due, however many items there are. The row value comparison
    /// after the cursor is a range on each index. The branches are disjoint (open, closed), so UNION ALL needs no
    /// de-duplication.
    /// </summary>
    internal static string ItemsToCloseSql(bool afterCursor)
    {
        var after = afterCursor ? "AND (bidding_enddate, id) > ($after_end, $after_id)" : "";
        return $"""
            SELECT * FROM (SELECT {SqliteRows.ItemColumns} FROM items
                           WHERE closed_at IS NULL AND bidding_enddate <= $ended_by {after} ORDER BY bidding_enddate, id LIMIT $limit)
            UNION ALL
            SELECT * FROM (SELECT {SqliteRows.ItemColumns} FROM items
                           WHERE closed_at IS NOT NULL AND close_published = 0 {after} ORDER BY bidding_enddate, id LIMIT $limit)
            ORDER BY bidding_enddate, id LIMIT $limit
            """;
    }

    public Task MarkClosesPublishedAsync(IReadOnlyCollection<Guid> itemIds, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            // Closed items only: an open item marked by mistake would otherwise never have its close announced.
            command.CommandText = $"UPDATE items SET close_published = 1 WHERE closed_at IS NOT NULL AND id IN {KeysIn}";
            command.Parameters.AddWithValue("$ids", KeysJson(itemIds.Distinct()));
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// The rows among <paramref name="ids"/>, by id, in one statement whatever their number: the ids go in as one
    /// JSON array of hex strings (<see cref="KeysJson"/>), which SQLite turns into a set of keys to probe the primary
    /// key with. A thousand ids bound one by one as <c>$p0, $p1...</c> cost 3.5 times as much here (each name is
    /// looked up among all the statement's parameters, BENCHMARKS.md).
    /// </summary>
    private Task<Dictionary<Guid, T>> ByIdsAsync<T>(
        string select, IReadOnlyCollection<Guid> ids, Func<DbDataReader, T> read, Func<T, Guid> idOf, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            var found = new Dictionary<Guid, T>(ids.Count);
            if (ids.Count == 0)
            {
                return found;
            }

            await using var command = connection.CreateCommand();
            command.CommandText = $"{select} WHERE id IN {KeysIn}";
            command.Parameters.AddWithValue("$ids", KeysJson(ids));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = read(reader);
                found[idOf(row)] = row;
            }

            return found;
        }, cancellationToken);

    /// <summary>The keys of <see cref="KeysJson"/>'s array, bound as <c>$ids</c> (unhex: SQLite 3.41 and later, as bundled).</summary>
    private const string KeysIn = "(SELECT unhex(value) FROM json_each($ids))";

    /// <summary>
    /// A JSON array of the ids as 32 hex digits each, the bytes of <see cref="SqliteRows.Key"/>: a GUID's text
    /// without dashes is its bytes in big-endian order.
    /// </summary>
    private static string KeysJson(IEnumerable<Guid> ids)
    {
        var json = new System.Text.StringBuilder("[");
        foreach (var id in ids)
        {
            json.Append(json.Length == 1 ? "\"" : ",\"").Append(id.ToString("N")).Append('"');
        }

        return json.Append(']').ToString();
    }

    private static (string Sql, object Value)[] StatusCondition(BidStatus? status) => status switch
    {
        BidStatus.Accepted => [("status = $status", Accepted)],
        BidStatus.Rejected => [("status = $status", Rejected)],
        _ => [],
    };

    /// <summary>Newest first by time-ordered id, after the cursor's id; each condition's parameter is its only $name.</summary>
    private Task<Page<T>> NewestFirstAsync<T>(
        string select, string idColumn, (string Sql, object Value)[] conditions, PageRequest page,
        Func<DbDataReader, T> read, Func<T, Guid> id, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            var where = conditions.Select(c => c.Sql).ToList();
            foreach (var (sql, value) in conditions)
            {
                command.Parameters.AddWithValue(sql[sql.IndexOf('$')..], value);
            }

            if (page.After is { } after)
            {
                where.Add($"{idColumn} < $after_id");
                command.Parameters.AddWithValue("$after_id", SqliteRows.Key(after.Id));
            }

            command.CommandText = $"{select} {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))} ORDER BY {idColumn} DESC LIMIT $limit";
            command.Parameters.AddWithValue("$limit", page.Limit + 1);
            return await ReadPageAsync(command, page, read, r => new Cursor(0, id(r)), cancellationToken);
        }, cancellationToken);

    private static async Task<Page<T>> ReadPageAsync<T>(
        SqliteCommand command, PageRequest page, Func<DbDataReader, T> read, Func<T, Cursor> cursorOf, CancellationToken cancellationToken)
    {
        var items = new List<T>(page.Limit + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(read(reader));
        }

        if (items.Count <= page.Limit)
        {
            return new Page<T>(items, null);
        }

        items.RemoveAt(page.Limit);
        return new Page<T>(items, cursorOf(items[^1]).Encode());
    }

    private Task<T?> SingleAsync<T>(string sql, Action<SqliteCommand> bind, Func<DbDataReader, T> read, CancellationToken cancellationToken) where T : class =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            bind(command);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? read(reader) : null;
        }, cancellationToken);

    private Task WriteAsync(string sql, Action<SqliteCommand> bind, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            bind(command);
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    // Every store on the file opens, syncs and sorts failures alike (SqliteConnections): FULL syncs the WAL at
    // every commit, so a batch whose offsets are committed survives a power cut; any error that is not the
    // database's (a constraint, a value SQLite refuses) stays ordinary, so the streamer sets that message aside.
    private Task<T> RunAsync<T>(Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken) =>
        SqliteConnections.RunAsync(_connectionString, work, cancellationToken);

    private static Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken) =>
        SqliteConnections.ExecuteAsync(connection, sql, cancellationToken);
}

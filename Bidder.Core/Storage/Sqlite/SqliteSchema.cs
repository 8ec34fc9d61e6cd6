using Microsoft.Data.Sqlite;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>
/// The schema, created at start-up by whichever service comes first (every statement is idempotent):
/// <see cref="Create"/> the tables, <see cref="MigrateAsync"/> the columns an older file lacks, then
/// <see cref="Indexes"/>, which may name those columns. Tables are WITHOUT ROWID: the 16-byte UUID is the
/// clustered key. Each index serves one listing.
/// </summary>
internal static class SqliteSchema
{
    public const string Create = """
        CREATE TABLE IF NOT EXISTS users (
            id BLOB PRIMARY KEY,
            name TEXT NOT NULL,
            bids INTEGER NOT NULL DEFAULT 0,
            created_date INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS items (
            id BLOB PRIMARY KEY,
            name TEXT NOT NULL,
            init_bid INTEGER NOT NULL,
            winning_bid INTEGER NOT NULL DEFAULT 0,
            winning_user_id BLOB,
            winning_bid_id BLOB,
            currency TEXT NOT NULL,
            pictures TEXT NOT NULL,
            bids INTEGER NOT NULL DEFAULT 0,
            created_date INTEGER NOT NULL,
            bidding_enddate INTEGER NOT NULL,
            seller_id BLOB,
            bid_increment INTEGER NOT NULL DEFAULT 1,
            reserve_price INTEGER,
            soft_close_seconds INTEGER NOT NULL DEFAULT 0,
            leader_max INTEGER,
            version INTEGER NOT NULL DEFAULT 0,
            closed_at INTEGER,
            result TEXT,
            close_published INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS events (
            id BLOB PRIMARY KEY,
            item_id BLOB NOT NULL,
            user_id BLOB NOT NULL,
            value INTEGER NOT NULL,
            client TEXT NOT NULL,
            bid_date INTEGER NOT NULL,
            created_date INTEGER NOT NULL,
            status INTEGER NOT NULL,
            reason TEXT,
            detail TEXT,
            max_value INTEGER,
            item_version INTEGER
        ) WITHOUT ROWID;

        CREATE TABLE IF NOT EXISTS idempotency_keys (
            key TEXT PRIMARY KEY,
            request_hash TEXT NOT NULL,
            bid TEXT NOT NULL,
            produced INTEGER NOT NULL,
            created_date INTEGER NOT NULL,
            lease_until INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        """;

    /// <summary>
    /// Run after <see cref="MigrateAsync"/>. The item indexes are partial, so each costs writes only for the items
    /// it serves, and their queries repeat each WHERE term as written here: SQLite uses a partial index only for
    /// a query whose WHERE contains its terms (a bound parameter does not match a constant).
    /// </summary>
    public const string Indexes = """
        -- GET /items/?status=open, ending soonest first, and the streamer's due closes (open, ended by now).
        CREATE INDEX IF NOT EXISTS items_open_by_end ON items (bidding_enddate, id) WHERE closed_at IS NULL;
        -- GET /items/?status=closed, the latest end first.
        CREATE INDEX IF NOT EXISTS items_closed_by_end ON items (bidding_enddate, id) WHERE closed_at IS NOT NULL;
        -- Closes the auctions topic has not confirmed yet: only those between the streamer's close and its acknowledgement.
        CREATE INDEX IF NOT EXISTS items_closes_to_publish ON items (bidding_enddate, id) WHERE closed_at IS NOT NULL AND close_published = 0;

        -- GET /events/?status=
        CREATE INDEX IF NOT EXISTS events_by_status ON events (status, id);
        -- GET /items/{id}/bids: accepted, highest first. Partial: a rejected bid is never listed there, so it
        -- costs no write to this index (BENCHMARKS.md).
        CREATE INDEX IF NOT EXISTS events_by_item_accepted ON events (item_id, value, id) WHERE status = 1;
        DROP INDEX IF EXISTS events_by_item;
        -- GET /users/{id}/bids, with and without ?status= (without: both statuses' ranges merged)
        CREATE INDEX IF NOT EXISTS events_by_user_status ON events (user_id, status, id);
        -- Served the unfiltered listing until one index did both: dropped from older files.
        DROP INDEX IF EXISTS events_by_user;

        -- Pruning keys past their lifetime (MongoDB expires them with a TTL index instead)
        CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_date);
        """;

    /// <summary>Brings a file made by an older version up to this schema: columns added since are added to it.</summary>
    public static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        await AddColumnAsync(connection, "idempotency_keys", "lease_until", "INTEGER NOT NULL DEFAULT 0", cancellationToken);
        // Null: items created before items knew their seller have none.
        await AddColumnAsync(connection, "items", "seller_id", "BLOB", cancellationToken);
        // Items from before auction terms: today's terms (any higher bid, no reserve, no soft close), version 0
        // (the item's state counts its bids as its version), open until the streamer closes them.
        await AddColumnAsync(connection, "items", "bid_increment", "INTEGER NOT NULL DEFAULT 1", cancellationToken);
        await AddColumnAsync(connection, "items", "reserve_price", "INTEGER", cancellationToken);
        await AddColumnAsync(connection, "items", "soft_close_seconds", "INTEGER NOT NULL DEFAULT 0", cancellationToken);
        await AddColumnAsync(connection, "items", "leader_max", "INTEGER", cancellationToken);
        await AddColumnAsync(connection, "items", "version", "INTEGER NOT NULL DEFAULT 0", cancellationToken);
        await AddColumnAsync(connection, "items", "closed_at", "INTEGER", cancellationToken);
        await AddColumnAsync(connection, "items", "result", "TEXT", cancellationToken);
        await AddColumnAsync(connection, "items", "close_published", "INTEGER NOT NULL DEFAULT 0", cancellationToken);
        // Null: bids from before automatic bidding have no maximum, and none says which item version it made.
        await AddColumnAsync(connection, "events", "max_value", "INTEGER", cancellationToken);
        await AddColumnAsync(connection, "events", "item_version", "INTEGER", cancellationToken);
    }

    private static async Task AddColumnAsync(SqliteConnection connection, string table, string column, string definition, CancellationToken cancellationToken)
    {
        await using var probe = connection.CreateCommand();
        probe.CommandText = "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column";
        probe.Parameters.AddWithValue("$table", table);
        probe.Parameters.AddWithValue("$column", column);
        if ((long)(await probe.ExecuteScalarAsync(cancellationToken))! == 0)
        {
            await using var alter = connection.CreateCommand();
            // Names and definition are this class's constants, never input: ALTER TABLE takes no parameters.
            alter.CommandText = $"ALTER TABLE {table} ADD COLUMN {column} {definition}";
            try
            {
                await alter.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException ex) when (ex.Message.Contains("duplicate column", StringComparison.OrdinalIgnoreCase))
            {
                // The other service migrated the file between the probe and the change.
            }
        }
    }
}

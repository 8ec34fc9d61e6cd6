using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Bidder.Core.Storage.Sqlite;

/// <summary>
/// How a store opens the shared SQLite file and sorts SQLite's failures, so that every store on that file
/// (<see cref="SqliteBidderStore"/>, <see cref="SqliteAccountStore"/>) waits for locks, syncs and fails alike.
/// </summary>
internal static class SqliteConnections
{
    /// <summary>The caller's connection string, creating the file if needed, pooled, with a lock wait unless it names one.</summary>
    public static string Prepare(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
        };

        // A locked database is retried for this long before the caller hears it is unavailable.
        if (!connectionString.Contains("Default Timeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.DefaultTimeout = 5;
        }

        return builder.ToString();
    }

    /// <summary>
    /// The same database for the streamer's batch writes: a pool of connections of their own (the explicit private
    /// cache is SQLite's default, it only makes the connection string, and so the pool, another one), so their
    /// large page cache (<see cref="BatchCacheKibibytes"/>) stays warm between batches and no read shrinks it.
    /// </summary>
    public static string ForBatches(string preparedConnectionString) =>
        new SqliteConnectionStringBuilder(preparedConnectionString) { Cache = SqliteCacheMode.Private }.ToString();

    /// <summary>
    /// The page cache of a batch writer's connection: a batch updates one item row per accepted bid, spread over the
    /// whole items table, and the pages it changes stay in the cache until the commit (BENCHMARKS.md, scale). 16 MB:
    /// at 1,000,000 bids over 100,000 items the store alone wrote as fast as with 32 MB (24,345 and 24,497 bids/s).
    /// </summary>
    public const int BatchCacheKibibytes = 16 * 1024;

    /// <summary>
    /// The page cache of every other connection: reads of a few rows and single-row writes, which the operating
    /// system's file cache serves as well. At 32 MB each, the pooled connections of a busy streamer (its lookups run
    /// beside its batch writes) held some 70 MB more (BENCHMARKS.md, "Pipeline: writes overlap").
    /// </summary>
    public const int CacheKibibytes = 2 * 1024;

    /// <summary>
    /// How many pages the WAL takes before a commit copies them into the database file (a checkpoint), 256 MB of 4 KB
    /// pages. A checkpoint writes each page once however many batches changed it since the last one, and a batch
    /// changes pages all over the item rows and the per-item and per-user indexes: the longer the interval, the more
    /// batches share a page. At 1,000,000 bids over 100,000 items the store alone wrote 12 MB per 1,000-bid batch
    /// instead of 15 and 28,300–30,500 bids/s instead of 21,600–24,500 (64 MB); at 200,000 bids over 10,000 items,
    /// where fewer pages are changed again and again, 5–9 % faster (BENCHMARKS.md, the fifth pass). The cost: a WAL
    /// file of up to 256 MB beside the database, read back once after a crash.
    /// </summary>
    public const int WalPagesBetweenCheckpoints = 65_536;

    /// <summary>
    /// Runs <paramref name="work"/> on a new connection. An SQLite failure of the database becomes a
    /// <see cref="StorageUnavailableException"/> or <see cref="StorageConfigurationException"/>; any other
    /// (a constraint, a value SQLite refuses) concerns what was written and stays as it is.
    /// </summary>
    public static async Task<T> RunAsync<T>(
        string connectionString, Func<SqliteConnection, Task<T>> work, CancellationToken cancellationToken, int cacheKibibytes = CacheKibibytes)
    {
        try
        {
            await using var connection = new SqliteConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            await ConfigureAsync(connection, cacheKibibytes, cancellationToken);
            return await work(connection);
        }
        catch (SqliteException ex) when (IsTransient(ex.SqliteErrorCode))
        {
            throw new StorageUnavailableException($"The SQLite database did not answer: {ex.Message}", ex);
        }
        catch (SqliteException ex) when (IsMisconfigured(ex.SqliteErrorCode))
        {
            throw new StorageConfigurationException($"The SQLite database cannot be used as configured: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Applies the settings a native connection keeps for its life, the first time this process uses it: the pool
    /// hands the same native connection out again and again, and running them on every operation cost a one-row read
    /// a third of its time (33–37 µs with them, 23–27 without; BENCHMARKS.md). A native connection another caller
    /// opened first (a plain <see cref="SqliteConnection"/> on the same connection string) is configured here on its
    /// first use all the same: the mark is per native handle, and the pool drops a handle only by closing it (a
    /// cleared pool, idle pruning), which drops the mark with it.
    /// FULL: the WAL is synced at every commit, so a write that was acknowledged (a batch whose offsets are committed)
    /// survives a power cut too; one sync per batch. The checkpoint interval is the same on every connection:
    /// whichever commits past it runs the checkpoint (<see cref="WalPagesBetweenCheckpoints"/>). busy_timeout: a
    /// writer that finds the write lock taken (the API's create while the streamer commits a batch) waits inside
    /// SQLite, which retries after 1, 2, 5, 10... ms; without it Microsoft.Data.Sqlite retries every 150 ms, and a
    /// create under bid load took 150 ms where the lock was free after a few (BENCHMARKS.md, tail).
    /// </summary>
    private static async Task ConfigureAsync(SqliteConnection connection, int cacheKibibytes, CancellationToken cancellationToken)
    {
        var handle = connection.Handle!;
        var settings = new Settings(cacheKibibytes, BusyTimeoutMs(connection));
        if (Configured.TryGetValue(handle, out var applied) && applied == settings)
        {
            return;
        }

        await ExecuteAsync(connection,
            $"PRAGMA synchronous=FULL; PRAGMA cache_size=-{settings.CacheKibibytes}; PRAGMA wal_autocheckpoint={WalPagesBetweenCheckpoints}; PRAGMA busy_timeout={settings.BusyTimeoutMs};",
            cancellationToken);
        // Marked only once every setting is applied: a cancelled or failed run is made again on the next use.
        Configured.AddOrUpdate(handle, settings);
    }

    // The native connections configured so far, by handle: weak, so a closed connection's mark goes with it.
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, Settings> Configured = new();

    private sealed record Settings(int CacheKibibytes, int BusyTimeoutMs);

    /// <summary>The connection's own lock wait (its Default Timeout), in milliseconds, for SQLite's busy handler.</summary>
    private static int BusyTimeoutMs(SqliteConnection connection) => Math.Max(1, connection.DefaultTimeout) * 1000;

    public static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Busy, locked, I/O error, disk full, cannot open, WAL-index protocol, read-only, out of memory,
    // interrupted, schema changed under a prepared statement: the same call may succeed later.
    private static bool IsTransient(int code) => (code & 0xff) is 5 or 6 or 10 or 13 or 14 or 15 or 8 or 7 or 9 or 17;

    // Generic error (no such table or column: not this schema), no permission, corrupt, authorization,
    // not a database: no retry can fix these.
    private static bool IsMisconfigured(int code) => (code & 0xff) is 1 or 3 or 11 or 23 or 26;
}

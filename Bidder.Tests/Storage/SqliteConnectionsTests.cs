using Bidder.Core.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Bidder.Tests.Storage;

/// <summary>
/// The settings every store connection runs with (durability, page cache, checkpoint interval, lock wait) are applied
/// once per native connection, not on every operation: each use of a pooled connection must still find them in effect.
/// Alone: other classes clear every pool of the process when they finish, which would close this test's connection
/// between two uses.
/// </summary>
[Collection(Name)]
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SqliteConnectionsTests : IDisposable
{
    private const string Name = "SQLite connection pools";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("bidder-connections-");

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_use_of_a_pooled_connection_has_the_settings_whoever_opened_it_first()
    {
        var connectionString = SqliteConnections.Prepare($"Data Source={Path.Combine(_folder.FullName, "bidder.db")}");

        // Opened and returned to the pool by other code first, with SQLite's defaults.
        object opened;
        await using (var plain = new SqliteConnection(connectionString))
        {
            await plain.OpenAsync(Cancel);
            opened = plain.Handle!;
        }

        var expected = new Settings(Synchronous: 2, CacheSize: -SqliteConnections.CacheKibibytes, SqliteConnections.WalPagesBetweenCheckpoints, BusyTimeoutMs: 5_000);
        for (var use = 0; use < 3; use++)
        {
            var (handle, settings) = await ReadAsync(connectionString);
            Assert.Same(opened, handle);
            Assert.Equal(expected, settings);
        }

        // The same native connection asked for another page cache, then the usual one again.
        var (batchHandle, batch) = await ReadAsync(connectionString, SqliteConnections.BatchCacheKibibytes);
        Assert.Same(opened, batchHandle);
        Assert.Equal(expected with { CacheSize = -SqliteConnections.BatchCacheKibibytes }, batch);
        Assert.Equal(expected, (await ReadAsync(connectionString)).Settings);

        // The batch writer's own pool, with its larger cache, on every use.
        var batches = SqliteConnections.ForBatches(connectionString);
        for (var use = 0; use < 2; use++)
        {
            var (handle, settings) = await ReadAsync(batches, SqliteConnections.BatchCacheKibibytes);
            Assert.NotSame(opened, handle);
            Assert.Equal(expected with { CacheSize = -SqliteConnections.BatchCacheKibibytes }, settings);
        }

        // A pool cleared (by a test, or the pool's own pruning of idle connections) opens a new native connection:
        // configured on its first use too.
        await using (var clearing = new SqliteConnection(connectionString))
        {
            SqliteConnection.ClearPool(clearing);
        }

        var (fresh, settingsAfterClear) = await ReadAsync(connectionString);
        Assert.NotSame(opened, fresh);
        Assert.Equal(expected, settingsAfterClear);
    }

    private static Task<(object Handle, Settings Settings)> ReadAsync(string connectionString, int cacheKibibytes = SqliteConnections.CacheKibibytes) =>
        SqliteConnections.RunAsync(connectionString, async connection =>
        {
            async Task<long> PragmaAsync(string name)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = $"PRAGMA {name}";
                return (long)(await command.ExecuteScalarAsync(Cancel))!;
            }

            var settings = new Settings(
                await PragmaAsync("synchronous"), await PragmaAsync("cache_size"), await PragmaAsync("wal_autocheckpoint"), await PragmaAsync("busy_timeout"));
            return ((object)connection.Handle!, settings);
        }, Cancel, cacheKibibytes);

    private sealed record Settings(long Synchronous, long CacheSize, long WalAutocheckpoint, long BusyTimeoutMs);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}

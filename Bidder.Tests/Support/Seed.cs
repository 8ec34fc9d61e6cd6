using Bidder.Domain;
using Bidder.Core.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Bidder.Tests.Support;

/// <summary>Test data and database faults shared by the stream, fault, replica and load tests.</summary>
internal static class Seed
{
    /// <summary>Creates users and open items through the API, and returns the items as stored.</summary>
    public static async Task<(List<Guid> Users, List<Item> Items)> UsersAndItemsAsync(
        HttpClient http, string databaseConnectionString, int userCount, int itemCount, decimal initBidBase, string prefix)
    {
        var store = new SqliteBidderStore(databaseConnectionString);
        var users = new List<Guid>();
        for (var i = 0; i < userCount; i++)
        {
            users.Add(Guid.Parse((await http.CreateUserAsync($"{prefix} user {i}")).Id()));
        }

        var items = new List<Item>();
        for (var i = 0; i < itemCount; i++)
        {
            var created = await http.CreateItemAsync(initBid: initBidBase + i, end: DateTimeOffset.UtcNow.AddDays(2), name: $"{prefix} item {i}");
            items.Add((await store.GetItemAsync(Guid.Parse(created.Id()), TestContext.Current.CancellationToken))!);
        }

        return (users, items);
    }

    /// <summary>Users and items for a generated stream, on the shared embedded app.</summary>
    public static async Task<(List<Guid> Users, List<Item> Items)> StreamUsersAndItemsAsync(EmbeddedApp app, int userCount, int itemCount)
    {
        return await UsersAndItemsAsync(app.Admin.Api, (await app.ConnectionStringAsync("bidderdb"))!, userCount, itemCount, initBidBase: 10m, "stream");
    }

    /// <summary>Holds the SQLite write lock, as another writer would, until disposed.</summary>
    public static async Task<IAsyncDisposable> LockDatabaseAsync(string databaseConnectionString)
    {
        var connection = new SqliteConnection(databaseConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        var transaction = await connection.BeginTransactionAsync(TestContext.Current.CancellationToken);
        await using (var write = connection.CreateCommand())
        {
            write.CommandText = "UPDATE users SET bids = bids WHERE 0";
            await write.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        return new Lock(connection, transaction);
    }

    /// <summary>
    /// Takes every lock of the SQLite WAL index (the bytes of the -shm file SQLite locks with fcntl), as a
    /// process recovering or holding the database exclusively does: readers as well as writers of the
    /// services cannot start a transaction until disposed. (A write lock alone does not stop WAL readers.)
    /// </summary>
    public static IDisposable HoldDatabaseExclusively(string databaseConnectionString)
    {
        const long WalIndexLockOffset = 120, WalIndexLockCount = 8;
        var shm = new SqliteConnectionStringBuilder(databaseConnectionString).DataSource + "-shm";
        if (OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException(".NET cannot take byte-range locks on macOS; run this fault on Linux or Windows.");
        }

        // SQLite deletes the -shm file when the last connection to the database closes (services' pools prune
        // idle connections), and the next connection makes a new one that this lock would not cover: a
        // connection of our own, open and past its first read, keeps this very file in use meanwhile.
        var pin = new SqliteConnection(new SqliteConnectionStringBuilder(databaseConnectionString) { Pooling = false }.ToString());
        pin.Open();
        using (var read = pin.CreateCommand())
        {
            read.CommandText = "SELECT COUNT(*) FROM sqlite_master";
            read.ExecuteScalar();
        }

        var file = new FileStream(shm, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        // The services hold these bytes for a moment whenever they read or write (the streamer looks for ended
        // auctions every second even when no bid comes): take them at the first moment they are free.
        var deadline = HangGuard.Token;
        while (true)
        {
            try
            {
                file.Lock(WalIndexLockOffset, WalIndexLockCount);
                return new Held(file, pin);
            }
            catch (IOException) when (!deadline.IsCancellationRequested)
            {
                Thread.Sleep(5);
            }
        }
    }

    // The lock goes first (closing the file releases it), then the pinning connection.
    private sealed class Held(FileStream file, SqliteConnection pin) : IDisposable
    {
        public void Dispose()
        {
            file.Dispose();
            pin.Dispose();
        }
    }

    private sealed class Lock(SqliteConnection connection, System.Data.Common.DbTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}

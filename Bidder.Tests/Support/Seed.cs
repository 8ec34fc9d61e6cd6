using Bidder.Core.Domain;
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
            items.Add((await store.GetItemAsync(Guid.Parse(created.Id()), TestContext.Timeout))!);
        }

        return (users, items);
    }

    /// <summary>Holds the SQLite write lock, as another writer would, until disposed.</summary>
    public static async Task<IAsyncDisposable> LockDatabaseAsync(string databaseConnectionString)
    {
        var connection = new SqliteConnection(databaseConnectionString);
        await connection.OpenAsync(TestContext.Timeout);
        var transaction = await connection.BeginTransactionAsync(TestContext.Timeout);
        await using (var write = connection.CreateCommand())
        {
            write.CommandText = "UPDATE users SET bids = bids WHERE 0";
            await write.ExecuteNonQueryAsync(TestContext.Timeout);
        }

        return new Lock(connection, transaction);
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

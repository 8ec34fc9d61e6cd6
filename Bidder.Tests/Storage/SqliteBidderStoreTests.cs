using Bidder.Core.Storage;
using Bidder.Core.Storage.Sqlite;

namespace Bidder.Tests.Storage;

/// <summary>The storage contract on the embedded SQLite adapter, each test on a fresh file.</summary>
public sealed class SqliteBidderStoreTests : BidderStoreContract, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("bidder-store-");

    protected override async Task<IBidderStore> CreateStoreAsync()
    {
        var store = new SqliteBidderStore($"Data Source={Path.Combine(_folder.FullName, "bidder.db")}");
        await store.InitializeAsync(Support.TestContext.Timeout);
        return store;
    }

    [Fact]
    public async Task Initializing_twice_keeps_the_data()
    {
        var path = Path.Combine(_folder.FullName, "twice.db");
        var store = new SqliteBidderStore($"Data Source={path}");
        await store.InitializeAsync(Support.TestContext.Timeout);
        var user = new Core.Domain.User(Guid.CreateVersion7(), "kept", 0, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        await store.CreateUserAsync(user, Support.TestContext.Timeout);

        var reopened = new SqliteBidderStore($"Data Source={path}");
        await reopened.InitializeAsync(Support.TestContext.Timeout);

        Assert.Equal(user, await reopened.GetUserAsync(user.Id, Support.TestContext.Timeout));
    }

    [Fact]
    public async Task A_database_that_cannot_be_opened_is_reported_unavailable()
    {
        var store = new SqliteBidderStore($"Data Source={Path.Combine(_folder.FullName, "missing", "dir", "x.db")};Mode=ReadOnly");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetUserAsync(Guid.CreateVersion7(), Support.TestContext.Timeout));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}

/// <summary>
/// The storage contract on the MongoDB adapter, against the server named by BIDDER_TEST_MONGODB
/// (a mongodb:// URL); skipped, with that reason, when none is given.
/// </summary>
public sealed class MongoBidderStoreTests : BidderStoreContract
{
    protected override async Task<IBidderStore> CreateStoreAsync()
    {
        var url = Environment.GetEnvironmentVariable("BIDDER_TEST_MONGODB");
        Skip.If(string.IsNullOrWhiteSpace(url), "BIDDER_TEST_MONGODB is not set: no MongoDB server to run the contract against.");
        var client = new MongoDB.Driver.MongoClient(url);
        var database = client.GetDatabase($"bidder_test_{Guid.NewGuid():N}");
        var store = new Core.Storage.Mongo.MongoBidderStore(database);
        await store.InitializeAsync(Support.TestContext.Timeout);
        return store;
    }
}

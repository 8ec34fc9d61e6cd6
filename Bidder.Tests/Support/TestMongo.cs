using MongoDB.Driver;

namespace Bidder.Tests.Support;

/// <summary>
/// The MongoDB server named by BIDDER_TEST_MONGODB (a mongodb:// URL), for the MongoDB legs of the storage contracts:
/// one client for the whole test run, as the driver advises (a client owns its connection pools and the threads that
/// watch the servers), and a database of its own for each test, which the test drops when it ends
/// (<see cref="TestDatabase.DisposeAsync"/>), so runs leave nothing behind on the server. Without the variable the
/// test is skipped, with that reason.
/// </summary>
internal static class TestMongo
{
    public const string Variable = "BIDDER_TEST_MONGODB";

    private static readonly Lazy<MongoClient> Client = new(() => new MongoClient(Url));

    public static string? Url => Environment.GetEnvironmentVariable(Variable);

    /// <summary>A new, empty database on the test server; skips the test when no server is named.</summary>
    public static TestDatabase NewDatabase()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(Url), $"{Variable} is not set: no MongoDB server to run the contract against.");
        return new TestDatabase(Client.Value.GetDatabase($"bidder_test_{Guid.NewGuid():N}"));
    }
}

/// <summary>A test's own database on the test server, dropped when disposed.</summary>
internal sealed class TestDatabase(IMongoDatabase database) : IAsyncDisposable
{
    public IMongoDatabase Database { get; } = database;

    public async ValueTask DisposeAsync() =>
        await Database.Client.DropDatabaseAsync(Database.DatabaseNamespace.DatabaseName, CancellationToken.None);
}

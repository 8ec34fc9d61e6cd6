using Bidder.Domain.Contracts;
using Bidder.Domain;
using Bidder.Core.Storage;
using Bidder.Core.Storage.Mongo;
using Bidder.Core.Storage.Sqlite;
using Bidder.Streamer.Pipeline;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Bidder.Tests.Storage;

/// <summary>The storage contract on the embedded SQLite adapter, each test on a fresh file.</summary>
public sealed class SqliteBidderStoreTests : BidderStoreContract, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("bidder-store-");

    protected override async Task<IBidderStore> CreateStoreAsync()
    {
        var store = new SqliteBidderStore($"Data Source={Path.Combine(_folder.FullName, "bidder.db")}");
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return store;
    }

    [Fact]
    public async Task Initializing_twice_keeps_the_data()
    {
        var path = Path.Combine(_folder.FullName, "twice.db");
        var store = new SqliteBidderStore($"Data Source={path}");
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        var user = new Bidder.Domain.User(Guid.CreateVersion7(), "kept", 0, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        await store.CreateUserAsync(user, TestContext.Current.CancellationToken);

        var reopened = new SqliteBidderStore($"Data Source={path}");
        await reopened.InitializeAsync(TestContext.Current.CancellationToken);

        Assert.Equal(user, await reopened.GetUserAsync(user.Id, TestContext.Current.CancellationToken));
    }

    // A file from before items knew their seller: its items table has no seller_id. Initializing adds the
    // column; the old items read back with no seller, and new ones keep theirs.
    [Fact]
    public async Task A_file_from_before_sellers_is_migrated_and_its_items_have_no_seller()
    {
        var path = Path.Combine(_folder.FullName, "old.db");
        var old = new Bidder.Domain.Item(Guid.CreateVersion7(), "old lamp", 12.5m, 0m, null, null, "EUR", [], 0,
            DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000), DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000));
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var create = connection.CreateCommand();
            create.CommandText = """
                CREATE TABLE items (
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
                    bidding_enddate INTEGER NOT NULL
                ) WITHOUT ROWID;
                INSERT INTO items (id, name, init_bid, currency, pictures, created_date, bidding_enddate)
                VALUES ($id, 'old lamp', 1250, 'EUR', '[]', 1700000000000, 1800000000000);
                """;
            create.Parameters.AddWithValue("$id", old.Id.ToByteArray(bigEndian: true));
            await create.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var store = new SqliteBidderStore($"Data Source={path}");
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        // Again, as the second service starting on the same file does: the column is there already.
        await new SqliteBidderStore($"Data Source={path}").InitializeAsync(TestContext.Current.CancellationToken);
        var sold = old with { Id = Guid.CreateVersion7(), Name = "new lamp", SellerId = Guid.CreateVersion7() };
        await store.CreateItemAsync(sold, TestContext.Current.CancellationToken);

        var read = await store.GetItemAsync(old.Id, TestContext.Current.CancellationToken);
        Assert.Equal(old, read! with { Pictures = old.Pictures });
        Assert.Null(read.SellerId);
        Assert.Equal(sold.SellerId, (await store.GetItemAsync(sold.Id, TestContext.Current.CancellationToken))!.SellerId);
        Assert.Equal(sold.SellerId, (await store.GetItemsAsync([old.Id, sold.Id], TestContext.Current.CancellationToken))[sold.Id].SellerId);
    }

    [Fact]
    public async Task A_database_that_cannot_be_opened_is_reported_unavailable()
    {
        // Its folder is a file: SQLite cannot open (or create) the database there.
        var notAFolder = Path.Combine(_folder.FullName, "not-a-folder");
        await File.WriteAllTextAsync(notAFolder, "a file", TestContext.Current.CancellationToken);
        var store = new SqliteBidderStore($"Data Source={Path.Combine(notAFolder, "x.db")}");

        await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetUserAsync(Guid.CreateVersion7(), TestContext.Current.CancellationToken));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}

/// <summary>
/// The storage contract on the MongoDB adapter, against the server named by BIDDER_TEST_MONGODB
/// (a mongodb:// URL); skipped, with that reason, when none is given. Also what only this adapter can
/// suffer: a batch cut short between its steps (it has no transaction), and credentials the server refuses.
/// </summary>
public sealed class MongoBidderStoreTests : BidderStoreContract
{
    protected override async Task<IBidderStore> CreateStoreAsync() => (await CreateAsync()).Store;

    // A failure between the insert and the counters, then the retry: seen failing before the store reported
    // incomplete bids, when the retry took the stored bids as fully recorded and never counted them or moved the item.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_batch_cut_after_storing_its_bids_is_completed_exactly_by_the_retry(bool countedBeforeTheCut)
    {
        var (store, database) = await CreateAsync();
        var (user, item) = await SeedAsync(store);
        var now = T0.AddSeconds(10);
        var bids = new[] { 20m, 15m, 30m }
            .Select((value, i) => new BidMessage(1, Guid.CreateVersion7(), item.Id, user.Id, value, "web", T0.AddSeconds(i + 1)))
            .ToList();
        var decoded = bids.Select((bid, offset) => BidDecoder.Decode(new ConsumeResult<string, byte[]>
        {
            Message = new Message<string, byte[]> { Key = bid.ItemId.ToString(), Value = bid.ToUtf8Json(), Timestamp = new Timestamp(bid.BidDate) },
            TopicPartitionOffset = new TopicPartitionOffset("bids", 0, offset),
        }, TimeSpan.FromMinutes(5))).ToList();
        var table = new ItemTable();
        table.Load(0, []);
        var processor = new BatchProcessor(new BidRules(BidRules.DefaultMaxBidValue), table);

        // The first attempt: decided, its bids stored (step 1), perhaps counted (step 2), then cut.
        var first = processor.Process(decoded, await LookupsAsync(store, bids), now);
        await database.GetCollection<BsonDocument>(MongoQueries.Events).InsertManyAsync(first.Bids.Select(MongoDocuments.ToNewEvent), cancellationToken: Timeout);
        if (countedBeforeTheCut)
        {
            await database.GetCollection<BsonDocument>(MongoQueries.Users).BulkWriteAsync(
                first.Bids.Where(b => b.Status == BidStatus.Accepted).Select(b => MongoQueries.CountBid(b.UserId, b.Id)), cancellationToken: Timeout);
        }

        // The retry, as the pipeline makes it; then a replay of the same messages (a lost offset commit).
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var outcome = processor.Process(decoded, await LookupsAsync(store, bids), now);
            await store.RecordBatchAsync(outcome.ToDatabaseBatch(), Timeout);
            table.Apply(outcome.Rows.Select(r => (r.Key.Partition, r.Key.ItemId, r.Value)));
        }

        Assert.Equal(2, (await store.GetUserAsync(user.Id, Timeout))!.Bids);
        var stored = await store.GetItemAsync(item.Id, Timeout);
        Assert.Equal(30m, stored!.WinningBid);
        Assert.Equal(bids[2].Id, stored.WinningBidId);
        Assert.Equal(2, stored.Bids);
        Assert.Equal(RejectReason.TooLow, (await store.GetBidAsync(bids[1].Id, Timeout))!.Reason);
        Assert.Empty(await store.FindIncompleteBidsAsync([.. bids.Select(b => b.Id)], Timeout));
    }

    [Fact]
    public async Task Credentials_the_server_refuses_are_a_configuration_error_not_an_outage()
    {
        var (_, database) = await CreateAsync();
        var url = new MongoUrlBuilder(Environment.GetEnvironmentVariable("BIDDER_TEST_MONGODB"))
        {
            Username = "bidder-nobody",
            Password = "not-the-password",
            AuthenticationSource = "admin",
        };
        var store = new MongoBidderStore(new MongoClient(url.ToMongoUrl()).GetDatabase(database.DatabaseNamespace.DatabaseName));

        await Assert.ThrowsAsync<StorageConfigurationException>(() => store.InitializeAsync(Timeout));
    }

    private static async Task<(IBidderStore Store, IMongoDatabase Database)> CreateAsync()
    {
        var url = Environment.GetEnvironmentVariable("BIDDER_TEST_MONGODB");
        Assert.SkipWhen(string.IsNullOrWhiteSpace(url), "BIDDER_TEST_MONGODB is not set: no MongoDB server to run the contract against.");
        var database = new MongoClient(url).GetDatabase($"bidder_test_{Guid.NewGuid():N}");
        var store = new MongoBidderStore(database);
        await store.InitializeAsync(Timeout);
        return (store, database);
    }

    /// <summary>What the pipeline reads before deciding a batch.</summary>
    private static async Task<BatchLookups> LookupsAsync(IBidderStore store, List<BidMessage> bids)
    {
        var recorded = await store.GetBidsAsync([.. bids.Select(b => b.Id)], Timeout);
        return new BatchLookups(
            await store.FindUsersAsync([.. bids.Select(b => b.UserId)], Timeout),
            await store.GetItemsAsync([.. bids.Select(b => b.ItemId)], Timeout),
            recorded,
            await store.FindIncompleteBidsAsync([.. recorded.Keys], Timeout));
    }

    private static CancellationToken Timeout => TestContext.Current.CancellationToken;
}

/// <summary>How the MongoDB adapter fails, without a server: a server that does not answer, and the driver's errors sorted.</summary>
public sealed class MongoStoreFailureTests
{
    [Fact]
    public async Task A_mongodb_that_does_not_answer_is_unavailable_after_a_short_server_selection()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:bidderdb"] = "mongodb://127.0.0.1:1/bidder";
        builder.AddBidderStorage();
        using var host = builder.Build();

        var client = host.Services.GetRequiredService<IMongoClient>();
        var store = host.Services.GetRequiredService<IBidderStore>();

        // The driver's default is 30 s: a request would hang that long before its 503.
        Assert.Equal(TimeSpan.FromSeconds(2), client.Settings.ServerSelectionTimeout);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => store.GetUserAsync(Guid.CreateVersion7(), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void A_server_selection_timeout_in_the_url_is_kept()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:bidderdb"] = "mongodb://127.0.0.1:1/bidder?serverSelectionTimeoutMS=7000";
        builder.AddBidderStorage();
        using var host = builder.Build();

        Assert.Equal(TimeSpan.FromSeconds(7), host.Services.GetRequiredService<IMongoClient>().Settings.ServerSelectionTimeout);
    }

    [Theory]
    [InlineData(13, "configuration")]  // Unauthorized
    [InlineData(18, "configuration")]  // AuthenticationFailed
    [InlineData(85, "configuration")]  // IndexOptionsConflict
    [InlineData(86, "configuration")]  // IndexKeySpecsConflict
    [InlineData(189, "transient")]     // PrimarySteppedDown
    [InlineData(91, "transient")]      // ShutdownInProgress
    public void Server_errors_are_sorted_by_what_a_retry_can_do(int code, string kind)
    {
        var error = new MongoCommandException(Connection, "refused", new BsonDocument("ping", 1), new BsonDocument { { "ok", 0 }, { "code", code } });

        Assert.Equal(kind == "configuration", MongoErrors.IsMisconfiguration(error));
        Assert.Equal(kind == "transient", !MongoErrors.IsMisconfiguration(error) && MongoErrors.IsTransient(error));
    }

    [Fact]
    public void A_failed_authentication_is_a_configuration_error_and_a_lost_connection_an_outage()
    {
        Assert.True(MongoErrors.IsMisconfiguration(new MongoAuthenticationException(Connection, "Authentication failed.")));
        Assert.True(MongoErrors.IsMisconfiguration(new MongoConnectionException(Connection, "Opening failed.", new MongoAuthenticationException(Connection, "Authentication failed."))));
        Assert.False(MongoErrors.IsMisconfiguration(new MongoConnectionException(Connection, "Connection reset.")));
        Assert.True(MongoErrors.IsTransient(new MongoConnectionException(Connection, "Connection reset.")));
        Assert.True(MongoErrors.IsTransient(new TimeoutException("A timeout occurred after 2000ms selecting a server.")));
        // The driver wraps whatever breaks the login in an authentication error: a dropped socket is still an outage.
        Assert.False(MongoErrors.IsMisconfiguration(new MongoAuthenticationException(Connection, "Unable to authenticate.", new IOException("Connection reset by peer."))));
        Assert.False(MongoErrors.IsTransient(new FormatException("Not a document.")));
    }

    private static readonly MongoDB.Driver.Core.Connections.ConnectionId Connection =
        new(new MongoDB.Driver.Core.Servers.ServerId(new MongoDB.Driver.Core.Clusters.ClusterId(), new System.Net.DnsEndPoint("localhost", 27017)));
}

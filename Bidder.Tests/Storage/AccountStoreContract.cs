using Bidder.Core.Storage;
using Bidder.Core.Storage.Mongo;
using Bidder.Core.Storage.Sqlite;
using Bidder.Domain;
using Bidder.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MongoDB.Bson;
using MongoDB.Bson.IO;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Serializers;
using MongoDB.Driver;

namespace Bidder.Tests.Storage;

/// <summary>
/// The behaviour every account store owes the identity service. Each adapter runs this whole suite
/// (<see cref="SqliteAccountStoreTests"/>, <see cref="MongoAccountStoreTests"/>) on a database its bidder
/// store initialized first, as the services' start-up does.
/// </summary>
public abstract class AccountStoreContract
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A fresh, initialized, empty account store, and the user side of the same database.</summary>
    protected abstract Task<(IAccountStore Accounts, IAuctionStore Users)> CreateStoresAsync();

    [Fact]
    public async Task A_created_account_reads_back_exactly_by_id_and_by_email()
    {
        var (accounts, _) = await CreateStoresAsync();
        var (locked, lockedUser) = NewPair("Zoë.O'Hara+bids@exämple.com", T0);
        locked = locked with { AccessFailedCount = 3, LockoutEnd = T0.AddMinutes(5).AddMilliseconds(123), Roles = ["bidder", "admin"] };
        var (plain, plainUser) = NewPair("{\"$gt\": \"\"}'; DROP TABLE accounts; --", T0.AddSeconds(1));
        plain = plain with { LockoutEnd = null, Roles = [] };

        Assert.True(await accounts.CreateAccountAsync(locked, lockedUser, Timeout));
        Assert.True(await accounts.CreateAccountAsync(plain, plainUser, Timeout));

        foreach (var account in new[] { locked, plain })
        {
            AssertSameAccount(account, await accounts.FindAccountByIdAsync(account.UserId, Timeout));
            AssertSameAccount(account, await accounts.FindAccountByEmailAsync(account.NormalizedEmail, Timeout));
        }
    }

    [Fact]
    public async Task Creating_an_account_creates_its_user_with_the_same_id_and_no_bids()
    {
        var (accounts, users) = await CreateStoresAsync();
        var (account, user) = NewPair("ada@example.com", T0, name: "Ada 🐙");

        Assert.True(await accounts.CreateAccountAsync(account, user, Timeout));

        Assert.Equal(new User(account.UserId, "Ada 🐙", 0, T0), await users.GetUserAsync(account.UserId, Timeout));
    }

    [Fact]
    public async Task A_second_account_with_a_taken_email_is_refused_and_creates_no_user()
    {
        var (accounts, users) = await CreateStoresAsync();
        var first = NewPair("ada@example.com", T0);
        // Typed differently, normalized the same: the normalized e-mail is the key.
        var second = NewPair("ADA@Example.com", T0.AddSeconds(1));

        Assert.True(await accounts.CreateAccountAsync(first.Account, first.User, Timeout));
        Assert.False(await accounts.CreateAccountAsync(second.Account, second.User, Timeout));

        Assert.Null(await users.GetUserAsync(second.User.Id, Timeout));
        Assert.Null(await accounts.FindAccountByIdAsync(second.Account.UserId, Timeout));
        AssertSameAccount(first.Account, await accounts.FindAccountByEmailAsync("ADA@EXAMPLE.COM", Timeout));
        Assert.Single((await users.ListUsersAsync(new PageRequest(10, null), Timeout)).Items);
    }

    [Fact]
    public async Task Of_concurrent_creates_with_one_email_exactly_one_succeeds_and_only_its_user_exists()
    {
        var (accounts, users) = await CreateStoresAsync();
        var contenders = Enumerable.Range(0, 10).Select(i => NewPair("race@example.com", T0.AddMilliseconds(i), name: $"contender {i}")).ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var racing = contenders.Select(c => Task.Run(async () =>
        {
            await start.Task;
            return await accounts.CreateAccountAsync(c.Account, c.User, Timeout);
        }, Timeout)).ToList();
        start.SetResult();
        var results = await Task.WhenAll(racing);

        Assert.Single(results, created => created);
        var winner = contenders[Array.IndexOf(results, true)];
        Assert.Equal(winner.Account.UserId, (await accounts.FindAccountByEmailAsync("RACE@EXAMPLE.COM", Timeout))?.UserId);
        Assert.Equal(new[] { winner.User.Id }, (await users.ListUsersAsync(new PageRequest(20, null), Timeout)).Items.Select(u => u.Id));
    }

    [Fact]
    public async Task An_update_replaces_every_mutable_field_and_keeps_the_creation_date()
    {
        var (accounts, _) = await CreateStoresAsync();
        var (account, user) = NewPair("ada@example.com", T0);
        var bystander = NewPair("bob@example.com", T0.AddSeconds(1));
        await accounts.CreateAccountAsync(account, user, Timeout);
        await accounts.CreateAccountAsync(bystander.Account, bystander.User, Timeout);
        var changed = account with
        {
            Email = "Ada.Lovelace@example.org",
            NormalizedEmail = "ADA.LOVELACE@EXAMPLE.ORG",
            PasswordHash = "AQAAAAIAAYagAAAAEChanged==",
            SecurityStamp = "NEWSTAMP",
            AccessFailedCount = 5,
            LockoutEnd = T0.AddHours(1).AddMilliseconds(7),
            Roles = ["bidder", "admin"],
        };

        Assert.True(await accounts.UpdateAccountAsync(changed with { CreatedDate = T0.AddYears(1) }, Timeout));

        AssertSameAccount(changed, await accounts.FindAccountByIdAsync(account.UserId, Timeout));
        AssertSameAccount(changed, await accounts.FindAccountByEmailAsync("ADA.LOVELACE@EXAMPLE.ORG", Timeout));
        Assert.Null(await accounts.FindAccountByEmailAsync("ADA@EXAMPLE.COM", Timeout));
        AssertSameAccount(bystander.Account, await accounts.FindAccountByIdAsync(bystander.Account.UserId, Timeout));

        // Back to no lockout and no roles; and an update to the values already stored still finds its account.
        var cleared = changed with { AccessFailedCount = 0, LockoutEnd = null, Roles = [] };
        Assert.True(await accounts.UpdateAccountAsync(cleared, Timeout));
        Assert.True(await accounts.UpdateAccountAsync(cleared, Timeout));
        AssertSameAccount(cleared, await accounts.FindAccountByIdAsync(account.UserId, Timeout));
    }

    [Fact]
    public async Task An_update_to_another_accounts_email_is_refused_and_changes_nothing()
    {
        var (accounts, _) = await CreateStoresAsync();
        var ada = NewPair("ada@example.com", T0);
        var bob = NewPair("bob@example.com", T0.AddSeconds(1));
        await accounts.CreateAccountAsync(ada.Account, ada.User, Timeout);
        await accounts.CreateAccountAsync(bob.Account, bob.User, Timeout);

        Assert.False(await accounts.UpdateAccountAsync(
            bob.Account with { Email = "ada@example.com", NormalizedEmail = "ADA@EXAMPLE.COM", SecurityStamp = "CHANGED" }, Timeout));

        AssertSameAccount(bob.Account, await accounts.FindAccountByIdAsync(bob.Account.UserId, Timeout));
        AssertSameAccount(ada.Account, await accounts.FindAccountByEmailAsync("ADA@EXAMPLE.COM", Timeout));
    }

    [Fact]
    public async Task An_update_of_an_unknown_account_is_refused_and_creates_nothing()
    {
        var (accounts, _) = await CreateStoresAsync();
        var (ghost, _) = NewPair("ghost@example.com", T0);

        Assert.False(await accounts.UpdateAccountAsync(ghost, Timeout));

        Assert.Null(await accounts.FindAccountByIdAsync(ghost.UserId, Timeout));
        Assert.Null(await accounts.FindAccountByEmailAsync(ghost.NormalizedEmail, Timeout));
    }

    [Fact]
    public async Task Unknown_ids_and_emails_find_nothing_and_only_the_normalized_email_finds_an_account()
    {
        var (accounts, _) = await CreateStoresAsync();
        var (account, user) = NewPair("ada@example.com", T0);
        await accounts.CreateAccountAsync(account, user, Timeout);

        Assert.Null(await accounts.FindAccountByIdAsync(Guid.CreateVersion7(), Timeout));
        Assert.Null(await accounts.FindAccountByEmailAsync("NOBODY@EXAMPLE.COM", Timeout));
        // The store compares the normalizer's output as it is: folding case is the identity service's job.
        Assert.Null(await accounts.FindAccountByEmailAsync("ada@example.com", Timeout));
    }

    [Fact]
    public async Task A_create_whose_user_cannot_be_written_leaves_no_account_behind()
    {
        var (accounts, users) = await CreateStoresAsync();
        // A user with the id already exists, so the user's insert fails after (MongoDB) or with (SQLite) the account's.
        var (account, user) = NewPair("ada@example.com", T0);
        await users.CreateUserAsync(user with { Name = "already here" }, Timeout);

        await Assert.ThrowsAnyAsync<Exception>(() => accounts.CreateAccountAsync(account, user, Timeout));

        Assert.Null(await accounts.FindAccountByIdAsync(account.UserId, Timeout));
        Assert.Null(await accounts.FindAccountByEmailAsync(account.NormalizedEmail, Timeout));
        Assert.Equal("already here", (await users.GetUserAsync(user.Id, Timeout))?.Name);
        // The e-mail was not left taken.
        var retry = NewPair("ada@example.com", T0.AddSeconds(1));
        Assert.True(await accounts.CreateAccountAsync(retry.Account, retry.User, Timeout));
    }

    [Fact]
    public async Task A_create_with_an_id_that_has_an_account_fails_rather_than_reporting_the_email_taken()
    {
        var (accounts, _) = await CreateStoresAsync();
        var (account, user) = NewPair("ada@example.com", T0);
        await accounts.CreateAccountAsync(account, user, Timeout);
        var sameId = account with { Email = "bob@example.com", NormalizedEmail = "BOB@EXAMPLE.COM" };

        // A caller's mistake (ids are new for each user): false would tell the person their e-mail is taken.
        await Assert.ThrowsAnyAsync<Exception>(() => accounts.CreateAccountAsync(sameId, user, Timeout));

        AssertSameAccount(account, await accounts.FindAccountByIdAsync(account.UserId, Timeout));
        Assert.Null(await accounts.FindAccountByEmailAsync("BOB@EXAMPLE.COM", Timeout));
    }

    [Fact]
    public async Task An_account_and_user_that_do_not_match_are_refused_before_anything_is_written()
    {
        var (accounts, users) = await CreateStoresAsync();
        var (account, user) = NewPair("ada@example.com", T0);
        var other = user with { Id = Guid.CreateVersion7(T0) };

        await Assert.ThrowsAsync<ArgumentException>(() => accounts.CreateAccountAsync(account, other, Timeout));
        await Assert.ThrowsAsync<ArgumentException>(() => accounts.CreateAccountAsync(account, user with { Bids = 3 }, Timeout));

        Assert.Null(await accounts.FindAccountByEmailAsync(account.NormalizedEmail, Timeout));
        Assert.Empty((await users.ListUsersAsync(new PageRequest(10, null), Timeout)).Items);
    }

    [Fact]
    public async Task Initializing_again_keeps_the_accounts_and_their_unique_emails()
    {
        var (accounts, _) = await CreateStoresAsync();
        var (account, user) = NewPair("ada@example.com", T0);
        await accounts.CreateAccountAsync(account, user, Timeout);

        await accounts.InitializeAsync(Timeout);

        AssertSameAccount(account, await accounts.FindAccountByIdAsync(account.UserId, Timeout));
        var second = NewPair("ada@example.com", T0.AddSeconds(1));
        Assert.False(await accounts.CreateAccountAsync(second.Account, second.User, Timeout));
    }

    /// <summary>
    /// The identity service's key ring (Data Protection's elements): each kept as given under its name, a name written
    /// again keeps its first element (a retried write), read back in the order of the names, and kept when the store
    /// is initialized again.
    /// </summary>
    [Fact]
    public async Task The_key_ring_keeps_each_element_once_under_its_name()
    {
        var (accounts, _) = await CreateStoresAsync();
        var ring = Assert.IsAssignableFrom<IKeyRingStore>(accounts);
        const string second = """<sealedKey xmlns="urn:x" version="1"><value>b'ü"&lt;</value></sealedKey>""";
        const string first = "<key id=\"a\"/>";

        Assert.Empty(await ring.GetKeyRingAsync(Timeout));
        await ring.AddToKeyRingAsync("key-b", second, Timeout);
        await ring.AddToKeyRingAsync("key-a", first, Timeout);
        await ring.AddToKeyRingAsync("key-b", "<other/>", Timeout);
        await accounts.InitializeAsync(Timeout);

        Assert.Equal([first, second], await ring.GetKeyRingAsync(Timeout));
    }

    /// <summary>
    /// A code or refresh token is redeemed once: the first call records it, every later one (and all but one of
    /// several at once) is refused; expired redemptions are forgotten, the others kept.
    /// </summary>
    [Fact]
    public async Task A_token_is_redeemed_once_and_forgotten_only_after_it_expires()
    {
        var (accounts, _) = await CreateStoresAsync();
        var redemptions = Assert.IsAssignableFrom<ITokenRedemptions>(accounts);
        // Expiries far ahead: a MongoDB server's TTL monitor deletes what has passed by its own clock meanwhile.
        var later = new DateTimeOffset(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var sooner = later.AddYears(-1);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racing = Enumerable.Range(0, 10).Select(async _ =>
        {
            await start.Task;
            return await redemptions.RedeemAsync("RACED", later, Timeout);
        }).ToList();

        start.SetResult();

        Assert.Single(await Task.WhenAll(racing), redeemed => redeemed);
        Assert.True(await redemptions.RedeemAsync("SOONER", sooner, Timeout));
        Assert.False(await redemptions.RedeemAsync("SOONER", sooner, Timeout));
        await accounts.InitializeAsync(Timeout);
        Assert.False(await redemptions.RedeemAsync("RACED", later, Timeout));

        Assert.Equal(1, await redemptions.ForgetExpiredRedemptionsAsync(sooner.AddMinutes(1), Timeout));

        Assert.False(await redemptions.RedeemAsync("RACED", later, Timeout));
        Assert.True(await redemptions.RedeemAsync("SOONER", sooner, Timeout));
    }

    protected static CancellationToken Timeout => TestContext.Current.CancellationToken;

    /// <summary>An account as the identity service makes one (Identity's normalizer upper-cases), with its user.</summary>
    protected static (Account Account, User User) NewPair(string email, DateTimeOffset created, string name = "ada")
    {
        var id = Guid.CreateVersion7(created);
        return (
            new Account(id, email, email.ToUpperInvariant(), $"AQAAAAIAAYagAAAAE{id:N}==", Guid.NewGuid().ToString("N").ToUpperInvariant(), 0, null, ["bidder"], created),
            new User(id, name, 0, created));
    }

    /// <summary>Records compare lists by reference: the roles are compared by their elements, in order.</summary>
    protected static void AssertSameAccount(Account expected, Account? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { Roles = [] }, actual with { Roles = [] });
        Assert.Equal(expected.Roles, actual.Roles);
    }
}

/// <summary>The account contract on the embedded SQLite adapter, each test on a fresh file.</summary>
public sealed class SqliteAccountStoreTests : AccountStoreContract, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("bidder-accounts-");

    protected override async Task<(IAccountStore Accounts, IAuctionStore Users)> CreateStoresAsync()
    {
        var connectionString = $"Data Source={Path.Combine(_folder.FullName, "bidder.db")}";
        var bidder = new SqliteBidderStore(connectionString);
        await bidder.InitializeAsync(Timeout);
        var accounts = new SqliteAccountStore(connectionString);
        await accounts.InitializeAsync(Timeout);
        return (accounts, bidder);
    }

    [Fact]
    public async Task A_service_start_creates_the_accounts_table_after_the_users_table()
    {
        var builder = Host.CreateApplicationBuilder();
        // A folder that does not exist yet: the bidder store makes it, so the account store must come after it
        // (before it, opening the file fails, and the start-up retries that forever).
        builder.Configuration["ConnectionStrings:bidderdb"] = $"Data Source={Path.Combine(_folder.FullName, "data", "service.db")}";
        builder.AddBidderStorage();
        using var host = builder.Build();
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(Timeout);
        startup.CancelAfter(TimeSpan.FromSeconds(30));

        await host.StartAsync(startup.Token);
        var accounts = host.Services.GetRequiredService<IAccountStore>();
        var (account, user) = NewPair("ada@example.com", T0);

        Assert.IsType<SqliteAccountStore>(accounts);
        Assert.True(await accounts.CreateAccountAsync(account, user, Timeout));
        Assert.NotNull(await host.Services.GetRequiredService<IAuctionStore>().GetUserAsync(user.Id, Timeout));
        await host.StopAsync(Timeout);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}

/// <summary>
/// The account contract on the MongoDB adapter, against the server named by BIDDER_TEST_MONGODB (a
/// mongodb:// URL); skipped, with that reason, when none is given.
/// </summary>
public sealed class MongoAccountStoreTests : AccountStoreContract, IAsyncDisposable
{
    // The test's own database, dropped when it ends (xunit makes an instance per test).
    private TestDatabase? _database;

    public ValueTask DisposeAsync() => _database?.DisposeAsync() ?? ValueTask.CompletedTask;

    protected override async Task<(IAccountStore Accounts, IAuctionStore Users)> CreateStoresAsync()
    {
        _database = TestMongo.NewDatabase();
        var database = _database.Database;
        var bidder = new MongoBidderStore(database);
        await bidder.InitializeAsync(Timeout);
        var accounts = new MongoAccountStore(database);
        await accounts.InitializeAsync(Timeout);
        return (accounts, bidder);
    }

    [Fact]
    public async Task A_service_on_mongodb_has_an_account_store_that_reports_a_silent_server_unavailable()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:bidderdb"] = "mongodb://127.0.0.1:1/bidder";
        builder.AddBidderStorage();
        using var host = builder.Build();

        var accounts = host.Services.GetRequiredService<IAccountStore>();

        Assert.IsType<MongoAccountStore>(accounts);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => accounts.FindAccountByEmailAsync("ADA@EXAMPLE.COM", Timeout));
    }
}

/// <summary>
/// What the MongoDB account store sends, rendered to BSON without a server: field names and BSON types of
/// the document, the unique index, and the filters and update, so that a renamed field, a legacy GUID or an
/// update that could touch the id or creation date fails here even where no server runs the contract.
/// </summary>
public sealed class MongoAccountDocumentTests
{
    private static readonly JsonWriterSettings Canonical = new() { OutputMode = JsonOutputMode.CanonicalExtendedJson };

    private static readonly RenderArgs<BsonDocument> Args = new(BsonDocumentSerializer.Instance, BsonSerializer.SerializerRegistry);

    private static readonly Guid UserId = Guid.Parse("0197a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c");

    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 30, 45, 123, TimeSpan.Zero);

    private static readonly Account Locked = new(UserId, "Zoë@example.com", "ZOË@EXAMPLE.COM", "AQAAAAIAAYagAAAAE==", "STAMP", 3, Now.AddMinutes(5), ["bidder", "admin"], Now);

    [Fact]
    public void An_account_maps_to_its_document_and_back()
    {
        var document = MongoAccountStore.ToDocument(Locked);

        AssertBson(
            new BsonDocument
            {
                { "_id", new BsonBinaryData(UserId, GuidRepresentation.Standard) },
                { "email", "Zoë@example.com" },
                { "normalized_email", "ZOË@EXAMPLE.COM" },
                { "password_hash", "AQAAAAIAAYagAAAAE==" },
                { "security_stamp", "STAMP" },
                { "access_failed_count", new BsonInt32(3) },
                { "lockout_end", new BsonDateTime(Now.AddMinutes(5).ToUnixTimeMilliseconds()) },
                { "roles", new BsonArray { "bidder", "admin" } },
                { "created_date", new BsonDateTime(Now.ToUnixTimeMilliseconds()) },
            },
            document);
        var read = MongoAccountStore.ToAccount(RoundTrip(document));
        Assert.Equal(Locked with { Roles = [] }, read with { Roles = [] });
        Assert.Equal(Locked.Roles, read.Roles);
    }

    [Fact]
    public void An_account_without_lockout_or_roles_stores_null_and_an_empty_array()
    {
        var plain = Locked with { LockoutEnd = null, Roles = [] };

        var document = MongoAccountStore.ToDocument(plain);

        Assert.Equal(BsonNull.Value, document["lockout_end"]);
        Assert.Equal(new BsonArray(), document["roles"]);
        var read = MongoAccountStore.ToAccount(RoundTrip(document));
        Assert.Null(read.LockoutEnd);
        Assert.Empty(read.Roles);
    }

    [Fact]
    public void The_account_index_is_unique_on_the_normalized_email()
    {
        var index = MongoAccountStore.NormalizedEmailIndex;

        AssertBson(new BsonDocument("normalized_email", 1), index.Keys.Render(Args));
        Assert.True(index.Options.Unique);
        Assert.Null(index.Options.Collation);
    }

    [Fact]
    public void An_update_sets_the_mutable_fields_only()
    {
        var update = MongoAccountStore.ToUpdate(Locked).Render(Args).AsBsonDocument;

        var set = MongoAccountStore.ToDocument(Locked);
        set.Remove("_id");
        set.Remove("created_date");
        AssertBson(new BsonDocument("$set", set), update);
    }

    [Fact]
    public void An_email_is_looked_up_as_a_string_whatever_it_contains()
    {
        AssertBson(
            new BsonDocument("normalized_email", "{\"$GT\": \"\"}"),
            MongoAccountStore.ByNormalizedEmail("{\"$GT\": \"\"}").Render(Args));
    }

    [Fact]
    public void The_compensating_delete_matches_only_the_account_this_create_wrote()
    {
        var document = MongoAccountStore.ToDocument(Locked);

        var filter = MongoAccountStore.Exactly(document).Render(Args);

        AssertBson(document, filter);
    }

    [Fact]
    public void A_key_ring_element_is_stored_as_text_under_its_name()
    {
        AssertBson(
            new BsonDocument { { "_id", "key-1" }, { "element", "<key id=\"1\"/>" } },
            MongoAccountStore.ToKeyRingDocument("key-1", "<key id=\"1\"/>"));
    }

    [Fact]
    public void A_redemption_is_its_token_expiry_and_mark_with_an_index_that_deletes_it_once_expired()
    {
        AssertBson(
            new BsonDocument
            {
                { "_id", "ABC" },
                { "expires", new BsonDateTime(Now.ToUnixTimeMilliseconds()) },
                { "mark", new BsonBinaryData(UserId, GuidRepresentation.Standard) },
            },
            MongoAccountStore.ToRedemption("ABC", Now, UserId));
        AssertBson(new BsonDocument("expires", 1), MongoAccountStore.RedemptionExpiryIndex.Keys.Render(Args));
        Assert.Equal(TimeSpan.Zero, MongoAccountStore.RedemptionExpiryIndex.Options.ExpireAfter);
        AssertBson(
            new BsonDocument("expires", new BsonDocument("$lt", new BsonDateTime(Now.ToUnixTimeMilliseconds()))),
            MongoAccountStore.ExpiredBefore(Now).Render(Args));
    }

    private static BsonDocument RoundTrip(BsonDocument document) => BsonSerializer.Deserialize<BsonDocument>(document.ToBson());

    private static void AssertBson(BsonValue expected, BsonValue actual) =>
        Assert.Equal(expected.ToJson(Canonical), actual.ToJson(Canonical));
}

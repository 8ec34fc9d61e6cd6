using Bidder.Domain;
using MongoDB.Bson;
using MongoDB.Driver;
using static Bidder.Core.Storage.Mongo.MongoErrors;

namespace Bidder.Core.Storage.Mongo;

/// <summary>
/// Accounts in the <c>accounts</c> collection, <c>_id</c> the user's id as a standard UUID (as the users
/// collection stores it), one document per account, a unique index on <c>normalized_email</c>. Documents are
/// mapped by hand here, as <see cref="MongoDocuments"/> maps the others; writes use the bidder store's
/// <see cref="MongoBidderStore.Durable"/> write concern and failures are sorted by <see cref="MongoErrors"/>.
/// The identity service's key ring in the <c>key_ring</c> collection (<c>_id</c> the element's name, <c>element</c> its
/// text), and its redeemed tokens in <c>redeemed_tokens</c> (<c>_id</c> the token's id, <c>expires</c> a date with a
/// TTL index: the server deletes each once it has passed; <c>mark</c> the redeeming call's own).
/// </summary>
public sealed class MongoAccountStore(IMongoDatabase database) : IAccountStore, IKeyRingStore, ITokenRedemptions
{
    internal const string Accounts = "accounts";

    internal const string KeyRing = "key_ring";

    internal const string RedeemedTokens = "redeemed_tokens";

    private const string Expires = "expires";

    private const string NormalizedEmail = "normalized_email";

    /// <summary>What <see cref="UpdateAccountAsync"/> may change: everything but the id and the creation date.</summary>
    private static readonly string[] MutableFields =
        ["email", NormalizedEmail, "password_hash", "security_stamp", "access_failed_count", "lockout_end", "roles"];

    /// <summary>
    /// One account per e-mail. Binary comparison, no collation: the identity service's normalizer has already
    /// folded case, and comparing its output as it is keeps the store's idea of "the same e-mail" equal to the
    /// service's. A create and an update each learn of a clash from this index, atomically, never by a
    /// read before the write (which two racing creates could both pass).
    /// </summary>
    internal static CreateIndexModel<BsonDocument> NormalizedEmailIndex { get; } =
        new(Builders<BsonDocument>.IndexKeys.Ascending(NormalizedEmail), new CreateIndexOptions { Unique = true });

    private readonly IMongoCollection<BsonDocument> _accounts =
        database.GetCollection<BsonDocument>(Accounts).WithWriteConcern(MongoBidderStore.Durable);

    /// <summary>A redemption is deleted by the server once its token has expired (its TTL monitor runs every minute or so).</summary>
    internal static CreateIndexModel<BsonDocument> RedemptionExpiryIndex { get; } =
        new(Builders<BsonDocument>.IndexKeys.Ascending(Expires), new CreateIndexOptions { ExpireAfter = TimeSpan.Zero });

    private readonly IMongoCollection<BsonDocument> _redeemed =
        database.GetCollection<BsonDocument>(RedeemedTokens).WithWriteConcern(MongoBidderStore.Durable);

    private readonly IMongoCollection<BsonDocument> _keyRing =
        database.GetCollection<BsonDocument>(KeyRing).WithWriteConcern(MongoBidderStore.Durable);

    private readonly IMongoCollection<BsonDocument> _users =
        database.GetCollection<BsonDocument>(MongoQueries.Users).WithWriteConcern(MongoBidderStore.Durable);

    public Task InitializeAsync(CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            // Creating an index that exists with the same keys and options is a no-op, so every process may run
            // this; an existing non-unique index on the field, or accounts sharing an e-mail, make it a configuration error.
            await MongoErrors.RefusedIndexIsConfiguration(() => _accounts.Indexes.CreateOneAsync(NormalizedEmailIndex, cancellationToken: cancellationToken));
            await MongoErrors.RefusedIndexIsConfiguration(() => _redeemed.Indexes.CreateOneAsync(RedemptionExpiryIndex, cancellationToken: cancellationToken));
            return true;
        }, "creating the accounts index", cancellationToken);

    /// <summary>
    /// Two single-document writes, since a standalone server has no multi-document transactions: the account
    /// first, then its user. The account's insert is where the unique index decides a race for an e-mail, so a
    /// create that loses has written nothing at all (no user appears in the listings for a sign-up that failed).
    /// If the user cannot be written, the account is deleted again before the failure is rethrown. Only a
    /// process that dies between the two writes leaves an account without its user; the account is then
    /// complete and usable, and its user is recreated by the caller that finds it missing (see
    /// <see cref="IAccountStore.CreateAccountAsync"/>), which loses nothing: no bid can name a user that does not exist.
    /// The other order would leave, on the same crash, a user nobody can sign in as, and would write and delete
    /// a user for every create that loses its e-mail.
    /// </summary>
    public Task<bool> CreateAccountAsync(Account account, User user, CancellationToken cancellationToken)
    {
        NewAccount.Check(account, user);
        return GuardAsync(async () =>
        {
            while (true)
            {
                try
                {
                    await _accounts.InsertOneAsync(ToDocument(account), cancellationToken: cancellationToken);
                    break;
                }
                catch (MongoWriteException ex) when (IsDuplicateKey(ex))
                {
                    // The server names the clashing index only in its message text, so ask which key is held.
                    if (await ExistsAsync(ByNormalizedEmail(account.NormalizedEmail), cancellationToken))
                    {
                        return false;
                    }

                    if (await ExistsAsync(MongoQueries.ById(account.UserId), cancellationToken))
                    {
                        // The id has an account already: a caller's mistake, not an e-mail taken.
                        throw;
                    }

                    // The account that held the e-mail moved to another one (or went) meanwhile: the e-mail is free now.
                }
                catch
                {
                    // The insert may have landed (a write-concern timeout, a cancelled wait): take it back.
                    await DeleteAccountAsync(account);
                    throw;
                }
            }

            try
            {
                await _users.InsertOneAsync(MongoDocuments.ToDocument(user), cancellationToken: cancellationToken);
            }
            catch
            {
                // The insert may have landed and failed only in its answer (a write-concern timeout; a network error
                // after the write on a standalone server, which retries no writes): the sign-up is then complete, and
                // taking the account back would leave a user in the listings whom nobody can sign in as.
                if (await UserLandedAsync(user))
                {
                    return true;
                }

                await DeleteAccountAsync(account);
                throw;
            }

            return true;
        }, "creating an account", cancellationToken);
    }

    public Task<Account?> FindAccountByIdAsync(Guid userId, CancellationToken cancellationToken) =>
        FindOneAsync(MongoQueries.ById(userId), "reading an account", cancellationToken);

    public Task<Account?> FindAccountByEmailAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        FindOneAsync(ByNormalizedEmail(normalizedEmail), "finding an account by e-mail", cancellationToken);

    public Task<bool> UpdateAccountAsync(Account account, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            try
            {
                var result = await _accounts.UpdateOneAsync(MongoQueries.ById(account.UserId), ToUpdate(account), cancellationToken: cancellationToken);
                // Matched, not modified: an update to the values already stored still found its account.
                return result.MatchedCount == 1;
            }
            catch (MongoWriteException ex) when (IsDuplicateKey(ex))
            {
                // The id is not changed, so the clash is on the unique e-mail; the document was left as it was.
                return false;
            }
        }, "updating an account", cancellationToken);

    public Task<IReadOnlyList<string>> GetKeyRingAsync(CancellationToken cancellationToken) =>
        GuardAsync<IReadOnlyList<string>>(async () =>
        {
            var documents = await _keyRing.Find(FilterDefinition<BsonDocument>.Empty).Sort(Builders<BsonDocument>.Sort.Ascending("_id")).ToListAsync(cancellationToken);
            return [.. documents.Select(document => document["element"].AsString)];
        }, "reading the key ring", cancellationToken);

    public Task AddToKeyRingAsync(string name, string element, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            try
            {
                await _keyRing.InsertOneAsync(ToKeyRingDocument(name, element), cancellationToken: cancellationToken);
            }
            catch (MongoWriteException ex) when (IsDuplicateKey(ex))
            {
                // The name is stored already: the same write made before (the _id is the only unique key here).
            }
        }, "adding to the key ring", cancellationToken);

    public Task<bool> RedeemAsync(string token, DateTimeOffset expires, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            // This call's own mark, so that a write whose answer was lost can be told from another redemption's.
            var redemption = ToRedemption(token, expires, Guid.NewGuid());
            try
            {
                // The _id decides, atomically: of two redemptions at once one inserts, the other is refused.
                await _redeemed.InsertOneAsync(redemption, cancellationToken: cancellationToken);
                return true;
            }
            catch (MongoWriteException ex) when (IsDuplicateKey(ex))
            {
                return false;
            }
            catch (Exception ex) when (ex is MongoException or TimeoutException)
            {
                // The insert may have landed and failed only in its answer (a write-concern timeout; a network error
                // after the write on a standalone server, which retries no writes): then this redemption is the one
                // recorded, and refusing the token now would spend it for nobody.
                if (await ExistsExactlyAsync(_redeemed, redemption))
                {
                    return true;
                }

                throw;
            }
        }, "recording a redeemed token", cancellationToken);

    /// <summary>What the TTL index does on its own; deleting here too is harmless, and exact to the call.</summary>
    public Task<long> ForgetExpiredRedemptionsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        GuardAsync(
            async () => (await _redeemed.DeleteManyAsync(ExpiredBefore(now), cancellationToken)).DeletedCount,
            "forgetting expired redeemed tokens",
            cancellationToken);

    internal static BsonDocument ToRedemption(string token, DateTimeOffset expires, Guid mark) => new()
    {
        { "_id", new BsonString(token) },
        { Expires, MongoQueries.Date(expires) },
        { "mark", MongoQueries.Uuid(mark) },
    };

    internal static FilterDefinition<BsonDocument> ExpiredBefore(DateTimeOffset now) =>
        Builders<BsonDocument>.Filter.Lt(Expires, MongoQueries.Date(now));

    internal static BsonDocument ToKeyRingDocument(string name, string element) => new()
    {
        { "_id", new BsonString(name) },
        { "element", new BsonString(element) },
    };

    /// <summary>Values go in as typed BSON strings, so no e-mail text can become a query operator.</summary>
    internal static FilterDefinition<BsonDocument> ByNormalizedEmail(string normalizedEmail) =>
        Builders<BsonDocument>.Filter.Eq(NormalizedEmail, new BsonString(normalizedEmail));

    internal static BsonDocument ToDocument(Account account) => new()
    {
        { "_id", MongoQueries.Uuid(account.UserId) },
        { "email", account.Email },
        { NormalizedEmail, account.NormalizedEmail },
        { "password_hash", account.PasswordHash },
        { "security_stamp", account.SecurityStamp },
        { "access_failed_count", new BsonInt32(account.AccessFailedCount) },
        { "lockout_end", account.LockoutEnd is { } end ? (BsonValue)MongoQueries.Date(end) : BsonNull.Value },
        { "roles", new BsonArray(account.Roles) },
        { "created_date", MongoQueries.Date(account.CreatedDate) },
    };

    internal static Account ToAccount(BsonDocument document) => new(
        MongoDocuments.ReadUuid(document["_id"]),
        document["email"].AsString,
        document[NormalizedEmail].AsString,
        document["password_hash"].AsString,
        document["security_stamp"].AsString,
        document["access_failed_count"].ToInt32(),
        document["lockout_end"].IsBsonNull ? null : MongoDocuments.ReadDate(document["lockout_end"]),
        [.. document["roles"].AsBsonArray.Select(role => role.AsString)],
        MongoDocuments.ReadDate(document["created_date"]));

    /// <summary>A <c>$set</c> of the mutable fields, each written exactly as <see cref="ToDocument"/> writes it.</summary>
    internal static UpdateDefinition<BsonDocument> ToUpdate(Account account)
    {
        var document = ToDocument(account);
        return Builders<BsonDocument>.Update.Combine(MutableFields.Select(field => Builders<BsonDocument>.Update.Set(field, document[field])));
    }

    internal static FilterDefinition<BsonDocument> Exactly(BsonDocument document) =>
        Builders<BsonDocument>.Filter.And(document.Select(element => Builders<BsonDocument>.Filter.Eq(element.Name, element.Value)));

    private static bool IsDuplicateKey(MongoWriteException exception) =>
        exception.WriteError?.Category == ServerErrorCategory.DuplicateKey;

    private Task<bool> ExistsAsync(FilterDefinition<BsonDocument> filter, CancellationToken cancellationToken) =>
        ExistsAsync(_accounts, filter, cancellationToken);

    private static async Task<bool> ExistsAsync(IMongoCollection<BsonDocument> collection, FilterDefinition<BsonDocument> filter, CancellationToken cancellationToken) =>
        await collection.Find(filter).Project(MongoQueries.IdOnly).FirstOrDefaultAsync(cancellationToken) is not null;

    /// <summary>
    /// Whether this create's user document is there, every field as written (a user that already had the id is not
    /// it); false when the server cannot say. Not cancellable, as <see cref="DeleteAccountAsync"/>.
    /// </summary>
    private Task<bool> UserLandedAsync(User user) => ExistsExactlyAsync(_users, MongoDocuments.ToDocument(user));

    /// <summary>Whether <paramref name="document"/> is there, every field as written; false when the server cannot say. Not cancellable.</summary>
    private static async Task<bool> ExistsExactlyAsync(IMongoCollection<BsonDocument> collection, BsonDocument document)
    {
        try
        {
            return await ExistsAsync(collection, Exactly(document), CancellationToken.None);
        }
        catch (Exception ex) when (ex is MongoException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Deletes the account this create wrote, and only that one: every field must match, so an account that
    /// already had this id (a caller's mistake) is never taken for it. Best effort, and not cancellable: it runs
    /// because the create failed, perhaps because it was cancelled, and an account left behind would hold its
    /// e-mail. If this fails too, the account stays as a crash would leave it, and the create's own failure is
    /// what the caller hears.
    /// </summary>
    private async Task DeleteAccountAsync(Account account)
    {
        try
        {
            await _accounts.DeleteOneAsync(Exactly(ToDocument(account)), CancellationToken.None);
        }
        catch (Exception ex) when (ex is MongoException or TimeoutException)
        {
        }
    }

    private Task<Account?> FindOneAsync(FilterDefinition<BsonDocument> filter, string operation, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            var document = await _accounts.Find(filter).FirstOrDefaultAsync(cancellationToken);
            return document is null ? null : ToAccount(document);
        }, operation, cancellationToken);
}

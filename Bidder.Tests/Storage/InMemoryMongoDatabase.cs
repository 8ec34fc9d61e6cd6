using System.Reflection;
using Bidder.Core.Storage;
using Bidder.Core.Storage.Mongo;
using MongoDB.Bson;
using MongoDB.Bson.Serialization;
using MongoDB.Bson.Serialization.Serializers;
using MongoDB.Driver;

namespace Bidder.Tests.Storage;

/// <summary>
/// The account contract on the MongoDB adapter over <see cref="InMemoryMongoDatabase"/>, so the adapter's own
/// steps (the order of its two writes, the compensating delete, an e-mail clash told from an id clash) run in
/// every build, where no MongoDB server is at hand. What the server itself does is checked only by
/// <see cref="MongoAccountStoreTests"/>, and what reaches it by <see cref="MongoAccountDocumentTests"/>.
/// </summary>
public sealed class InMemoryMongoAccountStoreTests : AccountStoreContract
{
    protected override async Task<(IAccountStore Accounts, IAuctionStore Users)> CreateStoresAsync()
    {
        var (accounts, bidder, _) = await CreateAsync();
        return (accounts, bidder);
    }

    /// <summary>
    /// A user's insert that landed but whose answer was lost (a write-concern timeout; a network error after the write
    /// on a standalone server) completes the sign-up: the account is kept, so no user is left in the listings whom
    /// nobody can sign in as. (Seen failing when the account was taken back on any failure of that insert.)
    /// </summary>
    [Fact]
    public async Task A_user_written_whose_answer_was_lost_keeps_its_account()
    {
        var (accounts, users, database) = await CreateAsync();
        var (account, user) = NewPair("lost.answer@example.com", T0);
        ((InMemoryMongoDatabase.Collection)(object)database.GetCollection<BsonDocument>("users")).FailNextInsertAfterWriting =
            new TimeoutException("The write concern was not satisfied in time.");

        Assert.True(await accounts.CreateAccountAsync(account, user, Timeout));

        AssertSameAccount(account, await accounts.FindAccountByIdAsync(user.Id, Timeout));
        Assert.Equal(user, await users.GetUserAsync(user.Id, Timeout));
    }

    private static async Task<(MongoAccountStore Accounts, MongoBidderStore Bidder, IMongoDatabase Database)> CreateAsync()
    {
        var database = InMemoryMongoDatabase.Create();
        var bidder = new MongoBidderStore(database);
        await bidder.InitializeAsync(Timeout);
        var accounts = new MongoAccountStore(database);
        await accounts.InitializeAsync(Timeout);
        return (accounts, bidder, database);
    }
}

/// <summary>
/// A stand-in for a MongoDB database holding only what the account contract touches: collections of
/// documents with their <c>_id</c> and single-field unique indexes enforced atomically, equality and <c>$lt</c>
/// filters, <c>$set</c> updates, deletes of one or many, limits and a sort on one field. A refused write throws what
/// the driver throws for the server's refusal: a <see cref="MongoWriteException"/> in the
/// <see cref="ServerErrorCategory.DuplicateKey"/> category.
/// Anything else it is asked fails loudly, so a store that starts using more is not silently mis-served.
/// </summary>
public class InMemoryMongoDatabase : DispatchProxy
{
    private static readonly RenderArgs<BsonDocument> Args = new(BsonDocumentSerializer.Instance, BsonSerializer.SerializerRegistry);

    private readonly Dictionary<string, IMongoCollection<BsonDocument>> _collections = [];

    public static IMongoDatabase Create() => Create<IMongoDatabase, InMemoryMongoDatabase>();

    protected override object? Invoke(MethodInfo? method, object?[]? args) => method?.Name switch
    {
        nameof(IMongoDatabase.GetCollection) when method.GetGenericArguments()[0] == typeof(BsonDocument) => CollectionNamed((string)args![0]!),
        _ => throw new NotSupportedException($"The in-memory database does not serve {method?.Name}."),
    };

    private IMongoCollection<BsonDocument> CollectionNamed(string name)
    {
        lock (_collections)
        {
            if (!_collections.TryGetValue(name, out var collection))
            {
                collection = Create<IMongoCollection<BsonDocument>, Collection>();
                ((Collection)collection).Name = name;
                _collections[name] = collection;
            }

            return collection;
        }
    }

    internal static BsonDocument Render(FilterDefinition<BsonDocument> filter) => filter.Render(Args);

    public class Collection : DispatchProxy
    {
        private readonly List<BsonDocument> _documents = [];
        private readonly HashSet<string> _uniqueFields = [];

        public string Name { get; set; } = "";

        /// <summary>Thrown by the next insert after it landed: a write the server took whose answer was lost.</summary>
        public Exception? FailNextInsertAfterWriting { get; set; }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            lock (_documents)
            {
                return method?.Name switch
                {
                    nameof(IMongoCollection<BsonDocument>.WithWriteConcern) => this,
                    "get_Indexes" => Indexes(),
                    nameof(IMongoCollection<BsonDocument>.InsertOneAsync) when args![0] is BsonDocument document => Insert(document),
                    nameof(IMongoCollection<BsonDocument>.DeleteOneAsync) when args![0] is FilterDefinition<BsonDocument> filter =>
                        Task.FromResult<DeleteResult>(new DeleteResult.Acknowledged(Delete(filter))),
                    nameof(IMongoCollection<BsonDocument>.DeleteManyAsync) when args![0] is FilterDefinition<BsonDocument> filter =>
                        Task.FromResult<DeleteResult>(new DeleteResult.Acknowledged(_documents.RemoveAll(Matches(Render(filter)).Invoke))),
                    nameof(IMongoCollection<BsonDocument>.UpdateOneAsync) when args![0] is FilterDefinition<BsonDocument> filter
                        && args[2] is not UpdateOptions { IsUpsert: true } =>
                        Task.FromResult<UpdateResult>(Update(filter, (UpdateDefinition<BsonDocument>)args[1]!)),
                    nameof(IMongoCollection<BsonDocument>.FindAsync) when args![0] is FilterDefinition<BsonDocument> filter
                        && method.GetGenericArguments()[0] == typeof(BsonDocument) =>
                        Task.FromResult<IAsyncCursor<BsonDocument>>(new Cursor(Find(filter, (FindOptions<BsonDocument, BsonDocument>?)args[1]))),
                    _ => throw new NotSupportedException($"The in-memory collection does not serve {method?.Name}."),
                };
            }
        }

        private IMongoIndexManager<BsonDocument> Indexes()
        {
            var indexes = Create<IMongoIndexManager<BsonDocument>, IndexManager>();
            ((IndexManager)indexes).Owner = this;
            return indexes;
        }

        private Task Insert(BsonDocument document)
        {
            if (_documents.Any(existing => existing["_id"] == document["_id"]))
            {
                throw DuplicateKey(Name, "_id_");
            }

            ThrowIfUniqueTaken(document, except: null);
            _documents.Add(document.DeepClone().AsBsonDocument);
            if (FailNextInsertAfterWriting is { } failure)
            {
                FailNextInsertAfterWriting = null;
                throw failure;
            }

            return Task.CompletedTask;
        }

        private long Delete(FilterDefinition<BsonDocument> filter)
        {
            var found = _documents.FirstOrDefault(Matches(Render(filter)));
            return found is not null && _documents.Remove(found) ? 1 : 0;
        }

        private UpdateResult Update(FilterDefinition<BsonDocument> filter, UpdateDefinition<BsonDocument> update)
        {
            var found = _documents.FirstOrDefault(Matches(Render(filter)));
            if (found is null)
            {
                return new UpdateResult.Acknowledged(0, 0, null);
            }

            var rendered = update.Render(Args).AsBsonDocument;
            if (rendered.ElementCount != 1 || !rendered.Contains("$set"))
            {
                throw new NotSupportedException($"The in-memory collection applies $set only, not {rendered}.");
            }

            var changed = found.DeepClone().AsBsonDocument.Merge(rendered["$set"].AsBsonDocument, overwriteExistingElements: true);
            ThrowIfUniqueTaken(changed, except: found);
            var modified = !changed.Equals(found);
            _documents[_documents.IndexOf(found)] = changed;
            return new UpdateResult.Acknowledged(1, modified ? 1 : 0, null);
        }

        private List<BsonDocument> Find(FilterDefinition<BsonDocument> filter, FindOptions<BsonDocument, BsonDocument>? options)
        {
            var found = _documents.Where(Matches(Render(filter))).Select(document => document.DeepClone().AsBsonDocument);
            if (options?.Sort?.Render(Args) is { } sort)
            {
                // One field, ascending or descending, in BSON's order of the values.
                if (sort.ElementCount != 1 || sort.GetElement(0).Value.ToInt32() is not (1 or -1))
                {
                    throw new NotSupportedException($"The in-memory collection sorts by one field, not {sort}.");
                }

                var (field, direction) = (sort.GetElement(0).Name, sort.GetElement(0).Value.ToInt32());
                found = direction == 1
                    ? found.OrderBy(document => document[field])
                    : found.OrderByDescending(document => document[field]);
            }

            return (options?.Limit is > 0 and var limit ? found.Take(limit) : found).ToList();
        }

        private void ThrowIfUniqueTaken(BsonDocument document, BsonDocument? except)
        {
            foreach (var field in _uniqueFields)
            {
                if (document.Contains(field) && _documents.Any(other => other != except && other.Contains(field) && other[field] == document[field]))
                {
                    throw DuplicateKey(Name, $"{field}_1");
                }
            }
        }

        /// <summary>
        /// Equality on every field the filter names (null also matches a missing field, as on the server), or <c>$lt</c>
        /// alone on a field, compared in BSON's order of values of one type.
        /// </summary>
        private static Func<BsonDocument, bool> Matches(BsonDocument filter)
        {
            if (filter.Any(condition => condition.Name.StartsWith('$')
                || condition.Value is BsonDocument operators && operators.Names.Any(name => name.StartsWith('$')) && !IsLessThan(operators)))
            {
                throw new NotSupportedException($"The in-memory collection matches equality and $lt only, not {filter}.");
            }

            return document => filter.All(condition => condition.Value is BsonDocument operators && IsLessThan(operators)
                ? document.TryGetValue(condition.Name, out var field) && field.BsonType == operators["$lt"].BsonType && field < operators["$lt"]
                : document.TryGetValue(condition.Name, out var value) ? value == condition.Value : condition.Value.IsBsonNull);
        }

        private static bool IsLessThan(BsonDocument operators) => operators.ElementCount == 1 && operators.Contains("$lt");

        private static MongoWriteException DuplicateKey(string collection, string index)
        {
            var error = (WriteError)typeof(WriteError)
                .GetConstructors(BindingFlags.NonPublic | BindingFlags.Instance)
                .Single()
                .Invoke([ServerErrorCategory.DuplicateKey, 11000, $"E11000 duplicate key error collection: test.{collection} index: {index}", null]);
            return new MongoWriteException(Connection, error, writeConcernError: null, innerException: null);
        }

        private static readonly MongoDB.Driver.Core.Connections.ConnectionId Connection =
            new(new MongoDB.Driver.Core.Servers.ServerId(new MongoDB.Driver.Core.Clusters.ClusterId(), new System.Net.DnsEndPoint("localhost", 27017)));

        public class IndexManager : DispatchProxy
        {
            public Collection? Owner { get; set; }

            protected override object? Invoke(MethodInfo? method, object?[]? args) => method?.Name switch
            {
                nameof(IMongoIndexManager<BsonDocument>.CreateOneAsync) when args![0] is CreateIndexModel<BsonDocument> model => CreateOne(model),
                // The bidder store's own indexes: none unique, nothing the contract needs kept (nor dropped). (A TTL
                // index is taken as any other: nothing here deletes by time, which the contract's expiries do not need.)
                nameof(IMongoIndexManager<BsonDocument>.CreateManyAsync) => Task.FromResult<IEnumerable<string>>([]),
                nameof(IMongoIndexManager<BsonDocument>.DropOneAsync) => Task.CompletedTask,
                _ => throw new NotSupportedException($"The in-memory index manager does not serve {method?.Name}."),
            };

            private Task<string> CreateOne(CreateIndexModel<BsonDocument> model)
            {
                var keys = model.Keys.Render(Args);
                if (model.Options?.Unique == true)
                {
                    lock (Owner!._documents)
                    {
                        Owner._uniqueFields.Add(keys.Single().Name);
                    }
                }

                return Task.FromResult($"{keys.Single().Name}_1");
            }
        }

        private sealed class Cursor(List<BsonDocument> documents) : IAsyncCursor<BsonDocument>
        {
            private bool _served;

            /// <summary>Every match in one batch.</summary>
            public IEnumerable<BsonDocument> Current => _served ? documents : throw new InvalidOperationException("MoveNext first.");

            public bool MoveNext(CancellationToken cancellationToken = default)
            {
                if (_served)
                {
                    return false;
                }

                _served = true;
                return true;
            }

            public Task<bool> MoveNextAsync(CancellationToken cancellationToken = default) => Task.FromResult(MoveNext(cancellationToken));

            public void Dispose()
            {
            }
        }
    }
}

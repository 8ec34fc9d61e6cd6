using MongoDB.Driver;

namespace Bidder.Core.Storage.Mongo;

/// <summary>
/// Sorts the driver's failures into the three kinds the services treat differently: the server refusing
/// the configuration (stop with a clear message), the server not answering (retry), and the server
/// refusing one document (an ordinary exception: the streamer sets that message aside).
/// Codes: https://www.mongodb.com/docs/manual/reference/error-codes/
/// </summary>
internal static class MongoErrors
{
    // Unauthorized, AuthenticationFailed, UserNotFound, RoleNotFound, InvalidNamespace,
    // IndexOptionsConflict, IndexKeySpecsConflict, and Atlas's "AtlasError" for a forbidden operation.
    private static readonly HashSet<int> ConfigurationCodes = [13, 18, 11, 31, 73, 85, 86, 8000];

    // Codes of one write that a later attempt can pass: write-concern timeouts and failures, conflicts,
    // interruptions, elections, network trouble on the server side, exceeded time limits.
    private static readonly HashSet<int> TransientWriteCodes = [6, 7, 50, 64, 89, 91, 100, 112, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436];

    public static bool IsMisconfiguration(Exception exception) =>
        Chain(exception).Any(e => e is MongoConfigurationException or MongoIncompatibleDriverException)
        || Chain(exception).OfType<MongoAuthenticationException>().Any(RefusedCredentials)
        || exception switch
        {
            MongoCommandException command => ConfigurationCodes.Contains(command.Code),
            MongoWriteException write => write.WriteError is { } error && ConfigurationCodes.Contains(error.Code),
            MongoBulkWriteException bulk => bulk.WriteErrors.Any(error => ConfigurationCodes.Contains(error.Code)),
            _ => false,
        };

    /// <summary>
    /// Not answering: timeouts, connections, elections, write concern. A write error on a document is not
    /// (unless its code says the server was busy); any other server or client failure is taken as transient,
    /// since retrying is safe and giving up on bids is not.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        TimeoutException => true,
        MongoWriteException write => write.WriteConcernError is not null || write.WriteError is null || TransientWriteCodes.Contains(write.WriteError.Code),
        // A write-concern error makes the whole bulk worth retrying, whatever duplicates it also reports (a retried
        // insert). So does an unordered insert replayed across an election: the server carries on past each
        // document's error, so it reports duplicates for the documents stored before and the election for the rest.
        // Every write of a batch is idempotent, so retrying it whole is safe.
        MongoBulkWriteException bulk => bulk.WriteConcernError is not null
            || (bulk.WriteErrors.Any(error => TransientWriteCodes.Contains(error.Code))
                && bulk.WriteErrors.All(error => TransientWriteCodes.Contains(error.Code) || error.Category == ServerErrorCategory.DuplicateKey)),
        MongoException => true,
        _ => false,
    };

    /// <summary>
    /// Runs a store's index creation at start-up: the server refusing an index (its definition or options, an index in
    /// its way, documents that break a unique one) is a configuration error, which no retry passes, so the start fails
    /// with the server's reason. Anything else (a write concern not met in time, an election) stays what it is for any
    /// call: an outage, retried.
    /// </summary>
    public static async Task RefusedIndexIsConfiguration(Func<Task> createIndexes)
    {
        try
        {
            await createIndexes();
        }
        catch (MongoCommandException ex) when (ex is not MongoWriteConcernException && IndexRefusalCodes.Contains(ex.Code))
        {
            throw new StorageConfigurationException($"MongoDB refused an index: {ex.Message}", ex);
        }
    }

    // BadValue, FailedToParse, CannotCreateIndex, InvalidOptions, IndexOptionsConflict, IndexKeySpecsConflict,
    // InvalidIndexSpecificationOption, and DuplicateKey (documents that break a unique index being built).
    private static readonly HashSet<int> IndexRefusalCodes = [2, 9, 67, 72, 85, 86, 197, 11000];

    /// <summary>
    /// The driver wraps whatever fails during the login handshake in a MongoAuthenticationException, a
    /// dropped socket or an election included: only the server's own refusal (or no cause at all) means the
    /// credentials are wrong; a network or server-state cause is an outage like any other.
    /// </summary>
    private static bool RefusedCredentials(MongoAuthenticationException authentication)
    {
        var causes = Chain(authentication).Skip(1).ToList();
        if (causes.OfType<MongoCommandException>().Any(command => ConfigurationCodes.Contains(command.Code)))
        {
            return true;
        }

        return !causes.Any(cause => cause is IOException or System.Net.Sockets.SocketException or TimeoutException
            or MongoConnectionException or MongoNotPrimaryException or MongoNodeIsRecoveringException
            || cause is MongoCommandException command && TransientWriteCodes.Contains(command.Code));
    }

    /// <summary>
    /// Runs a driver call, turning the server refusing the configuration into <see cref="StorageConfigurationException"/>
    /// and the server not answering into <see cref="StorageUnavailableException"/>. Anything else (a document the
    /// server refuses, a value the driver cannot encode) is about what was written: it stays as it is, so the
    /// streamer sets that message aside instead of retrying it forever.
    /// </summary>
    public static async Task<T> GuardAsync<T>(Func<Task<T>> operation, string description, CancellationToken cancellationToken)
    {
        try
        {
            return await operation();
        }
        catch (Exception ex) when (IsMisconfiguration(ex))
        {
            throw new StorageConfigurationException($"MongoDB refused {description} as configured: {ex.Message}", ex);
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // A cancelled call can surface as a connection error: report the cancellation, not an outage.
            cancellationToken.ThrowIfCancellationRequested();
            throw new StorageUnavailableException($"MongoDB did not answer while {description}.", ex);
        }
    }

    public static Task GuardAsync(Func<Task> operation, string description, CancellationToken cancellationToken) =>
        GuardAsync(async () =>
        {
            await operation();
            return true;
        }, description, cancellationToken);

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }
}

using Bidder.Core.Storage.Mongo;
using Bidder.Core.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Bidder.Core.Storage;

public static class StorageExtensions
{
    public const string DefaultConnectionName = "bidderdb";

    /// <summary>
    /// Picks the storage adapter from the connection string: MongoDB for <c>mongodb://</c> and
    /// <c>mongodb+srv://</c>, SQLite (the embedded store) for anything else.
    /// </summary>
    public static StorageKind AddBidderStorage(this IHostApplicationBuilder builder, string connectionName = DefaultConnectionName)
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"No database connection string: set 'ConnectionStrings:{connectionName}' (a mongodb:// URL or an SQLite 'Data Source=...').");
        }

        var kind = StorageKindOf(connectionString);
        if (kind == StorageKind.MongoDB)
        {
            builder.AddMongoDBClient(connectionName);
            builder.Services.AddSingleton<IBidderStore, MongoBidderStore>();
            builder.Services.AddSingleton<IAccountStore, MongoAccountStore>();
        }
        else
        {
            builder.Services.AddSingleton<IBidderStore>(new SqliteBidderStore(connectionString));
            builder.Services.AddSingleton<IAccountStore>(new SqliteAccountStore(connectionString));
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"sqlite-{connectionName}",
                _ => new SqliteHealthCheck(connectionString),
                failureStatus: default,
                tags: ["ready", "sqlite"]));
        }

        // One adapter, seen by each client through its own port.
        builder.Services.AddSingleton<IAuctionStore>(services => services.GetRequiredService<IBidderStore>());
        builder.Services.AddSingleton<IIdempotencyKeys>(services => services.GetRequiredService<IBidderStore>());
        builder.Services.AddSingleton<IBatchRecorder>(services => services.GetRequiredService<IBidderStore>());
        builder.Services.AddSingleton(services => (IKeyRingStore)services.GetRequiredService<IAccountStore>());
        builder.Services.AddSingleton(services => (ITokenRedemptions)services.GetRequiredService<IAccountStore>());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<StorageInitializer>();
        return kind;
    }

    public static StorageKind StorageKindOf(string connectionString) =>
        connectionString.StartsWith("mongodb://", StringComparison.OrdinalIgnoreCase)
        || connectionString.StartsWith("mongodb+srv://", StringComparison.OrdinalIgnoreCase)
            ? StorageKind.MongoDB
            : StorageKind.Sqlite;
}

public enum StorageKind
{
    Sqlite,
    MongoDB,
}

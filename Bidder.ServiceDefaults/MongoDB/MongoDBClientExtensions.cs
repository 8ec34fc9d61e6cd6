using Bidder.ServiceDefaults.MongoDB;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Driver;
using MongoDB.Driver.Core.Configuration;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers the MongoDB driver the way Aspire.MongoDB.Driver does (same method name and configuration
/// section), which this package source does not serve: an <see cref="IMongoClient"/> singleton, an
/// <see cref="IMongoDatabase"/> when the connection string names a database, a health check that pings
/// the server, and the driver's own OpenTelemetry traces.
/// </summary>
public static class MongoDBClientExtensions
{
    private const string SectionName = "Aspire:MongoDB:Driver";

    public static readonly TimeSpan DefaultServerSelectionTimeout = TimeSpan.FromSeconds(2);

    public static void AddMongoDBClient(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<MongoDBSettings>? configureSettings = null,
        Action<MongoClientSettings>? configureClientSettings = null)
    {
        var settings = new MongoDBSettings();
        builder.Configuration.GetSection(SectionName).Bind(settings);
        builder.Configuration.GetSection($"{SectionName}:{connectionName}").Bind(settings);
        settings.ConnectionString ??= builder.Configuration.GetConnectionString(connectionName);
        configureSettings?.Invoke(settings);

        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"No MongoDB connection string for '{connectionName}': set 'ConnectionStrings:{connectionName}'.");
        }

        var url = MongoUrl.Create(settings.ConnectionString);
        builder.Services.AddSingleton<IMongoClient>(services =>
        {
            var clientSettings = MongoClientSettings.FromUrl(url);
            // The driver's own log events (connections, server selection, commands at Debug) into ILogger.
            clientSettings.LoggingSettings = new LoggingSettings(services.GetRequiredService<Microsoft.Extensions.Logging.ILoggerFactory>());
            // The driver waits 30 s by default for a server to talk to; a request would hang that long before
            // its 503. Two seconds is ample to find a server that is up; a URL's own setting wins.
            if (!settings.ConnectionString.Contains("serverSelectionTimeoutMS", StringComparison.OrdinalIgnoreCase))
            {
                clientSettings.ServerSelectionTimeout = DefaultServerSelectionTimeout;
            }

            // The driver emits spans on its own "MongoDB.Driver" ActivitySource, registered in ConfigureOpenTelemetry.
            clientSettings.TracingOptions = new TracingOptions { Disabled = settings.DisableTracing };

            configureClientSettings?.Invoke(clientSettings);
            return new MongoClient(clientSettings);
        });

        if (!string.IsNullOrEmpty(url.DatabaseName))
        {
            builder.Services.AddSingleton(services => services.GetRequiredService<IMongoClient>().GetDatabase(url.DatabaseName));
        }

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"mongodb-{connectionName}",
                services => new MongoDBHealthCheck(services.GetRequiredService<IMongoClient>()),
                failureStatus: default,
                tags: ["ready", "mongodb"],
                timeout: settings.HealthCheckTimeout is int ms ? TimeSpan.FromMilliseconds(ms) : null));
        }
    }
}

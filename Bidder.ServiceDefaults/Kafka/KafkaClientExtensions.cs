using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers Confluent.Kafka clients the way Aspire.Confluent.Kafka does (same method names and
/// configuration sections), which this package source does not serve: the connection string
/// <c>ConnectionStrings:{name}</c> gives the bootstrap servers, and each client comes with a health check,
/// metrics and the Kafka trace source.
/// </summary>
public static class KafkaClientExtensions
{
    private const string ProducerSection = "Aspire:Confluent:Kafka:Producer";
    private const string ConsumerSection = "Aspire:Confluent:Kafka:Consumer";
    private const string DefaultStatisticsIntervalMs = "5000";

    public static void AddKafkaProducer<TKey, TValue>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<KafkaProducerSettings>? configureSettings = null,
        Action<IServiceProvider, ProducerBuilder<TKey, TValue>>? configureBuilder = null)
    {
        var settings = new KafkaProducerSettings();
        var config = settings.Config;
        Bind(builder.Configuration, ProducerSection, connectionName, settings, config);
        settings.ConnectionString ??= builder.Configuration.GetConnectionString(connectionName);
        configureSettings?.Invoke(settings);
        config.BootstrapServers ??= RequireConnectionString(settings.ConnectionString, connectionName);

        var statistics = UseStatistics(config, settings.DisableMetrics, connectionName, "producer");
        builder.Services.AddSingleton<IProducer<TKey, TValue>>(services =>
        {
            var producerBuilder = new ProducerBuilder<TKey, TValue>(config);
            configureBuilder?.Invoke(services, producerBuilder);
            if (statistics is not null)
            {
                producerBuilder.SetStatisticsHandler((_, json) => statistics.Update(json));
            }

            return producerBuilder.Build();
        });

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"kafka-producer-{connectionName}",
                services => new KafkaHealthCheck(services.GetRequiredService<IProducer<TKey, TValue>>().Handle),
                failureStatus: default,
                tags: ["ready", "kafka"]));
        }
    }

    public static void AddKafkaConsumer<TKey, TValue>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<KafkaConsumerSettings>? configureSettings = null,
        Action<IServiceProvider, ConsumerBuilder<TKey, TValue>>? configureBuilder = null)
    {
        var settings = new KafkaConsumerSettings();
        var config = settings.Config;
        Bind(builder.Configuration, ConsumerSection, connectionName, settings, config);
        settings.ConnectionString ??= builder.Configuration.GetConnectionString(connectionName);
        configureSettings?.Invoke(settings);
        config.BootstrapServers ??= RequireConnectionString(settings.ConnectionString, connectionName);
        if (string.IsNullOrWhiteSpace(config.GroupId))
        {
            throw new InvalidOperationException(
                $"The Kafka consumer '{connectionName}' needs a group id: set '{ConsumerSection}:Config:GroupId'.");
        }

        var statistics = UseStatistics(config, settings.DisableMetrics, connectionName, "consumer");
        builder.Services.AddSingleton<IConsumer<TKey, TValue>>(services =>
        {
            var consumerBuilder = new ConsumerBuilder<TKey, TValue>(config);
            configureBuilder?.Invoke(services, consumerBuilder);
            if (statistics is not null)
            {
                consumerBuilder.SetStatisticsHandler((_, json) => statistics.Update(json));
            }

            return consumerBuilder.Build();
        });

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                $"kafka-consumer-{connectionName}",
                services => new KafkaHealthCheck(services.GetRequiredService<IConsumer<TKey, TValue>>().Handle),
                failureStatus: default,
                tags: ["ready", "kafka"]));
        }
    }

    // The general section first, then the connection's own subsection. Typed properties bind by name
    // (LingerMs); raw librdkafka keys (linger.ms) pass through as they are.
    private static void Bind(IConfiguration configuration, string sectionName, string connectionName, object settings, ClientConfig config)
    {
        foreach (var section in new[] { configuration.GetSection(sectionName), configuration.GetSection($"{sectionName}:{connectionName}") })
        {
            section.Bind(settings);
            foreach (var entry in section.GetSection("Config").GetChildren())
            {
                if (entry.Key.Contains('.') && entry.Value is not null)
                {
                    config.Set(entry.Key, entry.Value);
                }
            }
        }
    }

    private static KafkaClientStatistics? UseStatistics(ClientConfig config, bool disabled, string connectionName, string clientKind)
    {
        if (disabled)
        {
            return null;
        }

        if (config.Get("statistics.interval.ms") is null)
        {
            config.Set("statistics.interval.ms", DefaultStatisticsIntervalMs);
        }

        return new KafkaClientStatistics(connectionName, clientKind);
    }

    private static string RequireConnectionString(string? connectionString, string connectionName) =>
        string.IsNullOrWhiteSpace(connectionString)
            ? throw new InvalidOperationException(
                $"No bootstrap servers for Kafka connection '{connectionName}': set 'ConnectionStrings:{connectionName}'.")
            : connectionString;
}

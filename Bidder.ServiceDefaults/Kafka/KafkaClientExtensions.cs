using Bidder.ServiceDefaults.Kafka;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers Confluent.Kafka clients the way Aspire.Confluent.Kafka does (same method names and
/// configuration sections), which this package source does not serve: the connection string
/// <c>ConnectionStrings:{name}</c> gives the bootstrap servers (and wins over a configured one), and each
/// client comes with a health check, metrics, the Kafka trace source (unless <c>DisableTracing</c>) and
/// librdkafka's logs in <see cref="Microsoft.Extensions.Logging.ILogger"/>. The resolved settings are kept
/// (keyed by connection name), and a consumer registration also brings a
/// <see cref="KafkaConsumerFactory{TKey, TValue}"/>, so every other client of the connection (an admin
/// client on the producer's handle, a consumer for a restore) is built from the same settings.
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
        var settings = Resolve(builder, ProducerSection, connectionName, new KafkaProducerSettings(), configureSettings);
        var statistics = UseStatistics(settings, connectionName, "producer");

        builder.Services.AddKeyedSingleton(connectionName, settings);
        builder.Services.AddSingleton<IProducer<TKey, TValue>>(services =>
        {
            var producerBuilder = new ProducerBuilder<TKey, TValue>(settings.Config);
            configureBuilder?.Invoke(services, producerBuilder);
            KafkaLogs.Use(producerBuilder.SetLogHandler, KafkaLogs.Handler<IProducer<TKey, TValue>>(services.GetRequiredService<ILoggerFactory>()));
            if (statistics is not null)
            {
                producerBuilder.SetStatisticsHandler((_, json) => statistics.Update(json));
            }

            return producerBuilder.Build();
        });

        AddHealthCheck(builder, settings, $"kafka-producer-{connectionName}", services => services.GetRequiredService<IProducer<TKey, TValue>>().Handle);
    }

    public static void AddKafkaConsumer<TKey, TValue>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<KafkaConsumerSettings>? configureSettings = null,
        Action<IServiceProvider, ConsumerBuilder<TKey, TValue>>? configureBuilder = null)
    {
        var settings = Resolve(builder, ConsumerSection, connectionName, new KafkaConsumerSettings(), configureSettings);
        if (string.IsNullOrWhiteSpace(settings.Config.GroupId))
        {
            throw new InvalidOperationException(
                $"The Kafka consumer '{connectionName}' needs a group id: set '{ConsumerSection}:Config:GroupId'.");
        }

        var statistics = UseStatistics(settings, connectionName, "consumer");
        builder.Services.AddKeyedSingleton(connectionName, settings);
        builder.Services.AddSingleton(services => new KafkaConsumerFactory<TKey, TValue>(settings.Config, services.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton<IConsumer<TKey, TValue>>(services =>
        {
            var consumerBuilder = new ConsumerBuilder<TKey, TValue>(settings.Config);
            configureBuilder?.Invoke(services, consumerBuilder);
            KafkaLogs.Use(consumerBuilder.SetLogHandler, KafkaLogs.Handler<IConsumer<TKey, TValue>>(services.GetRequiredService<ILoggerFactory>()));
            if (statistics is not null)
            {
                consumerBuilder.SetStatisticsHandler((_, json) => statistics.Update(json));
            }

            return consumerBuilder.Build();
        });

        AddHealthCheck(builder, settings, $"kafka-consumer-{connectionName}", services => services.GetRequiredService<IConsumer<TKey, TValue>>().Handle);
    }

    // The general section first, then the connection's own subsection, then code. Typed properties bind
    // by name (LingerMs); raw librdkafka keys (linger.ms) pass through as they are.
    private static TSettings Resolve<TSettings>(
        IHostApplicationBuilder builder, string sectionName, string connectionName, TSettings settings, Action<TSettings>? configure)
        where TSettings : KafkaClientSettings
    {
        foreach (var section in new[] { builder.Configuration.GetSection(sectionName), builder.Configuration.GetSection($"{sectionName}:{connectionName}") })
        {
            section.Bind(settings);
            foreach (var entry in section.GetSection("Config").GetChildren())
            {
                if (entry.Key.Contains('.') && entry.Value is not null)
                {
                    settings.ClientConfig.Set(entry.Key, entry.Value);
                }
            }
        }

        // Aspire's precedence: the connection string, when there is one, wins over anything configured.
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString)
        {
            settings.ConnectionString = connectionString;
        }

        configure?.Invoke(settings);
        if (!string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            settings.ClientConfig.BootstrapServers = settings.ConnectionString;
        }
        else if (string.IsNullOrWhiteSpace(settings.ClientConfig.BootstrapServers))
        {
            throw new InvalidOperationException(
                $"No bootstrap servers for Kafka connection '{connectionName}': set 'ConnectionStrings:{connectionName}'.");
        }

        if (!settings.DisableTracing)
        {
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(KafkaTelemetry.ActivitySourceName));
        }

        return settings;
    }

    private static KafkaClientStatistics? UseStatistics(KafkaClientSettings settings, string connectionName, string clientKind)
    {
        if (settings.DisableMetrics)
        {
            return null;
        }

        if (settings.ClientConfig.Get("statistics.interval.ms") is null)
        {
            settings.ClientConfig.Set("statistics.interval.ms", DefaultStatisticsIntervalMs);
        }

        return new KafkaClientStatistics(connectionName, clientKind);
    }

    private static void AddHealthCheck(IHostApplicationBuilder builder, KafkaClientSettings settings, string name, Func<IServiceProvider, Handle> handle)
    {
        if (!settings.DisableHealthChecks)
        {
            // One check (and so one admin client over the client's connections) for the life of the host.
            KafkaHealthCheck? check = null;
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                name,
                services => LazyInitializer.EnsureInitialized(ref check, () => new KafkaHealthCheck(handle(services))),
                failureStatus: default,
                tags: ["ready", "kafka"]));
        }
    }
}

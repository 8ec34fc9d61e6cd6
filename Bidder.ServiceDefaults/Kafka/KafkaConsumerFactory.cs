using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>
/// Builds further consumers of a connection (a short-lived one that reads a topic from its start, say)
/// from the very settings its registered consumer was built from: bootstrap servers, security (SASL, TLS)
/// and every other <c>Aspire:Confluent:Kafka:Consumer</c> setting, with the caller's overrides on top.
/// Registered by <c>AddKafkaConsumer</c>, so no client of the service is built from a bare address.
/// </summary>
public sealed class KafkaConsumerFactory<TKey, TValue>(ConsumerConfig config, ILoggerFactory loggers)
{
    /// <summary>The resolved settings (a copy): what every consumer of this factory starts from.</summary>
    public ConsumerConfig Config => Copy(config);

    public IConsumer<TKey, TValue> Create(Action<ConsumerConfig> configure)
    {
        var own = Copy(config);
        // The registered consumer's statistics feed its own metrics; a helper consumer's would go nowhere.
        own.StatisticsIntervalMs = 0;
        configure(own);
        return new ConsumerBuilder<TKey, TValue>(own).SetLogHandler(KafkaLogs.Handler<IConsumer<TKey, TValue>>(loggers)).Build();
    }

    private static ConsumerConfig Copy(ConsumerConfig config) => new(config.ToDictionary(entry => entry.Key, entry => entry.Value));
}

using Confluent.Kafka;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>What producer and consumer settings share.</summary>
public abstract class KafkaClientSettings
{
    public string? ConnectionString { get; set; }
    public bool DisableHealthChecks { get; set; }
    public bool DisableMetrics { get; set; }

    /// <summary>No spans for this client's sends and receives (the Bidder.Kafka source is not registered).</summary>
    public bool DisableTracing { get; set; }

    internal abstract ClientConfig ClientConfig { get; }
}

/// <summary>
/// Settings of a Kafka producer, bound from <c>Aspire:Confluent:Kafka:Producer</c> (and its
/// <c>{connectionName}</c> subsection), as Aspire.Confluent.Kafka does.
/// </summary>
public sealed class KafkaProducerSettings : KafkaClientSettings
{
    public ProducerConfig Config { get; set; } = new();

    internal override ClientConfig ClientConfig => Config;
}

/// <summary>
/// Settings of a Kafka consumer, bound from <c>Aspire:Confluent:Kafka:Consumer</c> (and its
/// <c>{connectionName}</c> subsection), as Aspire.Confluent.Kafka does.
/// </summary>
public sealed class KafkaConsumerSettings : KafkaClientSettings
{
    public ConsumerConfig Config { get; set; } = new();

    internal override ClientConfig ClientConfig => Config;
}

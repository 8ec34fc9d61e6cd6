using Confluent.Kafka;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>
/// Settings of a Kafka producer, bound from <c>Aspire:Confluent:Kafka:Producer</c> (and its
/// <c>{connectionName}</c> subsection), as Aspire.Confluent.Kafka does.
/// </summary>
public sealed class KafkaProducerSettings
{
    public string? ConnectionString { get; set; }
    public ProducerConfig Config { get; set; } = new();
    public bool DisableHealthChecks { get; set; }
    public bool DisableMetrics { get; set; }
}

/// <summary>
/// Settings of a Kafka consumer, bound from <c>Aspire:Confluent:Kafka:Consumer</c> (and its
/// <c>{connectionName}</c> subsection), as Aspire.Confluent.Kafka does.
/// </summary>
public sealed class KafkaConsumerSettings
{
    public string? ConnectionString { get; set; }
    public ConsumerConfig Config { get; set; } = new();
    public bool DisableHealthChecks { get; set; }
    public bool DisableMetrics { get; set; }
}

using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Bidder.ServiceDefaults.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bidder.Core.Kafka;

/// <summary>
/// Makes sure the application's topics exist with their partition counts before the service starts
/// work; otherwise a broker would auto-create them with its default partition count on first use,
/// breaking the co-partitioning of bids and the item changelog. Topics that exist are left alone, so
/// the embedded broker (which has no Admin API, and whose topics the AppHost creates) needs no call.
/// The admin client rides on the service's producer (its handle, its connections, its settings), so a
/// secured cluster's settings (SASL, TLS) given for the producer reach it too.
/// </summary>
public sealed partial class KafkaTopicsInitializer(
    IProducer<string, byte[]> producer,
    IOptions<KafkaTopicsOptions> topics,
    ILogger<KafkaTopicsInitializer> logger) : IHostedService
{
    public const string ConnectionName = "kafka";
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var activity = KafkaTelemetry.Source.StartActivity("kafka topics ensure");
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();

        var existing = admin.GetMetadata(RequestTimeout).Topics
            .Where(t => t.Error.Code == ErrorCode.NoError)
            .ToDictionary(t => t.Topic, t => t.Partitions.Count);

        var missing = topics.Value.All.Where(t => !existing.ContainsKey(t.Name)).ToList();
        foreach (var topic in topics.Value.All.Where(t => existing.TryGetValue(t.Name, out var count) && count != t.Partitions))
        {
            LogPartitionMismatch(topic.Name, existing[topic.Name], topic.Partitions);
        }

        activity?.SetTag("bidder.kafka.topics_missing", missing.Count);
        if (missing.Count == 0)
        {
            return;
        }

        try
        {
            await CreateAsync(admin, missing.Select(Specification));
        }
        catch (CreateTopicsException ex) when (ex.Results.Any(r => IsRefusedSetting(r.Error.Code))
            && ex.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists || IsRefusedSetting(r.Error.Code)))
        {
            // A managed cluster that takes few topic settings from clients (Azure Event Hubs sets them in its own API):
            // those topics as it allows, with their partitions and, for a compacted one, the policy.
            var refused = ex.Results.Where(r => IsRefusedSetting(r.Error.Code)).ToList();
            LogSettingsRefused(string.Join(", ", refused.Select(r => r.Topic)), refused[0].Error.Reason);
            await CreateAsync(admin, missing.Where(t => refused.Any(r => r.Topic == t.Name)).Select(Essential));
        }

        LogCreated(string.Join(", ", missing.Select(t => $"{t.Name} ({t.Partitions})")));
    }

    /// <summary>Creates the topics; one another service created first is no failure.</summary>
    private static async Task CreateAsync(IAdminClient admin, IEnumerable<TopicSpecification> specifications)
    {
        try
        {
            await admin.CreateTopicsAsync(specifications, new CreateTopicsOptions { RequestTimeout = RequestTimeout });
        }
        catch (CreateTopicsException ex) when (ex.Results.All(r => r.Error.Code is ErrorCode.NoError or ErrorCode.TopicAlreadyExists))
        {
        }
    }

    private static bool IsRefusedSetting(ErrorCode code) => code is ErrorCode.InvalidConfig or ErrorCode.PolicyViolation;

    /// <summary>A topic with only what Bidder cannot do without: its partitions and, for a compacted one, the policy.</summary>
    public static TopicSpecification Essential(TopicOptions topic) => new()
    {
        Name = topic.Name,
        NumPartitions = topic.Partitions,
        ReplicationFactor = -1,
        Configs = topic.Compacted ? new() { ["cleanup.policy"] = "compact" } : null,
    };

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// A topic as created: its partitions, the cluster's replication factor, and the settings Bidder relies on.
    /// <list type="bullet">
    /// <item>Every record keeps the time its producer gave it (<c>CreateTime</c>, whatever the broker's default): the
    /// streamer checks a bid's date against its message's time, which the API sets to the bid's date.</item>
    /// <item>A compacted topic (the item changelog the streamer restores its table from) rolls a segment every hour and
    /// is cleaned once a tenth of it is superseded: Kafka never compacts the segment being written, which by default
    /// rolls only at 1 GiB or after 7 days, so a restore would read every state ever written.</item>
    /// </list>
    /// </summary>
    public static TopicSpecification Specification(TopicOptions topic)
    {
        var specification = Essential(topic);
        specification.Configs = new(specification.Configs ?? []) { ["message.timestamp.type"] = "CreateTime" };
        if (topic.Compacted)
        {
            specification.Configs["segment.ms"] = "3600000";
            specification.Configs["min.cleanable.dirty.ratio"] = "0.1";
        }

        return specification;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cluster refused the topic settings of {Topics} ({Reason}); created with their partitions (and compaction) only. Set their timestamps to CreateTime, and a compacted topic's segments to roll often, where the cluster takes topic settings.")]
    private partial void LogSettingsRefused(string topics, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created Kafka topics: {Topics}.")]
    private partial void LogCreated(string topics);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Topic {Topic} has {Actual} partitions, not the configured {Configured}: per-item ordering holds, but co-partitioning with the other topics may not.")]
    private partial void LogPartitionMismatch(string topic, int actual, int configured);
}

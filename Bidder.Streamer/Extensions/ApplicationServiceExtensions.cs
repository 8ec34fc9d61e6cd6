using Bidder.Domain;
using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Bidder.Streamer.Pipeline;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddBidderStorage();
        builder.AddBidderTopics();

        builder.Services.AddOptions<StreamerOptions>()
            .BindConfiguration(StreamerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.AddKafkaConsumer<string, byte[]>(KafkaTopicsInitializer.ConnectionName,
            settings =>
            {
                settings.Config.GroupId ??= BidPipeline.ConsumerGroup;
                // Offsets are committed by the pipeline, only once a batch is durable everywhere.
                settings.Config.EnableAutoCommit = false;
                settings.Config.AutoOffsetReset = AutoOffsetReset.Earliest;
                // A streamer that dies without leaving the group holds its partitions until this runs out.
                settings.Config.SessionTimeoutMs ??= 10_000;
                settings.Config.HeartbeatIntervalMs ??= 2_000;
                // Incremental rebalancing: a replica joining or leaving moves only the partitions that change
                // owner; the others keep flowing, with their tables, instead of all stopping and restoring.
                settings.Config.PartitionAssignmentStrategy ??= PartitionAssignmentStrategy.CooperativeSticky;
                // Bids fetched ahead of the loop: a batch is some 0.3 MB, so 8 MB keeps some 25 batches fetched. librdkafka's
                // default, 64 MB, was held whole by a streamer behind its topic; 16 MB put its peak at 280-296 MB in the scale
                // benchmark, 8 MB at 264-266, at the same rate (BENCHMARKS.md, scale: peak memory).
                settings.Config.QueuedMaxMessagesKbytes ??= 8 * 1024;
            },
            (services, consumer) => services.GetRequiredService<PartitionAssignments>().Handle(consumer));

        // Rejects and item states are in Kafka before a batch's offsets are committed: acks=all, idempotent.
        builder.AddKafkaProducer<string, byte[]>(KafkaTopicsInitializer.ConnectionName, settings =>
        {
            settings.Config.Acks = Acks.All;
            settings.Config.EnableIdempotence = true;
            settings.Config.LingerMs ??= 5;
            // Changelog and auctions records go where the item's bids are (ItemPartitioner): the API's rule.
            settings.Config.Partitioner = Partitioner.ConsistentRandom;
            // Only whether each record was written: the pipeline reads nothing else of a delivery report, and with the
            // default ("all") each report copied the record's headers back from librdkafka (BENCHMARKS.md, pipeline).
            settings.Config.DeliveryReportFields ??= "status";
        });

        builder.Services.AddSingleton<ItemTable>();
        builder.Services.AddSingleton<ChangelogRestorer>();
        builder.Services.AddSingleton<PartitionAssignments>();
        builder.Services.AddSingleton<StreamerMetrics>();
        builder.Services.AddSingleton<PipelineStages>();
        builder.Services.AddSingleton<PipelineHealth>();
        builder.Services.AddSingleton<PipelineMonitor>();
        builder.Services.AddOptions<BidCeilingOptions>().BindConfiguration(BidCeilingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(services => new BidRules(services.GetRequiredService<IOptions<BidCeilingOptions>>().Value.MaxBidValue));
        builder.Services.AddSingleton<BatchProcessor>();
        builder.Services.AddSingleton<AuctionCloser>();
        builder.Services.AddHostedService<BidPipeline>();
        builder.Services.AddHealthChecks().AddCheck<PipelineHealth>("pipeline", tags: ["ready"]);

        return builder;
    }
}

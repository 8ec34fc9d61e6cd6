using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Confluent.Kafka;

namespace Bidder.Streamer.Extensions;

internal static class ApplicationServiceExtensions
{
    /// <summary>The consumer group of the streamer; the original Faust app was called "bids-streamer".</summary>
    public const string ConsumerGroup = "bids-streamer";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddBidderStorage();
        builder.AddBidderTopics();

        builder.AddKafkaConsumer<string, byte[]>(KafkaTopicsInitializer.ConnectionName, settings =>
        {
            settings.Config.GroupId ??= ConsumerGroup;
            // Offsets are committed by the pipeline, only once a batch is durable everywhere.
            settings.Config.EnableAutoCommit = false;
            settings.Config.AutoOffsetReset = AutoOffsetReset.Earliest;
        });

        return builder;
    }
}

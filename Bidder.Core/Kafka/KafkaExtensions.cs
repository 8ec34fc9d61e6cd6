using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Bidder.Core.Kafka;

public static class KafkaExtensions
{
    /// <summary>The topic settings, validated at start-up, and the initializer that creates missing topics.</summary>
    public static IHostApplicationBuilder AddBidderTopics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<KafkaTopicsOptions>()
            .BindConfiguration(KafkaTopicsOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => o.All.Select(t => t.Name).Distinct().Count() == o.All.Count(), "The topic names must differ.")
            .Validate(o => o.Bids.Partitions == o.ItemChangelog.Partitions, "bids and item-changelog must have the same partition count (co-partitioned).")
            .ValidateOnStart();
        builder.Services.AddHostedService<KafkaTopicsInitializer>();
        return builder;
    }
}

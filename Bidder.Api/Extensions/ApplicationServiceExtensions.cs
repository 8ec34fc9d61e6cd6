using System.Text.Json;
using System.Text.Json.Serialization;
using Bidder.Api.Background;
using Bidder.Api.Identity;
using Bidder.Api.Kafka;
using Bidder.Api.Live;
using Bidder.Domain;
using Bidder.Core.Live;
using Bidder.Core.Http;
using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Confluent.Kafka;
using Scalar.AspNetCore;

namespace Bidder.Api.Extensions;

internal static class ApplicationServiceExtensions
{
    public static WebApplicationBuilder AddApplicationServices(this WebApplicationBuilder builder)
    {
        builder.AddBidderStorage();
        builder.AddBidderTopics();
        builder.AddCallerAuthentication();
        builder.AddHttpLimits();

        // A bid gets its 202 only once Kafka holds it: every in-sync replica acknowledged it, and the
        // idempotent producer means a retried send is never written twice. A bid Kafka cannot take within
        // the message timeout fails the request (503) instead of waiting on.
        builder.AddKafkaProducer<string, byte[]>(KafkaTopicsInitializer.ConnectionName, settings =>
        {
            settings.Config.Acks = Acks.All;
            settings.Config.EnableIdempotence = true;
            // librdkafka's default: a bid waits up to 5 ms for others to share its produce request. At 2 ms the
            // requests were so many that the broker's work per bid held the API back (ingest 0.43-0.49 -> 0.59-0.66;
            // a bid's p50 under light load 3 -> 7 ms: BENCHMARKS.md, issue 16).
            settings.Config.LingerMs ??= 5;
            settings.Config.MessageTimeoutMs ??= 10_000;
            // Said rather than assumed: the streamer finds an item's partition (to close it) by the same rule,
            // CRC-32 of the key (ItemPartitioner), which is librdkafka's default for keyed messages.
            settings.Config.Partitioner = Partitioner.ConsistentRandom;
        }, (services, producer) =>
        {
            // Resolved once: the handler runs on librdkafka's thread, also while the provider is disposed at shutdown.
            var errors = services.GetRequiredService<FatalProducerErrors>();
            producer.SetErrorHandler((_, error) => errors.Observe(error));
        });
        builder.Services.AddSingleton<FatalProducerErrors>();
        builder.Services.AddSingleton<BidPublisher>();

        // The live streams: every replica reads the item topics by assignment from their end, for its own subscribers.
        builder.AddKafkaConsumer<string, byte[]>(KafkaTopicsInitializer.ConnectionName, settings =>
        {
            settings.Config.GroupId ??= "bidder-api-live";
            settings.Config.EnableAutoCommit = false;
            settings.Config.EnableAutoOffsetStore = false;
        });
        builder.Services.AddOptions<LiveOptions>().BindConfiguration(LiveOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<LiveHub>();
        builder.Services.AddHostedService<LiveFeed>();
        builder.Services.AddHostedService<IdempotencyKeyPruner>();
        builder.Services.AddOptions<BidCeilingOptions>().BindConfiguration(BidCeilingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        // The original system's JSON: snake_case names and lower-case enum values.
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            // Numbers are numbers: the web default also accepts "12.5" strings, which the API refuses.
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        });

        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddOpenApi(options => options.Describe());
        return builder;
    }

    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Unknown routes, wrong methods, 401 and 403 get a problem document too, not an empty body.
        app.UseStatusCodePages();
        app.UseCallerAuthentication();
        app.Use((context, next) =>
        {
            // The bidder's id on the request span, so a trace shows whose request it was; never the token or an email.
            if (context.User.UserId() is { } userId)
            {
                System.Diagnostics.Activity.Current?.SetTag("user.id", userId.ToString());
            }

            return next(context);
        });
        app.UseRateLimiter();
        app.UseAuthorization();
        return app;
    }

    /// <summary>The OpenAPI document at /openapi/v1.json and the Scalar explorer at /scalar.</summary>
    public static WebApplication MapApiExplorer(this WebApplication app)
    {
        if (app.Environment.IsDevelopment() || app.Configuration.GetValue<bool>("Bidder:ApiExplorer"))
        {
            app.MapOpenApi();
            app.MapScalarApiReference(options => options.WithTitle("Bidder API"));
            // The original system's documentation page (FastAPI's /docs): the explorer is Scalar's now.
            app.MapGet("/docs", () => TypedResults.Redirect("/scalar/")).ExcludeFromDescription();
        }

        return app;
    }
}

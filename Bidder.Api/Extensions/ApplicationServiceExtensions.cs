using Bidder.Core.Kafka;
using Bidder.Core.Storage;
using Confluent.Kafka;
using Scalar.AspNetCore;

namespace Bidder.Api.Extensions;

internal static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddBidderStorage();
        builder.AddBidderTopics();

        // A bid gets its 202 only once Kafka holds it: every in-sync replica acknowledged it, and the
        // idempotent producer means a retried send is never written twice.
        builder.AddKafkaProducer<string, byte[]>(KafkaTopicsInitializer.ConnectionName, settings =>
        {
            settings.Config.Acks = Acks.All;
            settings.Config.EnableIdempotence = true;
            settings.Config.LingerMs ??= 2;
        });

        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>The OpenAPI document at /openapi/v1.json and the Scalar explorer at /scalar.</summary>
    public static WebApplication MapApiExplorer(this WebApplication app)
    {
        if (app.Environment.IsDevelopment() || app.Configuration.GetValue<bool>("Bidder:ApiExplorer"))
        {
            app.MapOpenApi();
            app.MapScalarApiReference(options => options.WithTitle("Bidder API"));
        }

        return app;
    }
}

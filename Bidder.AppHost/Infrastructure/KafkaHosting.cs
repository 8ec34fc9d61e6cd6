// The Kafka container resource, written to mirror Aspire.Hosting.Kafka (not served by this package
// source): same type and method names, image, endpoints, environment and connection-string format, so
// that referencing the official package and deleting this file is the whole migration.
using Aspire.Hosting.ApplicationModel;
using Bidder.ServiceDefaults.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Aspire.Hosting;

/// <summary>A Kafka broker (KRaft, single node) in a container.</summary>
public class KafkaServerResource(string name) : ContainerResource(name), IResourceWithConnectionString, IResourceWithEnvironment
{
    /// <summary>The endpoint host processes use.</summary>
    internal const string PrimaryEndpointName = "tcp";

    /// <summary>The endpoint other containers use.</summary>
    internal const string InternalEndpointName = "internal";

    private EndpointReference? _primaryEndpoint;
    private EndpointReference? _internalEndpoint;

    // Each named for the network it is used from. Unnamed, a reference resolves on its caller's default network, and
    // the broker's own environment (its advertised listeners) is resolved with the broker, a container, as the
    // caller: the host's endpoint then gave the container's port, not the one the host maps to it.
    public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName, KnownNetworkIdentifiers.LocalhostNetwork);

    public EndpointReference InternalEndpoint => _internalEndpoint ??= new(this, InternalEndpointName, KnownNetworkIdentifiers.DefaultAspireContainerNetwork);

    public EndpointReferenceExpression Host => PrimaryEndpoint.Property(EndpointProperty.Host);

    public EndpointReferenceExpression Port => PrimaryEndpoint.Property(EndpointProperty.Port);

    /// <summary><c>{host}:{port}</c>: the bootstrap servers.</summary>
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}");

    /// <summary>The parts of the connection, as Aspire's own resources offer them (<c>Host</c>, <c>Port</c>).</summary>
    IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
    [
        new("Host", ReferenceExpression.Create($"{Host}")),
        new("Port", ReferenceExpression.Create($"{Port}")),
    ];
}

/// <summary>
/// Kafka UI (kafbat/kafka-ui: the maintained fork of provectuslabs/kafka-ui, which had no release since 2023; the
/// image Aspire.Hosting.Kafka moved to as well, configured alike), a web view of the brokers it is given: topics,
/// messages, consumer groups.
/// </summary>
public class KafkaUIContainerResource(string name) : ContainerResource(name)
{
    internal const string PrimaryEndpointName = "http";
}

public static class KafkaBuilderExtensions
{
    internal const string Registry = "docker.io";
    internal const string Image = "confluentinc/confluent-local";
    internal const string Tag = "7.9.0";

    private const int KafkaBrokerPort = 9092;
    private const int KafkaInternalBrokerPort = 9093;
    private const string DataTarget = "/var/lib/kafka/data";

    public static IResourceBuilder<KafkaServerResource> AddKafka(this IDistributedApplicationBuilder builder, [ResourceName] string name, int? port = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var kafka = new KafkaServerResource(name);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(kafka, async (_, ct) =>
            connectionString = await kafka.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));

        var healthCheckKey = $"{name}_check";
        var healthCheck = new Lazy<KafkaHealthCheck>(() =>
            new KafkaHealthCheck(connectionString ?? throw new InvalidOperationException("Connection string is unavailable")));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => healthCheck.Value,
            failureStatus: default,
            tags: default));

        return builder.AddResource(kafka)
            .WithEndpoint(targetPort: KafkaBrokerPort, port: port, name: KafkaServerResource.PrimaryEndpointName)
            .WithEndpoint(targetPort: KafkaInternalBrokerPort, name: KafkaServerResource.InternalEndpointName)
            .WithImage(Image, Tag)
            .WithImageRegistry(Registry)
            .WithEnvironment(context => ConfigureKafkaContainer(context, kafka))
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>
    /// Adds Kafka UI for this broker, as Aspire.Hosting.Kafka's <c>WithKafkaUI</c> does: one container for
    /// the app (more brokers join it as further clusters), reading the broker over the container network,
    /// left out of the manifest (a developer's tool, not something to deploy).
    /// </summary>
    public static IResourceBuilder<KafkaServerResource> WithKafkaUI(this IResourceBuilder<KafkaServerResource> builder, Action<IResourceBuilder<KafkaUIContainerResource>>? configure = null, string? containerName = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var applicationBuilder = builder.ApplicationBuilder;
        var ui = applicationBuilder.Resources.OfType<KafkaUIContainerResource>().SingleOrDefault();
        IResourceBuilder<KafkaUIContainerResource> uiBuilder;
        if (ui is null)
        {
            uiBuilder = applicationBuilder.AddResource(new KafkaUIContainerResource(containerName ?? $"{builder.Resource.Name}-kafka-ui"))
                .WithImage(KafkaUIImage, KafkaUITag)
                .WithImageRegistry(Registry)
                .WithHttpEndpoint(targetPort: KafkaUIPort, name: KafkaUIContainerResource.PrimaryEndpointName)
                .WithParentRelationship(builder)
                .ExcludeFromManifest();
        }
        else
        {
            uiBuilder = applicationBuilder.CreateResourceBuilder(ui);
        }

        var index = applicationBuilder.Resources.OfType<KafkaServerResource>().ToList().IndexOf(builder.Resource);
        var broker = builder.Resource;
        uiBuilder.WithEnvironment(context =>
        {
            context.EnvironmentVariables[$"KAFKA_CLUSTERS_{index}_NAME"] = broker.Name;
            context.EnvironmentVariables[$"KAFKA_CLUSTERS_{index}_BOOTSTRAPSERVERS"] =
                ReferenceExpression.Create($"{broker.Name}:{broker.InternalEndpoint.Property(EndpointProperty.TargetPort)}");
        });
        configure?.Invoke(uiBuilder);
        return builder;
    }

    internal const string KafkaUIImage = "kafbat/kafka-ui";
    internal const string KafkaUITag = "v1.3.0";
    private const int KafkaUIPort = 8080;

    /// <summary>Keeps the broker's log directory in a named volume across runs.</summary>
    public static IResourceBuilder<KafkaServerResource> WithDataVolume(this IResourceBuilder<KafkaServerResource> builder, string? name = null, bool isReadOnly = false)
    {
        ArgumentNullException.ThrowIfNull(builder);

        return builder
            .WithEnvironment(context => context.EnvironmentVariables["KAFKA_LOG_DIRS"] = DataTarget)
            .WithVolume(name ?? VolumeNameGenerator.Generate(builder, "data"), DataTarget, isReadOnly);
    }

    private static void ConfigureKafkaContainer(EnvironmentCallbackContext context, KafkaServerResource resource)
    {
        // confluent-local starts a KRaft broker with its own defaults; these add a listener for the host
        // (PLAINTEXT_HOST, the published port) and one for other containers (PLAINTEXT_INTERNAL).
        context.EnvironmentVariables["KAFKA_LISTENERS"] =
            $"PLAINTEXT://localhost:29092,CONTROLLER://localhost:29093,PLAINTEXT_HOST://0.0.0.0:{KafkaBrokerPort},PLAINTEXT_INTERNAL://0.0.0.0:{KafkaInternalBrokerPort}";
        context.EnvironmentVariables["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] =
            "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT,PLAINTEXT_INTERNAL:PLAINTEXT";

        var primary = resource.PrimaryEndpoint;
        var internalEndpoint = resource.InternalEndpoint;
        context.EnvironmentVariables["KAFKA_ADVERTISED_LISTENERS"] = context.ExecutionContext.IsRunMode
            ? ReferenceExpression.Create($"PLAINTEXT://localhost:29092,PLAINTEXT_HOST://localhost:{primary.Property(EndpointProperty.Port)},PLAINTEXT_INTERNAL://{resource.Name}:{internalEndpoint.Property(EndpointProperty.TargetPort)}")
            : ReferenceExpression.Create($"PLAINTEXT://{primary.Property(EndpointProperty.Host)}:29092,PLAINTEXT_HOST://{primary.Property(EndpointProperty.HostAndPort)},PLAINTEXT_INTERNAL://{internalEndpoint.Property(EndpointProperty.HostAndPort)}");
    }
}

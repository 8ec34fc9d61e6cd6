using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Bidder.Core.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bidder.AppHost.Infrastructure;

/// <summary>
/// Kafka and the database in the chosen <see cref="InfrastructureMode"/>, so that Program.cs reads the
/// same whatever runs underneath.
/// </summary>
public sealed class BidderInfrastructure
{
    private readonly IDistributedApplicationBuilder _builder;

    private BidderInfrastructure(IDistributedApplicationBuilder builder, InfrastructureChoice choice, KafkaTopicsOptions topics)
    {
        _builder = builder;
        Choice = choice;
        Topics = topics;
    }

    public InfrastructureChoice Choice { get; }

    public InfrastructureMode Mode => Choice.Mode;

    public KafkaTopicsOptions Topics { get; }

    /// <summary>How many streamer processes share the bid partitions (<c>Bidder:Streamer:Replicas</c>).</summary>
    public int StreamerReplicas => _builder.Configuration.GetValue("Bidder:Streamer:Replicas", 1) is var n && n >= 1
        ? n
        : throw new InvalidOperationException("'Bidder:Streamer:Replicas' must be 1 or more.");

    public static BidderInfrastructure Create(IDistributedApplicationBuilder builder)
    {
        var choice = InfrastructureChoice.Resolve(builder);
        var topics = new KafkaTopicsOptions();
        builder.Configuration.GetSection(KafkaTopicsOptions.SectionName).Bind(topics);

        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Bidder.AppHost")
                .LogInformation("Infrastructure mode: {Mode} ({Reason}).", choice.Mode.ToString().ToLowerInvariant(), choice.Reason);
            return Task.CompletedTask;
        });

        return new BidderInfrastructure(builder, choice, topics);
    }

    public IResourceBuilder<IResourceWithConnectionString> AddKafka(string name) => Mode switch
    {
        InfrastructureMode.Containers => _builder.AddKafka(name).WithDataVolume().WithKafkaUI(),
        InfrastructureMode.Embedded => _builder.AddEmbeddedKafka(name, Topics),
        _ => RequireExternal(name, "the bootstrap servers of your Kafka cluster, e.g. broker1:9092,broker2:9092"),
    };

    public IResourceBuilder<IResourceWithConnectionString> AddDatabase(string name, string databaseName) => Mode switch
    {
        InfrastructureMode.Containers => _builder.AddMongoDB("mongo").WithDataVolume().WithMongoExpress().AddDatabase(name, databaseName),
        InfrastructureMode.Embedded => _builder.AddEmbeddedSqlite(name),
        _ => RequireExternal(name, $"a MongoDB URL naming the database, e.g. mongodb://user:pass@host:27017/{databaseName}?authSource=admin"),
    };

    /// <summary>Passes the topic names and partition counts on, so every service agrees with the broker.</summary>
    public IResourceBuilder<T> ConfigureTopics<T>(IResourceBuilder<T> service) where T : IResourceWithEnvironment
    {
        foreach (var (key, topic) in new[] { ("Bids", Topics.Bids), ("InvalidBids", Topics.InvalidBids), ("ItemChangelog", Topics.ItemChangelog), ("Auctions", Topics.Auctions) })
        {
            var prefix = $"{KafkaTopicsOptions.SectionName.Replace(":", "__")}__{key}";
            service.WithEnvironment($"{prefix}__Name", topic.Name)
                .WithEnvironment($"{prefix}__Partitions", topic.Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .WithEnvironment($"{prefix}__Compacted", topic.Compacted ? "true" : "false");
        }

        return service;
    }

    /// <summary>
    /// Wires the identity service, the API and the web app together. The AppHost's own <c>Bidder:Identity</c> and
    /// <c>Bidder:RateLimits</c> settings are passed on (configured in one place). Tokens name the identity service's
    /// URL as their issuer unless <c>Bidder:Identity:Issuer</c> is set (a deployment's public https URL), and the
    /// API trusts that issuer unless <c>Bidder:Identity:Authority</c> names another provider (Keycloak, Entra ID).
    /// When publishing (azd), the identity service signs with a key from the secret parameter
    /// <c>identity-signing-key</c> (an RSA private key, PEM), so tokens survive restarts and replicas agree.
    /// </summary>
    public void ConfigureIdentity(IResourceBuilder<ProjectResource> identity, IResourceBuilder<ProjectResource> api, IResourceBuilder<ProjectResource> web)
    {
        // Passed on, a secret set as a plain setting would reach the manifest as text, and not the web app: it is a parameter.
        if (_builder.Configuration["Bidder:RateLimits:WebCallerKey"] is not null)
        {
            throw new InvalidOperationException("Set the web app's caller key as the parameter 'Parameters:web-caller-key', not as 'Bidder:RateLimits:WebCallerKey'.");
        }

        PassOn(identity, "Bidder:Identity");
        PassOn(identity, "Bidder:RateLimits");
        PassOn(api, "Bidder:RateLimits");
        PassOn(api, "Bidder:Live");

        var issuer = _builder.Configuration["Bidder:Identity:Issuer"];
        if (string.IsNullOrWhiteSpace(issuer))
        {
            identity.WithEnvironment("Bidder__Identity__Issuer", identity.GetEndpoint("http"));
        }

        // A registered user's Location is on the API.
        identity.WithEnvironment("Bidder__Identity__ApiUrl", api.GetEndpoint("http"));

        // The API and the web app trust the same provider: the one named, else the issuer, else the identity service.
        var named = _builder.Configuration["Bidder:Identity:Authority"] is { Length: > 0 } provider ? provider : null;
        var authority = named ?? (!string.IsNullOrWhiteSpace(issuer) ? issuer : null);
        if (named is null)
        {
            // Bidder's own identity service signs people in to the web app: it checks the web app's caller proofs on
            // the sign-in exchanges (another provider would not, and should not be sent the visitors' addresses).
            web.WithEnvironment("Bidder__Web__ProveSignInCallers", "true");
        }

        if (authority is not null)
        {
            api.WithEnvironment("Bidder__Identity__Authority", authority);
            web.WithEnvironment("Bidder__Web__Authority", authority);
        }
        else
        {
            api.WithEnvironment("Bidder__Identity__Authority", identity.GetEndpoint("http"));
            web.WithEnvironment("Bidder__Web__Authority", identity.GetEndpoint("http"));
        }

        // The web app signs in as bidder-web: the identity service sends codes only to where the web app really
        // answers (its port may be chosen at start, as in tests), unless the settings name the addresses.
        if (_builder.Configuration.GetSection("Bidder:Identity:WebRedirectUris").GetChildren().Any() is false)
        {
            identity.WithEnvironment("Bidder__Identity__WebRedirectUris__0", ReferenceExpression.Create($"{web.GetEndpoint("http")}/signin-oidc"));
        }

        if (_builder.Configuration.GetSection("Bidder:Identity:WebPostLogoutRedirectUris").GetChildren().Any() is false)
        {
            identity.WithEnvironment("Bidder__Identity__WebPostLogoutRedirectUris__0", ReferenceExpression.Create($"{web.GetEndpoint("http")}/signout-callback-oidc"));
        }

        if (_builder.Configuration["Bidder:Identity:Audience"] is { Length: > 0 } audience)
        {
            api.WithEnvironment("Bidder__Identity__Audience", audience);
        }

        if (_builder.ExecutionContext.IsPublishMode)
        {
            identity.WithEnvironment("Bidder__Identity__SigningKey", _builder.AddParameter("identity-signing-key", secret: true));
            // (Aspire publishes every project with ASPNETCORE_FORWARDEDHEADERS_ENABLED: behind Container Apps' ingress
            // the web app builds its sign-in callback from the forwarded scheme, and the per-address limits count
            // each client rather than the ingress. ManifestTests checks it.)
        }
    }

    /// <summary>
    /// Passes the AppHost's own settings of a section (e.g. <c>Bidder:RateLimits</c> in its appsettings or on its
    /// command line) on to a service as environment variables, so limits are configured in one place.
    /// </summary>
    public IResourceBuilder<T> PassOn<T>(IResourceBuilder<T> service, string section) where T : IResourceWithEnvironment
    {
        foreach (var (key, value) in _builder.Configuration.GetSection(section).AsEnumerable())
        {
            if (value is not null)
            {
                service.WithEnvironment(key.Replace(":", "__"), value);
            }
        }

        return service;
    }

    private IResourceBuilder<IResourceWithConnectionString> RequireExternal(string name, string expected)
    {
        // Publishing needs no value: the manifest names a secret connection string, which azd asks for at deployment.
        if (!_builder.ExecutionContext.IsPublishMode && string.IsNullOrWhiteSpace(_builder.Configuration.GetConnectionString(name)))
        {
            throw new InvalidOperationException(
                $"{InfrastructureChoice.SettingName} is 'external' but 'ConnectionStrings:{name}' is not set: give {expected}.");
        }

        return _builder.AddConnectionString(name);
    }
}

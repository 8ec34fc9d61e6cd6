// The MongoDB container resource, written to mirror Aspire.Hosting.MongoDB (not served by this package
// source): same type and method names, image, endpoint, environment and connection-string format, so
// that referencing the official package and deleting this file is the whole migration.
using Aspire.Hosting.ApplicationModel;
using Bidder.ServiceDefaults.MongoDB;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Driver;

namespace Aspire.Hosting.ApplicationModel
{
    /// <summary>A MongoDB server in a container.</summary>
    public class MongoDBServerResource(string name, ParameterResource? userNameParameter, ParameterResource? passwordParameter)
        : ContainerResource(name), IResourceWithConnectionString
    {
        internal const string PrimaryEndpointName = "tcp";
        private const string DefaultUserName = "admin";

        private readonly Dictionary<string, string> _databases = new(StringComparer.OrdinalIgnoreCase);
        private EndpointReference? _primaryEndpoint;

        public EndpointReference PrimaryEndpoint => _primaryEndpoint ??= new(this, PrimaryEndpointName);

        public ParameterResource? UserNameParameter { get; } = userNameParameter;

        public ParameterResource? PasswordParameter { get; } = passwordParameter;

        public ReferenceExpression UserNameReference => UserNameParameter is not null
            ? ReferenceExpression.Create($"{UserNameParameter}")
            : ReferenceExpression.Create($"{DefaultUserName}");

        /// <summary><c>mongodb://{user}:{password}@{host}:{port}?authSource=admin&amp;authMechanism=SCRAM-SHA-256</c></summary>
        public ReferenceExpression ConnectionStringExpression => BuildConnectionString();

        /// <summary>The parts of the connection, as Aspire's own resources offer them.</summary>
        IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() => ConnectionProperties();

        internal IEnumerable<KeyValuePair<string, ReferenceExpression>> ConnectionProperties(string? databaseName = null)
        {
            yield return new("Host", ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Host)}"));
            yield return new("Port", ReferenceExpression.Create($"{PrimaryEndpoint.Property(EndpointProperty.Port)}"));
            yield return new("UserName", UserNameReference);
            if (PasswordParameter is not null)
            {
                yield return new("Password", ReferenceExpression.Create($"{PasswordParameter}"));
            }

            if (databaseName is not null)
            {
                yield return new("DatabaseName", ReferenceExpression.Create($"{databaseName}"));
            }

            yield return new("Uri", BuildConnectionString(databaseName));
        }

        /// <summary>Resource name to database name.</summary>
        public IReadOnlyDictionary<string, string> Databases => _databases;

        internal void AddDatabase(string name, string databaseName) => _databases.TryAdd(name, databaseName);

        internal ReferenceExpression BuildConnectionString(string? databaseName = null)
        {
            var builder = new ReferenceExpressionBuilder();
            builder.AppendLiteral("mongodb://");
            if (PasswordParameter is not null)
            {
                if (UserNameParameter is not null)
                {
                    builder.Append($"{UserNameParameter:uri}");
                }
                else
                {
                    builder.AppendLiteral(DefaultUserName);
                }

                builder.Append($":{PasswordParameter:uri}@");
            }

            builder.Append($"{PrimaryEndpoint.Property(EndpointProperty.HostAndPort)}");
            if (databaseName is not null)
            {
                builder.AppendLiteral("/");
                builder.AppendLiteral(Uri.EscapeDataString(databaseName));
            }

            if (PasswordParameter is not null)
            {
                builder.AppendLiteral("?authSource=admin&authMechanism=SCRAM-SHA-256");
            }

            return builder.Build();
        }
    }

    /// <summary>Mongo Express, a web view of one MongoDB server's databases and documents.</summary>
    public class MongoExpressContainerResource(string name) : ContainerResource(name)
    {
        internal const string PrimaryEndpointName = "http";
    }

    /// <summary>A database on a <see cref="MongoDBServerResource"/>; its connection string names the database.</summary>
    public class MongoDBDatabaseResource(string name, string databaseName, MongoDBServerResource parent)
        : Resource(name), IResourceWithParent<MongoDBServerResource>, IResourceWithConnectionString
    {
        public MongoDBServerResource Parent { get; } = parent;

        public string DatabaseName { get; } = databaseName;

        public ReferenceExpression ConnectionStringExpression => Parent.BuildConnectionString(DatabaseName);

        /// <summary>The server's connection properties, with this database's name and URI.</summary>
        IEnumerable<KeyValuePair<string, ReferenceExpression>> IResourceWithConnectionString.GetConnectionProperties() =>
            Parent.ConnectionProperties(DatabaseName);
    }
}

namespace Aspire.Hosting
{
    public static class MongoDBBuilderExtensions
    {
        internal const string Registry = "docker.io";
        internal const string Image = "library/mongo";
        internal const string Tag = "8.0";

        private const int DefaultContainerPort = 27017;
        private const string DataTarget = "/data/db";

        public static IResourceBuilder<MongoDBServerResource> AddMongoDB(
            this IDistributedApplicationBuilder builder,
            [ResourceName] string name,
            int? port = null,
            IResourceBuilder<ParameterResource>? userName = null,
            IResourceBuilder<ParameterResource>? password = null)
        {
            ArgumentNullException.ThrowIfNull(builder);
            ArgumentException.ThrowIfNullOrEmpty(name);

            var passwordParameter = password?.Resource
                ?? ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
            var mongo = new MongoDBServerResource(name, userName?.Resource, passwordParameter);

            string? connectionString = null;
            builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(mongo, async (_, ct) =>
                connectionString = await mongo.ConnectionStringExpression.GetValueAsync(ct).ConfigureAwait(false));

            var healthCheckKey = $"{name}_check";
            var healthCheck = new Lazy<MongoDBHealthCheck>(() =>
                new MongoDBHealthCheck(new MongoClient(connectionString ?? throw new InvalidOperationException("Connection string is unavailable"))));
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                healthCheckKey,
                _ => healthCheck.Value,
                failureStatus: default,
                tags: default));

            return builder.AddResource(mongo)
                .WithEndpoint(port: port, targetPort: DefaultContainerPort, name: MongoDBServerResource.PrimaryEndpointName)
                .WithImage(Image, Tag)
                .WithImageRegistry(Registry)
                .WithEnvironment(context =>
                {
                    context.EnvironmentVariables["MONGO_INITDB_ROOT_USERNAME"] = mongo.UserNameReference;
                    context.EnvironmentVariables["MONGO_INITDB_ROOT_PASSWORD"] = mongo.PasswordParameter!;
                })
                .WithHealthCheck(healthCheckKey);
        }

        public static IResourceBuilder<MongoDBDatabaseResource> AddDatabase(
            this IResourceBuilder<MongoDBServerResource> builder, [ResourceName] string name, string? databaseName = null)
        {
            ArgumentNullException.ThrowIfNull(builder);
            ArgumentException.ThrowIfNullOrEmpty(name);

            databaseName ??= name;
            builder.Resource.AddDatabase(name, databaseName);
            return builder.ApplicationBuilder.AddResource(new MongoDBDatabaseResource(name, databaseName, builder.Resource));
        }

        /// <summary>
        /// Adds Mongo Express for this server, as Aspire.Hosting.MongoDB's <c>WithMongoExpress</c> does: it reads
        /// the server over the container network with the server's own credentials, and is left out of the
        /// manifest (a developer's tool, not something to deploy).
        /// </summary>
        public static IResourceBuilder<MongoDBServerResource> WithMongoExpress(
            this IResourceBuilder<MongoDBServerResource> builder, Action<IResourceBuilder<MongoExpressContainerResource>>? configure = null, string? containerName = null)
        {
            ArgumentNullException.ThrowIfNull(builder);
            var mongo = builder.Resource;
            var express = builder.ApplicationBuilder.AddResource(new MongoExpressContainerResource(containerName ?? $"{mongo.Name}-mongoexpress"))
                .WithImage(MongoExpressImage, MongoExpressTag)
                .WithImageRegistry(Registry)
                .WithHttpEndpoint(targetPort: MongoExpressPort, name: MongoExpressContainerResource.PrimaryEndpointName)
                .WithEnvironment(context =>
                {
                    context.EnvironmentVariables["ME_CONFIG_MONGODB_SERVER"] = mongo.Name;
                    context.EnvironmentVariables["ME_CONFIG_MONGODB_PORT"] = DefaultContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
                    context.EnvironmentVariables["ME_CONFIG_MONGODB_ADMINUSERNAME"] = mongo.UserNameReference;
                    context.EnvironmentVariables["ME_CONFIG_MONGODB_ADMINPASSWORD"] = mongo.PasswordParameter!;
                    // Mongo Express's own login is off: the dashboard is the way in, on this machine only.
                    context.EnvironmentVariables["ME_CONFIG_BASICAUTH"] = "false";
                })
                .WithParentRelationship(builder)
                .WaitFor(builder)
                .ExcludeFromManifest();
            configure?.Invoke(express);
            return builder;
        }

        internal const string MongoExpressImage = "library/mongo-express";
        internal const string MongoExpressTag = "1.0";
        private const int MongoExpressPort = 8081;

        /// <summary>Keeps the server's data directory in a named volume across runs.</summary>
        public static IResourceBuilder<MongoDBServerResource> WithDataVolume(
            this IResourceBuilder<MongoDBServerResource> builder, string? name = null, bool isReadOnly = false)
        {
            ArgumentNullException.ThrowIfNull(builder);
            return builder.WithVolume(name ?? VolumeNameGenerator.Generate(builder, "data"), DataTarget, isReadOnly);
        }
    }
}

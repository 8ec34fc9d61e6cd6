using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bidder.AppHost.Infrastructure;

/// <summary>
/// The embedded database: one SQLite file, in a fresh folder for each run, shared by the API and the
/// streamer (the services open it in WAL mode and create the schema). The folder is removed when the
/// AppHost stops, like the embedded broker's in-memory data.
/// </summary>
public sealed class EmbeddedSqliteResource(string name, string databasePath) : Resource(name), IResourceWithConnectionString
{
    public string DatabasePath { get; } = databasePath;

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"Data Source={DatabasePath}");
}

public static class EmbeddedSqliteBuilderExtensions
{
    public static IResourceBuilder<EmbeddedSqliteResource> AddEmbeddedSqlite(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), "bidder", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..24]);
        var resource = new EmbeddedSqliteResource(name, Path.Combine(folder, "bidder.db"));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddCheck(healthCheckKey, () => Directory.Exists(folder)
            ? HealthCheckResult.Healthy(resource.DatabasePath)
            : HealthCheckResult.Unhealthy($"The database folder {folder} is missing."));

        builder.Eventing.Subscribe<InitializeResourceEvent>(resource, async (e, ct) =>
        {
            Directory.CreateDirectory(folder);
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(() => DeleteQuietly(folder));
            e.Logger.LogInformation("Embedded database (SQLite, WAL) at {Path}; it is removed when the AppHost stops.", resource.DatabasePath);
            await e.Notifications.PublishUpdateAsync(resource, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                Properties = [.. s.Properties, new("sqlite.path", resource.DatabasePath)],
            });
        });

        return builder.AddResource(resource)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "EmbeddedSqlite",
                State = KnownResourceStates.NotStarted,
                Properties = [new(CustomResourceKnownProperties.Source, "SQLite")],
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    private static void DeleteQuietly(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A service still closing the file; the OS temp cleaner takes what is left.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

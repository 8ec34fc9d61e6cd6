using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bidder.Core.Storage;

/// <summary>
/// Creates the schema (SQLite) or indexes (MongoDB) before the service takes work. A database that is not
/// up yet is waited for, with a warning every attempt, rather than failing the start.
/// </summary>
public sealed partial class StorageInitializer(IBidderStore store, ILogger<StorageInitializer> logger) : IHostedService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.InitializeAsync(cancellationToken);
                return;
            }
            catch (StorageUnavailableException ex)
            {
                LogNotReady(ex, attempt, RetryDelay.TotalSeconds);
                await Task.Delay(RetryDelay, cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database is not ready (attempt {Attempt}); retrying in {Seconds} s.")]
    private partial void LogNotReady(Exception exception, int attempt, double seconds);
}

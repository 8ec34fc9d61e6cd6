using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bidder.Core.Storage;

/// <summary>
/// Creates the schema (SQLite) or indexes (MongoDB) before the service takes work. A database that is not
/// up yet is waited for, with a warning every attempt, rather than failing the start; one that refuses the
/// configuration (authentication, permissions, conflicting indexes) fails the start at once. The account store,
/// where one is registered, comes after the bidder store: its accounts are created with their users, whose table
/// the bidder store makes. A host that registers none (the parameter's default) starts as before.
/// </summary>
public sealed partial class StorageInitializer(IBidderStore store, ILogger<StorageInitializer> logger, IAccountStore? accounts = null) : IHostedService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Both are idempotent, so a retry after the second failed runs the first again harmlessly.
                await store.InitializeAsync(cancellationToken);
                if (accounts is not null)
                {
                    await accounts.InitializeAsync(cancellationToken);
                }

                return;
            }
            catch (StorageUnavailableException ex)
            {
                LogNotReady(ex, attempt, RetryDelay.TotalSeconds);
                await Task.Delay(RetryDelay, cancellationToken);
            }
            catch (StorageConfigurationException ex)
            {
                // Credentials, permissions or an existing index the database will never accept: stop the start-up
                // (the process exits non-zero) with the database's own words, rather than retrying forever.
                LogMisconfigured(ex, ex.Message);
                throw;
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Critical, Message = "The database cannot be used as configured; stopping. {Reason}")]
    private partial void LogMisconfigured(Exception exception, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database is not ready (attempt {Attempt}); retrying in {Seconds} s.")]
    private partial void LogNotReady(Exception exception, int attempt, double seconds);
}

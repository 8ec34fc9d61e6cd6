using Bidder.Domain;
using Bidder.Core.Storage;

namespace Bidder.Api.Background;

/// <summary>
/// Forgets idempotency keys past their lifetime (<see cref="IdempotencyRecord.Lifetime"/>), once an hour,
/// so the table does not grow with every bid ever posted. MongoDB's TTL index does the same on its own;
/// deleting there too is harmless. A failed round is logged and tried again at the next one.
/// </summary>
public sealed partial class IdempotencyKeyPruner(IIdempotencyKeys store, TimeProvider time, ILogger<IdempotencyKeyPruner> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                var deleted = await store.DeleteIdempotencyKeysAsync(time.GetUtcNow() - IdempotencyRecord.Lifetime, stoppingToken);
                if (deleted > 0)
                {
                    LogPruned(deleted);
                }
            }
            catch (StorageUnavailableException ex)
            {
                LogPruneFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Forgot {Count} idempotency key(s) past their lifetime.")]
    private partial void LogPruned(long count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pruning idempotency keys failed ({Reason}); trying again at the next round.")]
    private partial void LogPruneFailed(string reason);
}

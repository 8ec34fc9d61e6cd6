using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bidder.Core.Storage;

/// <summary>
/// Deletes, once an hour (and at start), what a store keeps only for a while, so its table does not grow with
/// everything ever written. MongoDB's TTL indexes do the same on their own; deleting there too is harmless. A failed
/// round, whatever the failure, is logged and tried again at the next one.
/// </summary>
public abstract partial class HourlyPruner(TimeProvider time, ILogger logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    /// <summary>What is forgotten, for the log: "idempotency key(s) past their lifetime".</summary>
    protected abstract string What { get; }

    /// <summary>Deletes what is past keeping at <paramref name="now"/>; how many were deleted.</summary>
    protected abstract Task<long> PruneAsync(DateTimeOffset now, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                var deleted = await PruneAsync(time.GetUtcNow(), stoppingToken);
                if (deleted > 0)
                {
                    LogPruned(deleted, What);
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever the cause (the database away, refused, or anything else), a round that fails is no reason to
                // stop the service: the rows wait for the next one.
                LogPruneFailed(What, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Forgot {Count} {What}.")]
    private partial void LogPruned(long count, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forgetting {What} failed ({Reason}); trying again at the next round.")]
    private partial void LogPruneFailed(string what, string reason);
}

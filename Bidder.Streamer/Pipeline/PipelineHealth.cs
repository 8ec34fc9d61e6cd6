using System.Collections.Concurrent;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Pipeline;

/// <summary>What can hold the pipeline up, each reported and cleared on its own.</summary>
public enum PipelineProblem
{
    /// <summary>Batches fail (database or Kafka unreachable) and are being retried.</summary>
    Batch,

    /// <summary>Polling the bids topic fails.</summary>
    Consume,

    /// <summary>An assigned partition's item table could not be restored from the changelog yet.</summary>
    Restore,

    /// <summary>Closing the auctions that have ended fails (database or Kafka unreachable) and is being retried.</summary>
    Close,
}

/// <summary>
/// Degraded while something holds the pipeline up and is being retried; Unhealthy once it has for longer
/// than <see cref="StreamerOptions.UnhealthyAfter"/>. The process stays up and keeps retrying; the health
/// endpoint (and so the dashboard) tells the operator, so no stall is silent.
/// </summary>
public sealed class PipelineHealth(TimeProvider time, IOptions<StreamerOptions> options) : IHealthCheck
{
    private readonly ConcurrentDictionary<PipelineProblem, (DateTimeOffset Since, string Error)> _problems = new();

    public void Succeeded(PipelineProblem problem = PipelineProblem.Batch) => _problems.TryRemove(problem, out _);

    public void Failed(Exception error) => Failed(PipelineProblem.Batch, error.Message);

    public void Failed(PipelineProblem problem, string error) =>
        _problems.AddOrUpdate(problem, _ => (time.GetUtcNow(), error), (_, known) => (known.Since, error));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var problems = _problems.ToArray();
        if (problems.Length == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy());
        }

        var now = time.GetUtcNow();
        var longest = problems.MaxBy(p => now - p.Value.Since);
        var failingFor = now - longest.Value.Since;
        var what = string.Join("; ", problems.Select(p => $"{Describe(p.Key)}: {p.Value.Error}"));
        return Task.FromResult(failingFor < options.Value.UnhealthyAfter
            ? HealthCheckResult.Degraded($"Retrying. {what}")
            : HealthCheckResult.Unhealthy($"No progress for {failingFor.TotalSeconds:0} s. {what}"));
    }

    private static string Describe(PipelineProblem problem) => problem switch
    {
        PipelineProblem.Batch => "a batch failed",
        PipelineProblem.Consume => "polling bids failed",
        PipelineProblem.Restore => "restoring the item table failed",
        PipelineProblem.Close => "closing ended auctions failed",
        _ => problem.ToString(),
    };
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bidder.Streamer.Pipeline;

/// <summary>
/// Unhealthy while the pipeline cannot make progress: batches have been failing (database or Kafka
/// unreachable) for longer than <see cref="StreamerOptions.UnhealthyAfter"/>. The process stays up and
/// keeps retrying; the health endpoint tells the operator.
/// </summary>
public sealed class PipelineHealth(TimeProvider time, IOptions<StreamerOptions> options) : IHealthCheck
{
    private long _failingSinceTicks;
    private string? _lastError;

    public void Succeeded() => Interlocked.Exchange(ref _failingSinceTicks, 0);

    public void Failed(Exception error)
    {
        _lastError = error.Message;
        Interlocked.CompareExchange(ref _failingSinceTicks, time.GetUtcNow().UtcTicks, 0);
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var since = Interlocked.Read(ref _failingSinceTicks);
        if (since == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy());
        }

        var failingFor = time.GetUtcNow() - new DateTimeOffset(since, TimeSpan.Zero);
        return Task.FromResult(failingFor < options.Value.UnhealthyAfter
            ? HealthCheckResult.Degraded($"Retrying a failed batch: {_lastError}")
            : HealthCheckResult.Unhealthy($"No progress for {failingFor.TotalSeconds:0} s: {_lastError}"));
    }
}

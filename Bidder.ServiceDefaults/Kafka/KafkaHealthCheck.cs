using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>
/// Healthy when the cluster answers a metadata request over the client's own connections. It reads
/// metadata rather than producing a probe message so that it works on any cluster, the embedded
/// one (which has no Admin API) included, and writes nothing.
/// </summary>
public sealed class KafkaHealthCheck : IHealthCheck, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly Lazy<IAdminClient> _admin;

    /// <summary>Checks through an existing client's connections.</summary>
    public KafkaHealthCheck(Handle clientHandle) =>
        _admin = new Lazy<IAdminClient>(() => new DependentAdminClientBuilder(clientHandle).Build());

    /// <summary>Checks with a client of its own (for hosts that have no client of their own).</summary>
    public KafkaHealthCheck(string bootstrapServers) =>
        _admin = new Lazy<IAdminClient>(() =>
            new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers, LogConnectionClose = false })
                .SetLogHandler(static (_, _) => { })
                .Build());

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // GetMetadata blocks; keep it off the caller's thread.
            var metadata = await Task.Run(() => _admin.Value.GetMetadata(Timeout), cancellationToken);
            return metadata.Brokers.Count > 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s), {metadata.Topics.Count} topic(s)")
                : new HealthCheckResult(context.Registration.FailureStatus, "The cluster reported no brokers.");
        }
        catch (KafkaException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Kafka did not answer: {ex.Error.Reason}", ex);
        }
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }
    }
}

using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bidder.ServiceDefaults.Kafka;

/// <summary>
/// Healthy when the cluster answers a metadata request over the client's own connections and every broker it
/// lists answers at the address it advertises. It reads metadata rather than producing a probe message so that it
/// works on any cluster, the embedded one (which has no Admin API) included, and writes nothing. The second half
/// matters because the bootstrap connection answers metadata whatever the brokers advertise: a broker that
/// advertises an address its clients cannot reach (a container's own port instead of the one the host maps to it)
/// looked healthy while every produce and every topic creation, which go to the advertised leaders, failed.
/// </summary>
public sealed class KafkaHealthCheck : IHealthCheck, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
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
            if (metadata.Brokers.Count == 0)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "The cluster reported no brokers.");
            }

            var unreachable = await UnreachableAsync(metadata.Brokers.Select(b => (b.Host, b.Port)), cancellationToken);
            return unreachable.Count == 0
                ? HealthCheckResult.Healthy($"{metadata.Brokers.Count} broker(s), {metadata.Topics.Count} topic(s)")
                : new HealthCheckResult(context.Registration.FailureStatus,
                    $"The cluster answered, but its brokers advertise {string.Join(", ", unreachable)}, which do(es) not answer from here: check the brokers' advertised listeners.");
        }
        catch (KafkaException ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Kafka did not answer: {ex.Error.Reason}", ex);
        }
    }

    /// <summary>
    /// The addresses among <paramref name="brokers"/> that take no TCP connection: none of the host's addresses (each
    /// tried for <see cref="ConnectTimeout"/>, as librdkafka tries the next when one does not answer) connects.
    /// </summary>
    public static async Task<IReadOnlyList<string>> UnreachableAsync(IEnumerable<(string Host, int Port)> brokers, CancellationToken cancellationToken)
    {
        var checks = brokers.Select(async broker =>
            await AnswersAsync(broker.Host, broker.Port, cancellationToken) ? null : $"{broker.Host}:{broker.Port}");
        return [.. (await Task.WhenAll(checks)).OfType<string>()];
    }

    private static async Task<bool> AnswersAsync(string host, int port, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        }
        catch (SocketException)
        {
            return false;
        }

        foreach (var address in addresses)
        {
            using var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            connecting.CancelAfter(ConnectTimeout);
            try
            {
                using var connection = new TcpClient(address.AddressFamily);
                await connection.ConnectAsync(address, port, connecting.Token);
                return true;
            }
            catch (Exception ex) when (ex is SocketException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }
        }

        return false;
    }

    public void Dispose()
    {
        if (_admin.IsValueCreated)
        {
            _admin.Value.Dispose();
        }
    }
}

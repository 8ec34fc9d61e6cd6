using System.Runtime.InteropServices;
using System.Text;

namespace Bidder.EmbeddedKafka;

/// <summary>
/// librdkafka's in-process mock Kafka cluster: a real Kafka wire-protocol endpoint on 127.0.0.1 that any
/// process can reach, without a JVM or a container. It keeps its data in memory for the life of this object.
/// </summary>
/// <remarks>
/// The mock cluster has no Admin API, so topics are created here, through the mock API, before any
/// client uses them (otherwise they auto-create with 4 partitions). It also injects faults: request
/// errors, a broker going down, added latency. Those are what the fault tests use.
/// </remarks>
public sealed class MockKafkaCluster : IDisposable
{
    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private readonly Lock _gate = new();
    private bool _disposed;

    public MockKafkaCluster(int brokerCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);

        var errors = new byte[512];
        var conf = MockClusterNative.rd_kafka_conf_new();
        // The handle only anchors the cluster's threads: keep it quiet and stop it from connecting anywhere.
        MockClusterNative.rd_kafka_conf_set(conf, "log_level", "3", errors, (nuint)errors.Length);
        _handle = MockClusterNative.rd_kafka_new(MockClusterNative.ProducerType, conf, errors, (nuint)errors.Length);
        if (_handle == IntPtr.Zero)
        {
            throw new InvalidOperationException($"librdkafka could not create a handle for the mock cluster: {Decode(errors)}");
        }

        _cluster = MockClusterNative.rd_kafka_mock_cluster_new(_handle, brokerCount);
        if (_cluster == IntPtr.Zero)
        {
            MockClusterNative.rd_kafka_destroy(_handle);
            throw new InvalidOperationException("librdkafka could not start a mock cluster.");
        }

        BrokerCount = brokerCount;
        BootstrapServers = Marshal.PtrToStringUTF8(MockClusterNative.rd_kafka_mock_cluster_bootstraps(_cluster))
            ?? throw new InvalidOperationException("The mock cluster reported no bootstrap servers.");
    }

    /// <summary>The <c>host:port[,host:port]</c> list clients connect to.</summary>
    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    public void CreateTopic(string name, int partitions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        Check(MockClusterNative.rd_kafka_mock_topic_create(Cluster(), name, partitions, Math.Min(BrokerCount, 3)), $"create topic '{name}'");
    }

    /// <summary>Takes a broker (1-based id) off the network: its connections drop and new ones are refused.</summary>
    public void SetBrokerDown(int brokerId = 1) =>
        Check(MockClusterNative.rd_kafka_mock_broker_set_down(Cluster(), brokerId), $"set broker {brokerId} down");

    public void SetBrokerUp(int brokerId = 1) =>
        Check(MockClusterNative.rd_kafka_mock_broker_set_up(Cluster(), brokerId), $"set broker {brokerId} up");

    /// <summary>Adds a round-trip delay to every request a broker answers.</summary>
    public void SetBrokerRoundTrip(TimeSpan rtt, int brokerId = 1) =>
        Check(MockClusterNative.rd_kafka_mock_broker_set_rtt(Cluster(), brokerId, (int)rtt.TotalMilliseconds), $"set broker {brokerId} rtt");

    /// <summary>Makes the next requests of one Kafka API fail with the given error codes, one per request.</summary>
    public void PushRequestErrors(KafkaApi api, params Confluent.Kafka.ErrorCode[] errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var codes = errors.Select(e => (int)e).ToArray();
        MockClusterNative.rd_kafka_mock_push_request_errors_array(Cluster(), (short)api, (nuint)codes.Length, codes);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            MockClusterNative.rd_kafka_mock_cluster_destroy(_cluster);
            MockClusterNative.rd_kafka_destroy(_handle);
        }
    }

    private IntPtr Cluster()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _cluster;
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            var text = Marshal.PtrToStringUTF8(MockClusterNative.rd_kafka_err2str(error));
            throw new InvalidOperationException($"Mock cluster could not {what}: {text} ({error}).");
        }
    }

    private static string Decode(byte[] buffer)
    {
        var length = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, length < 0 ? buffer.Length : length);
    }
}

/// <summary>Kafka protocol API keys, for request-error injection.</summary>
public enum KafkaApi : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
    InitProducerId = 22,
}

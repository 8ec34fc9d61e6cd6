using System.Runtime.InteropServices;

namespace Bidder.EmbeddedKafka;

/// <summary>The part of librdkafka's C API (rdkafka.h, rdkafka_mock.h) that the embedded broker needs.</summary>
internal static partial class MockClusterNative
{
    private const string Lib = "librdkafka";
    public const int ProducerType = 0;

    // An explicit static constructor runs before the first call into this class, so the resolver
    // is in place before any of the imports below is bound.
    static MockClusterNative() =>
        NativeLibrary.SetDllImportResolver(typeof(MockClusterNative).Assembly, LibrdkafkaNative.Resolve);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, nuint errstrSize);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, nuint errstrSize);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);

    [LibraryImport(Lib)]
    public static partial int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);

    [LibraryImport(Lib)]
    public static partial void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, nuint count, int[] errors);

    [LibraryImport(Lib)]
    public static partial IntPtr rd_kafka_err2str(int err);
}

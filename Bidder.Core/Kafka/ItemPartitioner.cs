using System.IO.Hashing;
using System.Text;

namespace Bidder.Core.Kafka;

/// <summary>
/// The partition an item's messages go to: CRC-32 of the key (the item id as text) modulo the partition
/// count, which is what librdkafka's default partitioner (consistent_random) does with a keyed message, and
/// what the API's producer is configured to use. The streamer needs it for the one thing no message tells
/// it: which auctions without any bid are its own to close.
/// </summary>
public static class ItemPartitioner
{
    public static int Partition(Guid itemId, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitionCount, 1);
        Span<byte> key = stackalloc byte[36];
        Encoding.ASCII.GetBytes(itemId.ToString(), key);
        return (int)(Crc32.HashToUInt32(key) % (uint)partitionCount);
    }
}
